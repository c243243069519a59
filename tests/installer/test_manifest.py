"""The manifest catches every changed, missing or added file."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.errors import BundleError
from installer.manifest import MANIFEST_FILE, verify, write_manifest


def _bundle(root: Path) -> Path:
    (root / "wheels").mkdir(parents=True)
    (root / "wheels" / "x.whl").write_bytes(b"wheel")
    (root / "ca.crt").write_text("ca")
    write_manifest(root, {"format": "tar", "os": "linux", "version": "1"})
    return root


def test_an_intact_bundle_verifies(tmp_path: Path) -> None:
    found = verify(_bundle(tmp_path))
    assert sorted(found.files) == ["ca.crt", "wheels/x.whl"]
    assert found.info["os"] == "linux"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda r: (r / "wheels" / "x.whl").write_bytes(b"evil"),
            "checksum mismatch: wheels/x.whl",
        ),
        (lambda r: (r / "ca.crt").unlink(), "missing: ca.crt"),
        (lambda r: (r / "extra.sh").write_text("x"), "not in the manifest: extra.sh"),
    ],
)
def test_any_change_is_named(tmp_path: Path, change, expected: str) -> None:
    root = _bundle(tmp_path)
    change(root)
    with pytest.raises(BundleError, match=expected):
        verify(root)


def test_no_manifest_is_not_a_bundle(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_FILE).unlink(missing_ok=True)
    with pytest.raises(BundleError, match="not a Parc bundle"):
        verify(tmp_path)
