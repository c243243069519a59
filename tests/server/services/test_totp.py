"""TOTP against the RFC 6238 (SHA-1) test vectors, the window, replay, provisioning URIs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from server.services import totp

RFC_SEED = base64.b32encode(b"12345678901234567890").decode()

# RFC 6238 appendix B, SHA-1 column (8 digits).
VECTORS = [
    (59, 0x0000000000000001, "94287082"),
    (1111111109, 0x00000000023523EC, "07081804"),
    (1111111111, 0x00000000023523ED, "14050471"),
    (1234567890, 0x000000000273EF07, "89005924"),
    (2000000000, 0x0000000003F940AA, "69279037"),
    (20000000000, 0x0000000027BC86AA, "65353130"),
]


@pytest.mark.parametrize(("unix", "counter", "expected"), VECTORS)
def test_rfc6238_vectors(unix: int, counter: int, expected: str) -> None:
    when = datetime.fromtimestamp(unix, UTC)
    assert totp.counter_at(when) == counter
    assert totp.code_at(RFC_SEED, when, digits=8) == expected
    assert totp.code_at(RFC_SEED, when) == expected[-6:]


def test_rfc4226_hotp_vectors() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922"]
    assert [totp.hotp(b"12345678901234567890", c) for c in range(7)] == expected


def test_verify_accepts_one_step_either_side_only() -> None:
    now = datetime.fromtimestamp(1111111111, UTC)
    step = totp.counter_at(now)
    key = totp.secret_bytes(RFC_SEED)
    assert totp.verify(RFC_SEED, totp.hotp(key, step), now, None) == step
    assert totp.verify(RFC_SEED, totp.hotp(key, step - 1), now, None) == step - 1
    assert totp.verify(RFC_SEED, totp.hotp(key, step + 1), now, None) == step + 1
    assert totp.verify(RFC_SEED, totp.hotp(key, step - 2), now, None) is None
    assert totp.verify(RFC_SEED, totp.hotp(key, step + 2), now, None) is None


def test_verify_refuses_replay_and_older_codes() -> None:
    now = datetime.fromtimestamp(1234567890, UTC)
    code = totp.code_at(RFC_SEED, now)
    counter = totp.verify(RFC_SEED, code, now, None)
    assert counter is not None
    assert totp.verify(RFC_SEED, code, now, counter) is None
    previous = totp.hotp(totp.secret_bytes(RFC_SEED), counter - 1)
    assert totp.verify(RFC_SEED, previous, now, counter) is None
    assert totp.verify(RFC_SEED, code, now, counter - 1) == counter


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_verify_refuses_malformed_codes(code: str) -> None:
    assert totp.verify(RFC_SEED, code, datetime.fromtimestamp(59, UTC), None) is None


def test_new_secret_is_160_bits_of_base32() -> None:
    first, second = totp.new_secret(), totp.new_secret()
    assert first != second
    assert len(totp.secret_bytes(first)) == 20


def test_provisioning_uri() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "alice@example")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Parc%3Aalice%40example"
    query = parse_qs(parts.query)
    assert query["secret"] == ["JBSWY3DPEHPK3PXP"]
    assert query["issuer"] == ["Parc"]
    assert (query["digits"], query["period"], query["algorithm"]) == (["6"], ["30"], ["SHA1"])
