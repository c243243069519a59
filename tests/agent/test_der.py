"""The minimal DER reader agrees with `cryptography` on serials and validity."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.der import DerError, pem_to_der, serial_and_validity
from agent.identity import IdentityError, certificate_info
from tests.agent.pki import ThrowawayCA

KEY = ec.generate_private_key(ec.SECP256R1())


def make_cert(serial: int, not_before: dt.datetime, not_after: dt.datetime) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(KEY, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_matches_cryptography_for_issued_certificates(ca: ThrowawayCA) -> None:
    for pem in (ca.cert_pem, ca.server_cert_pem):
        expected = x509.load_pem_x509_certificate(pem)
        serial, not_before, not_after = serial_and_validity(pem_to_der(pem))
        assert serial == expected.serial_number
        assert not_before == expected.not_valid_before_utc
        assert not_after == expected.not_valid_after_utc


@settings(max_examples=25, deadline=None)
@given(
    serial=st.integers(min_value=1, max_value=2**159 - 1),
    start=st.datetimes(min_value=dt.datetime(1951, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    days=st.integers(min_value=1, max_value=40_000),
)
def test_utc_and_generalized_times(serial: int, start: dt.datetime, days: int) -> None:
    not_before = start.replace(microsecond=0, tzinfo=dt.UTC)
    not_after = not_before + dt.timedelta(days=days)
    info = certificate_info(make_cert(serial, not_before, not_after))
    assert info.serial_hex == format(serial, "x")
    assert (info.not_before, info.not_after) == (not_before, not_after)


@pytest.mark.parametrize(
    "pem",
    [
        b"",
        b"garbage",
        b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
    ],
)
def test_garbage_is_a_clear_error(pem: bytes) -> None:
    with pytest.raises(IdentityError):
        certificate_info(pem)


@given(st.binary(max_size=200))
def test_random_der_never_crashes(data: bytes) -> None:
    with contextlib.suppress(DerError):
        serial_and_validity(data)
