"""The CA, the server certificate, the signing key and device certificate issuance."""

from __future__ import annotations

import ipaddress
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server.pki import (
    CertificateAuthority,
    PkiPaths,
    default_hostnames,
    init_pki,
    load_server_credentials_material,
)
from server.services.errors import AlreadyExists, InvalidArgument, NotFound
from tests.server.pki.csrs import csr_der, greedy_csr_der, new_key, tampered_csr_der

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEVICE_ID = "0b7c2f7e-6f1e-4d4b-9a53-5f3c1f0e2a11"


def load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def snapshot(paths: PkiPaths) -> dict[str, tuple[bytes, int]]:
    return {
        path.name: (path.read_bytes(), path.stat().st_mtime_ns)
        for path in paths.directory.iterdir()
    }


def test_init_writes_private_keys_readable_by_owner_only(pki_paths: PkiPaths) -> None:
    assert stat.S_IMODE(pki_paths.directory.stat().st_mode) == 0o700
    for key in (pki_paths.ca_key, pki_paths.server_key, pki_paths.signing_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key.name
    for public in (
        pki_paths.ca_certificate,
        pki_paths.server_certificate,
        pki_paths.signing_public_key,
    ):
        assert stat.S_IMODE(public.stat().st_mode) & 0o077 == 0o044, public.name


def test_ca_certificate_is_a_p256_ca_for_ten_years(pki_paths: PkiPaths) -> None:
    ca = load_certificate(pki_paths.ca_certificate)
    assert ca.subject.rfc4514_string() == "CN=Parc collector CA"
    assert ca.issuer == ca.subject
    public_key = ca.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP256R1)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca is True
    assert constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    lifetime = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert timedelta(days=3640) < lifetime < timedelta(days=3660)
    ca.verify_directly_issued_by(ca)


def test_server_certificate_names_each_host_and_is_for_servers(tmp_path: Path) -> None:
    paths = PkiPaths.from_data_dir(tmp_path)
    init_pki(paths, ["localhost", "127.0.0.1", "::1", "collector.example", "localhost"])
    server = load_certificate(paths.server_certificate)
    server.verify_directly_issued_by(load_certificate(paths.ca_certificate))
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "collector.example"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    constraints = server.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is False
    lifetime = server.not_valid_after_utc - server.not_valid_before_utc
    assert timedelta(days=720) < lifetime < timedelta(days=740)


def test_init_twice_refuses_and_changes_nothing(pki_paths: PkiPaths) -> None:
    before = snapshot(pki_paths)
    with pytest.raises(AlreadyExists):
        init_pki(pki_paths, ["localhost"])
    assert snapshot(pki_paths) == before


def test_init_refuses_if_any_single_file_exists_before_writing(tmp_path: Path) -> None:
    paths = PkiPaths.from_data_dir(tmp_path)
    paths.directory.mkdir()
    paths.signing_public_key.write_bytes(b"left over")
    with pytest.raises(AlreadyExists, match=r"signing\.pub"):
        init_pki(paths, ["localhost"])
    assert sorted(path.name for path in paths.directory.iterdir()) == ["signing.pub"]


def test_init_needs_a_host_name(tmp_path: Path) -> None:
    paths = PkiPaths.from_data_dir(tmp_path)
    with pytest.raises(InvalidArgument):
        init_pki(paths, [])
    assert not paths.directory.exists() or not any(paths.directory.iterdir())


def test_signing_key_is_ed25519_and_its_public_half_is_published(
    pki_paths: PkiPaths, ca: CertificateAuthority
) -> None:
    private = serialization.load_pem_private_key(pki_paths.signing_key.read_bytes(), None)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert len(ca.signing_public_key) == 32
    assert ca.signing_public_key == raw


def test_server_credentials_material_is_the_files(pki_paths: PkiPaths) -> None:
    key, certificate, ca_certificate = load_server_credentials_material(pki_paths)
    assert key == pki_paths.server_key.read_bytes()
    assert certificate == pki_paths.server_certificate.read_bytes()
    assert ca_certificate == pki_paths.ca_certificate.read_bytes()
    assert b"PRIVATE KEY" in key


def test_loading_a_missing_pki_says_so(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="parc-server init"):
        CertificateAuthority.load(PkiPaths.from_data_dir(tmp_path))


def test_default_hostnames_cover_loopback() -> None:
    names = default_hostnames()
    assert names[:3] == ["localhost", "127.0.0.1", "::1"]
    assert len(names) == len(set(names))


def test_device_certificate_subject_is_only_the_device_id(
    pki_paths: PkiPaths, ca: CertificateAuthority
) -> None:
    key = new_key()
    issued = ca.issue_device_certificate(DEVICE_ID, greedy_csr_der(key), timedelta(days=30), NOW)
    certificate = x509.load_pem_x509_certificate(issued.certificate_pem.encode())
    assert certificate.subject == x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DEVICE_ID)])
    assert certificate.public_key() == key.public_key()
    with pytest.raises(x509.ExtensionNotFound):
        certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca is False
    assert constraints.critical
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert not usage.key_cert_sign
    extended = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(extended) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert {extension.oid for extension in certificate.extensions} == {
        x509.oid.ExtensionOID.BASIC_CONSTRAINTS,
        x509.oid.ExtensionOID.KEY_USAGE,
        x509.oid.ExtensionOID.EXTENDED_KEY_USAGE,
        x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    }
    ca_certificate = load_certificate(pki_paths.ca_certificate)
    certificate.verify_directly_issued_by(ca_certificate)
    ca_ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest


def test_device_certificate_validity_and_serial(ca: CertificateAuthority) -> None:
    issued = ca.issue_device_certificate(DEVICE_ID, csr_der(new_key()), timedelta(days=30), NOW)
    certificate = x509.load_pem_x509_certificate(issued.certificate_pem.encode())
    assert issued.serial == certificate.serial_number
    assert issued.not_before == NOW - timedelta(minutes=5) == certificate.not_valid_before_utc
    assert issued.not_after == NOW + timedelta(days=30) == certificate.not_valid_after_utc
    other = ca.issue_device_certificate(DEVICE_ID, csr_der(new_key()), timedelta(days=30), NOW)
    assert other.serial != issued.serial


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(ec.generate_private_key(ec.SECP384R1()), id="ec-p384"),
        pytest.param(ed25519.Ed25519PrivateKey.generate(), id="ed25519"),
        pytest.param(rsa.generate_private_key(65537, 2048), id="rsa-2048"),
    ],
)
def test_accepted_key_types(
    ca: CertificateAuthority,
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
) -> None:
    issued = ca.issue_device_certificate(DEVICE_ID, csr_der(key), timedelta(days=1), NOW)
    certificate = x509.load_pem_x509_certificate(issued.certificate_pem.encode())
    assert certificate.public_key() == key.public_key()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        pytest.param(ec.generate_private_key(ec.SECP521R1()), "secp521r1", id="ec-p521"),
        pytest.param(
            rsa.generate_private_key(65537, 1024),  # noqa: S505 - deliberately too weak
            "1024 bits",
            id="rsa-1024",
        ),
    ],
)
def test_refused_key_types(
    ca: CertificateAuthority,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    message: str,
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        ca.issue_device_certificate(DEVICE_ID, csr_der(key), timedelta(days=1), NOW)


@pytest.mark.parametrize(
    ("der", "message"),
    [
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"\x30\x03\x02\x01\x00", "not a valid", id="not-a-csr"),
        pytest.param(b"\x30" * 20000, "exceeds", id="oversized"),
    ],
)
def test_malformed_csr_is_refused(ca: CertificateAuthority, der: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        ca.issue_device_certificate(DEVICE_ID, der, timedelta(days=1), NOW)


def test_csr_with_a_bad_signature_is_refused(ca: CertificateAuthority) -> None:
    with pytest.raises(InvalidArgument, match="signature is invalid"):
        ca.issue_device_certificate(DEVICE_ID, tampered_csr_der(), timedelta(days=1), NOW)
