"""Encryption at rest: the key file, sealing bound to a context, refusal of anything else."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.services.errors import FailedPrecondition
from server.services.secrets import SecretBox, create_key, key_path


def test_key_is_made_on_first_use_private_and_kept(tmp_path: Path) -> None:
    box = SecretBox.for_data_dir(tmp_path)
    path = key_path(tmp_path)
    assert path == tmp_path / "pki" / "secrets.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_bytes()
    sealed = box.seal(b"seed", "user:1:totp")
    again = SecretBox.for_data_dir(tmp_path)
    assert path.read_bytes() == key
    assert again.open(sealed, "user:1:totp") == b"seed"


def test_create_key_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "secrets.key"
    create_key(path)
    with pytest.raises(FileExistsError):
        create_key(path)


def test_sealed_value_hides_the_plaintext_and_differs_each_time(tmp_path: Path) -> None:
    box = SecretBox.for_data_dir(tmp_path)
    first, second = box.seal(b"JBSWY3DPEHPK3PXP", "c"), box.seal(b"JBSWY3DPEHPK3PXP", "c")
    assert first != second
    assert b"JBSWY3DPEHPK3PXP" not in first
    assert "key" in repr(box) and key_path(tmp_path).read_bytes().hex() not in repr(box)


def test_wrong_context_wrong_key_or_tampering_refused(tmp_path: Path) -> None:
    box = SecretBox.for_data_dir(tmp_path / "a")
    other = SecretBox.for_data_dir(tmp_path / "b")
    sealed = box.seal(b"secret", "user:1:totp")
    with pytest.raises(FailedPrecondition):
        box.open(sealed, "user:2:totp")
    with pytest.raises(FailedPrecondition):
        other.open(sealed, "user:1:totp")
    with pytest.raises(FailedPrecondition):
        box.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), "user:1:totp")
    with pytest.raises(FailedPrecondition):
        box.open(b"\x01short", "user:1:totp")


def test_key_of_wrong_length_refused(tmp_path: Path) -> None:
    path = key_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"too short")
    with pytest.raises(FailedPrecondition):
        SecretBox.for_data_dir(tmp_path)
