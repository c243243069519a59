"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): SHA-1, 30 s, 6 digits.

A code is accepted for the current 30-second step and one step either side (clock drift),
and only for a step after the last one accepted for that user: a code, once used, is spent
(replay guard). The caller stores the counter ``verify`` returns.
"""

from __future__ import annotations

import base64
import hmac
import os
import struct
from datetime import datetime
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends for HMAC-SHA-1
ISSUER = "Parc"


def new_secret() -> str:
    """A fresh shared secret, base32 without padding (what authenticator apps read)."""
    return base64.b32encode(os.urandom(SECRET_BYTES)).decode("ascii").rstrip("=")


def secret_bytes(secret: str) -> bytes:
    """The key of a base32 ``secret`` (padding optional, case-insensitive)."""
    text = secret.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226: HMAC-SHA-1 of the 8-byte counter, dynamically truncated, ``digits`` long."""
    mac = HMAC(key, hashes.SHA1())  # noqa: S303 - RFC 4226/6238 mandate SHA-1 here
    mac.update(struct.pack(">Q", counter))
    digest = mac.finalize()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def counter_at(when: datetime) -> int:
    """The RFC 6238 time step containing ``when``."""
    return int(when.timestamp()) // STEP_SECONDS


def code_at(secret: str, when: datetime, digits: int = DIGITS) -> str:
    """The code an authenticator shows at ``when``."""
    return hotp(secret_bytes(secret), counter_at(when), digits)


def verify(secret: str, code: str, when: datetime, last_counter: int | None) -> int | None:
    """The time step ``code`` matches (now ± 1 step, after ``last_counter``), else None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    key = secret_bytes(secret)
    now = counter_at(when)
    matched: int | None = None
    for counter in range(now - WINDOW, now + WINDOW + 1):
        # Compare every candidate (no early exit) so timing says nothing about which matched.
        if hmac.compare_digest(hotp(key, counter), code) and matched is None:
            matched = counter
    if matched is None or (last_counter is not None and matched <= last_counter):
        return None
    return matched


def provisioning_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app reads from a QR code."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        }
    )
    return f"otpauth://totp/{label}?{query}"
