"""scrypt password hashes: round trip, wrong passwords, the stored form, the policy."""

from __future__ import annotations

import pytest

from server.services.errors import InvalidArgument
from server.services.passwords import (
    ScryptParameters,
    check_policy,
    hash_password,
    needs_rehash,
    verify_password,
)

FAST = ScryptParameters(n=2**4, r=8, p=1)


def test_default_hash_records_its_parameters_and_verifies() -> None:
    stored = hash_password("correct horse battery")
    scheme, parameters, salt, digest = stored.split("$")
    assert (scheme, parameters) == ("scrypt", "n=32768,r=8,p=1")
    assert salt and digest
    assert "correct horse battery" not in stored
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert not needs_rehash(stored)


def test_same_password_gets_a_new_salt_each_time() -> None:
    assert hash_password("same password!!", FAST) != hash_password("same password!!", FAST)


def test_hash_made_with_other_parameters_still_verifies_and_asks_for_rehash() -> None:
    stored = hash_password("another password", FAST)
    assert stored.split("$")[1] == "n=16,r=8,p=1"
    assert verify_password("another password", stored)
    assert needs_rehash(stored)


@pytest.mark.parametrize(
    "stored",
    ["", "plain", "scrypt$n=16,r=8,p=1$$", "bcrypt$x$y$z", "scrypt$n=15,r=8,p=1$c2FsdHNhbHQ$AAAA"],
)
def test_malformed_hash_verifies_nothing(stored: str) -> None:
    assert not verify_password("whatever password", stored)


def test_tampered_digest_fails() -> None:
    stored = hash_password("tamper with me", FAST)
    head, digest = stored.rsplit("$", 1)
    flipped = ("B" if digest[0] == "A" else "A") + digest[1:]
    assert not verify_password("tamper with me", f"{head}${flipped}")


@pytest.mark.parametrize("password", ["", "short", "elevenchars"])
def test_policy_refuses_short_passwords(password: str) -> None:
    with pytest.raises(InvalidArgument, match="12"):
        check_policy(password)


def test_policy_accepts_twelve_characters() -> None:
    check_policy("twelve chars")
