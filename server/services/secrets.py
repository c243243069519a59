"""Encryption at rest for secrets the collector must read back (TOTP seeds, later licence keys).

One 256-bit AES-GCM key per collector, in ``DATA/pki/secrets.key`` (mode 0600): made by
``parc-server init`` for a new data folder, and on first use for a folder made before it
existed. A sealed value is ``version byte || 12-byte nonce || ciphertext+tag``; each value is
bound to a *context* (what it is and whose, e.g. ``"user:3:totp"``) as associated data, so a
sealed value copied into another row or column does not open. The key is never logged and
never printed (``repr`` hides it).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.services.errors import FailedPrecondition

KEY_FILE = Path("pki") / "secrets.key"
KEY_BYTES = 32
NONCE_BYTES = 12
VERSION = b"\x01"
_PRIVATE_MODE = 0o600


def key_path(data_dir: Path) -> Path:
    """Where the secrets key of the collector in ``data_dir`` lives."""
    return data_dir / KEY_FILE


def create_key(path: Path) -> None:
    """Write a new random key to ``path`` (mode 0600 from the start); refuse to overwrite."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
    try:
        os.fchmod(descriptor, _PRIVATE_MODE)
        os.write(descriptor, AESGCM.generate_key(bit_length=8 * KEY_BYTES))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class SecretBox:
    """Seals and opens small secrets with the collector's key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise FailedPrecondition("the secrets key must be 32 bytes")
        self._aead = AESGCM(key)
        self._key = key

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    @classmethod
    def load(cls, path: Path) -> SecretBox:
        """The box of the key in ``path``."""
        try:
            key = path.read_bytes()
        except FileNotFoundError as error:
            raise FailedPrecondition(f"{path} is missing") from error
        if len(key) != KEY_BYTES:
            raise FailedPrecondition(f"{path} is not a secrets key (wrong length)")
        return cls(key)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> SecretBox:
        """The box of the collector in ``data_dir``, making its key on first use."""
        path = key_path(data_dir)
        with contextlib.suppress(FileExistsError):
            create_key(path)
        return cls.load(path)

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose`` (e.g. ``"csrf"``), derived with HKDF-SHA256: other
        keys can be made from the one file without ever exposing it."""
        return HKDF(
            algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode("utf-8")
        ).derive(self._key)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt ``plaintext`` bound to ``context``."""
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode("utf-8"))

    def open(self, sealed: bytes, context: str) -> bytes:
        """Decrypt what ``seal`` made for the same ``context``; refuse anything else."""
        if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != VERSION:
            raise FailedPrecondition("a sealed secret is malformed")
        nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context.encode("utf-8"))
        except InvalidTag as error:
            raise FailedPrecondition(
                "a sealed secret does not open with this collector's key"
            ) from error
