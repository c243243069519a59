"""bench.installer_sizes runs end to end (sizes only, one Python version: quick)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import installer_sizes

pytestmark = pytest.mark.e2e


def test_sizes_for_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sizes.json"
    assert (
        installer_sizes.main(["--python-version", "3.11", "--skip-install", "--json", str(out)])
        == 0
    )
    figures = json.loads(out.read_text())["figures"]
    sizes = {f["name"].split(":")[1].split("(")[0].strip(): f["value"] for f in figures}
    assert set(sizes) == {"deb", "tar", "windows", "macos"}
    assert all(1 < size < 200 for size in sizes.values()), sizes
    assert "bundle size: deb" in capsys.readouterr().out
