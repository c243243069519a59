"""Reading the device identity from a client certificate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from server.pki import CertificateAuthority, peer, peer_identity
from server.pki.peer import PeerIdentityCache
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


def test_the_cache_reads_each_certificate_once(
    ca: CertificateAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = ca.issue_device_certificate(
        DEVICE_ID, csr_der(new_key()), timedelta(days=1), datetime.now(UTC)
    )
    reads: list[bytes | str] = []

    def counting(pem: bytes | str) -> tuple[int, str]:
        reads.append(pem)
        return peer_identity(pem)

    monkeypatch.setattr(peer, "peer_identity", counting)
    cache = PeerIdentityCache()
    for pem in (issued.certificate_pem, issued.certificate_pem.encode(), issued.certificate_pem):
        assert cache(pem) == (issued.serial, DEVICE_ID)
    assert len(reads) == 1


def test_the_cache_tells_certificates_apart_and_forgets_the_oldest(
    ca: CertificateAuthority,
) -> None:
    now = datetime.now(UTC)
    issued = [
        ca.issue_device_certificate(device_id, csr_der(new_key()), timedelta(days=1), now)
        for device_id in (DEVICE_ID, "b6a1e7c2-8d0f-4f3a-9c51-2e7d4a9b0c13", DEVICE_ID)
    ]
    cache = PeerIdentityCache(max_entries=2)
    assert [cache(one.certificate_pem) for one in issued] == [
        peer_identity(one.certificate_pem) for one in issued
    ]
    assert len({serial for serial, _ in map(cache, (one.certificate_pem for one in issued))}) == 3
    assert len(cache) == 2


@pytest.mark.parametrize("pem", [b"not a certificate", "-----BEGIN CERTIFICATE-----\n"])
def test_the_cache_refuses_an_unreadable_certificate_every_time(pem: bytes | str) -> None:
    cache = PeerIdentityCache()
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            cache(pem)
    assert len(cache) == 0
