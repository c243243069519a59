"""Reading the device identity from a client certificate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from server.pki import CertificateAuthority, peer_identity
from server.services.errors import Unauthenticated
from tests.server.pki.csrs import csr_der, new_key

DEVICE_ID = "5d0c3c9e-3f44-4b0e-8a53-0d8f5f7d9b21"


def test_peer_identity_is_serial_and_common_name(ca: CertificateAuthority) -> None:
    issued = ca.issue_device_certificate(
        DEVICE_ID, csr_der(new_key()), timedelta(days=1), datetime.now(UTC)
    )
    assert peer_identity(issued.certificate_pem) == (issued.serial, DEVICE_ID)
    assert peer_identity(issued.certificate_pem.encode()) == (issued.serial, DEVICE_ID)


@pytest.mark.parametrize("pem", [b"", b"not a certificate", "-----BEGIN CERTIFICATE-----\n"])
def test_unreadable_certificate_is_unauthenticated(pem: bytes | str) -> None:
    with pytest.raises(Unauthenticated):
        peer_identity(pem)


def test_certificate_without_common_name_is_unauthenticated() -> None:
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "No CN")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(Unauthenticated, match="common name"):
        peer_identity(certificate.public_bytes(serialization.Encoding.PEM))
