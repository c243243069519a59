"""Password hashing with scrypt: the parameters and salt travel inside the stored string.

Stored form: ``scrypt$n=32768,r=8,p=1$SALT$HASH`` (salt and hash unpadded URL-safe base64).
Reading the parameters back from the string lets them be raised later without invalidating
existing hashes (see ``needs_rehash``).
"""

from __future__ import annotations

import base64
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from server.services.errors import InvalidArgument

SCHEME = "scrypt"
MIN_LENGTH = 12
MAX_LENGTH = 1024  # scrypt reads all of it; refuse megabyte "passwords"
SALT_BYTES = 16
HASH_BYTES = 32


@dataclass(frozen=True)
class ScryptParameters:
    """scrypt's cost: CPU/memory ``n`` (a power of two), block size ``r``, parallelism ``p``."""

    n: int = 2**15
    r: int = 8
    p: int = 1

    def check(self) -> None:
        if self.n < 2 or self.n & (self.n - 1) or self.n > 2**20:
            raise InvalidArgument("scrypt n must be a power of two up to 2**20")
        if not 1 <= self.r <= 32 or not 1 <= self.p <= 16:
            raise InvalidArgument("scrypt r or p out of range")


DEFAULT_PARAMETERS = ScryptParameters()


def check_policy(password: str) -> None:
    """Refuse a password too short (fewer than 12 characters) or absurdly long."""
    if len(password) < MIN_LENGTH:
        raise InvalidArgument(f"a password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise InvalidArgument(f"a password must be at most {MAX_LENGTH} characters long")


def hash_password(password: str, parameters: ScryptParameters = DEFAULT_PARAMETERS) -> str:
    """The stored form of ``password``: a fresh random salt, the parameters, the hash."""
    parameters.check()
    salt = os.urandom(SALT_BYTES)
    digest = _derive(password, salt, parameters)
    return "$".join(
        (
            SCHEME,
            f"n={parameters.n},r={parameters.r},p={parameters.p}",
            _b64(salt),
            _b64(digest),
        )
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; compares in constant time.

    A malformed ``stored`` string verifies nothing (returns False) rather than raising, so a
    damaged row cannot be told apart from a wrong password by the caller.
    """
    try:
        parameters, salt, expected = _parse(stored)
    except ValueError:
        return False
    if len(password) > MAX_LENGTH:
        return False
    return hmac.compare_digest(_derive(password, salt, parameters), expected)


def needs_rehash(stored: str, parameters: ScryptParameters = DEFAULT_PARAMETERS) -> bool:
    """Whether ``stored`` was made with other parameters than ``parameters``."""
    try:
        found, _, _ = _parse(stored)
    except ValueError:
        return True
    return found != parameters


def _derive(password: str, salt: bytes, parameters: ScryptParameters) -> bytes:
    kdf = Scrypt(salt=salt, length=HASH_BYTES, n=parameters.n, r=parameters.r, p=parameters.p)
    return kdf.derive(password.encode("utf-8"))


def _parse(stored: str) -> tuple[ScryptParameters, bytes, bytes]:
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != SCHEME:
        raise ValueError("not a scrypt hash")
    fields = dict(item.partition("=")[::2] for item in parts[1].split(","))
    try:
        parameters = ScryptParameters(n=int(fields["n"]), r=int(fields["r"]), p=int(fields["p"]))
        parameters.check()
    except (KeyError, InvalidArgument) as error:
        raise ValueError("bad scrypt parameters") from error
    salt, digest = _unb64(parts[2]), _unb64(parts[3])
    if len(salt) < 8 or len(digest) != HASH_BYTES:
        raise ValueError("bad scrypt salt or hash")
    return parameters, salt, digest


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError("bad base64") from error
