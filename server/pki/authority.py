"""The collector's certificate authority: creating the PKI and issuing device certificates.

``init_pki`` makes, once, the CA (ECDSA P-256), the collector's TLS server certificate and the
Ed25519 package-signing key. ``CertificateAuthority`` issues short-lived client certificates
to devices from their CSRs; only the CSR's public key is used, the subject is the device id.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server.pki.paths import PkiPaths
from server.services.errors import AlreadyExists, InvalidArgument, NotFound

CA_COMMON_NAME = "Parc collector CA"
SERVER_COMMON_NAME = "Parc collector"
CA_LIFETIME = timedelta(days=3650)
SERVER_LIFETIME = timedelta(days=730)
CLOCK_SKEW = timedelta(minutes=5)
MAX_CSR_BYTES = 16 * 1024
MAX_DEVICE_ID_LENGTH = 64  # the X.509 upper bound for a common name
MIN_RSA_BITS = 2048
ACCEPTED_CURVES = (ec.SECP256R1, ec.SECP384R1)

_PRIVATE_MODE = 0o600
_PUBLIC_MODE = 0o644


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate just issued to a device."""

    serial: int
    certificate_pem: str
    not_before: datetime
    not_after: datetime


def default_hostnames() -> list[str]:
    """The names the server certificate covers unless told otherwise."""
    names = ["localhost", "127.0.0.1", "::1"]
    host = socket.gethostname()
    if host and host not in names:
        names.append(host)
    return names


def init_pki(paths: PkiPaths, hostnames: Sequence[str]) -> None:
    """Create the CA, the server certificate and the package-signing key.

    Refuses with ``AlreadyExists`` when any of the files exists, before writing anything.
    """
    existing = [path.name for path in paths.files() if path.exists()]
    if existing:
        raise AlreadyExists(
            f"PKI already initialised in {paths.directory} ({', '.join(existing)} exists)"
        )
    names = _unique_hostnames(hostnames)
    now = datetime.now(UTC)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_certificate = _build_ca_certificate(ca_key, now)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_certificate = _build_server_certificate(ca_key, ca_certificate, server_key, names, now)
    signing_key = ed25519.Ed25519PrivateKey.generate()

    paths.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths.directory.chmod(0o700)
    _write_new(paths.ca_key, _private_pem(ca_key), _PRIVATE_MODE)
    _write_new(paths.server_key, _private_pem(server_key), _PRIVATE_MODE)
    _write_new(paths.signing_key, _private_pem(signing_key), _PRIVATE_MODE)
    _write_new(paths.ca_certificate, _certificate_pem(ca_certificate), _PUBLIC_MODE)
    _write_new(paths.server_certificate, _certificate_pem(server_certificate), _PUBLIC_MODE)
    _write_new(
        paths.signing_public_key,
        signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        _PUBLIC_MODE,
    )


def load_server_credentials_material(paths: PkiPaths) -> tuple[bytes, bytes, bytes]:
    """Return ``(server key PEM, server certificate PEM, CA certificate PEM)`` for TLS."""
    return (
        _read(paths.server_key),
        _read(paths.server_certificate),
        _read(paths.ca_certificate),
    )


class CertificateAuthority:
    """Issues device client certificates signed by the collector's CA."""

    def __init__(
        self,
        ca_key: ec.EllipticCurvePrivateKey,
        ca_certificate: x509.Certificate,
        signing_public_key: ed25519.Ed25519PublicKey,
    ) -> None:
        self._ca_key = ca_key
        self._ca_certificate = ca_certificate
        self._ca_certificate_pem = _certificate_pem(ca_certificate).decode("ascii")
        self._signing_public_key = signing_public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._ca_key_identifier = x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()
        )

    @classmethod
    def load(cls, paths: PkiPaths) -> CertificateAuthority:
        """Load the CA key and certificate and the signing public key from ``paths``."""
        ca_key = serialization.load_pem_private_key(_read(paths.ca_key), password=None)
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
            raise InvalidArgument(f"{paths.ca_key} is not an ECDSA private key")
        ca_certificate = x509.load_pem_x509_certificate(_read(paths.ca_certificate))
        signing_public_key = serialization.load_pem_public_key(_read(paths.signing_public_key))
        if not isinstance(signing_public_key, ed25519.Ed25519PublicKey):
            raise InvalidArgument(f"{paths.signing_public_key} is not an Ed25519 public key")
        return cls(ca_key, ca_certificate, signing_public_key)

    @property
    def ca_certificate_pem(self) -> str:
        """The CA certificate agents trust, PEM."""
        return self._ca_certificate_pem

    @property
    def signing_public_key(self) -> bytes:
        """The Ed25519 package-signing public key, raw 32 bytes."""
        return self._signing_public_key

    def issue_device_certificate(
        self, device_id: str, csr_der: bytes, lifetime: timedelta, now: datetime
    ) -> IssuedCertificate:
        """Issue a client certificate for ``device_id`` to the public key of ``csr_der``.

        Nothing but the public key is taken from the CSR. Raises ``InvalidArgument`` for a
        CSR that does not parse, has a bad signature or an unaccepted key.
        """
        if not device_id or len(device_id) > MAX_DEVICE_ID_LENGTH:
            raise InvalidArgument("device id must be 1 to 64 characters")
        if lifetime <= timedelta(0):
            raise InvalidArgument("certificate lifetime must be positive")
        public_key = verified_csr_public_key(csr_der)
        not_before = now - CLOCK_SKEW
        not_after = min(now + lifetime, self._ca_certificate.not_valid_after_utc)
        serial = x509.random_serial_number()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)]))
            .issuer_name(self._ca_certificate.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(self._ca_key_identifier, critical=False)
            .sign(self._ca_key, hashes.SHA256())
        )
        return IssuedCertificate(
            serial=serial,
            certificate_pem=_certificate_pem(certificate).decode("ascii"),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )


_CertificatePublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey


def verified_csr_public_key(csr_der: bytes) -> _CertificatePublicKey:
    """Parse a DER CSR, check its signature and key type, and return its public key."""
    if not csr_der:
        raise InvalidArgument("certificate signing request is empty")
    if len(csr_der) > MAX_CSR_BYTES:
        raise InvalidArgument(f"certificate signing request exceeds {MAX_CSR_BYTES} bytes")
    try:
        csr = x509.load_der_x509_csr(csr_der)
        public_key = csr.public_key()
        signature_valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm) as error:
        raise InvalidArgument("certificate signing request is not a valid DER PKCS#10") from error
    if not signature_valid:
        raise InvalidArgument("certificate signing request signature is invalid")
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ACCEPTED_CURVES):
            raise InvalidArgument(
                f"EC key on curve {public_key.curve.name} not accepted: use P-256 or P-384"
            )
        return public_key
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return public_key
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise InvalidArgument(
                f"RSA key of {public_key.key_size} bits not accepted: use {MIN_RSA_BITS} or more"
            )
        return public_key
    raise InvalidArgument(
        f"{type(public_key).__name__} keys not accepted: use EC P-256/P-384, Ed25519 or RSA"
    )


def _build_ca_certificate(key: ec.EllipticCurvePrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _build_server_certificate(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_certificate: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    hostnames: Sequence[str],
    now: datetime,
) -> x509.Certificate:
    alternative_names: list[x509.GeneralName] = []
    for name in hostnames:
        try:
            alternative_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternative_names.append(x509.DNSName(name))
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_COMMON_NAME)]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + SERVER_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _unique_hostnames(hostnames: Sequence[str]) -> list[str]:
    names: list[str] = []
    for raw in hostnames:
        name = raw.strip()
        if not name:
            raise InvalidArgument("server host names must not be empty")
        if name not in names:
            names.append(name)
    if not names:
        raise InvalidArgument("the server certificate needs at least one host name")
    return names


def _key_usage(
    *, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _private_pem(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (never briefly more readable)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(descriptor, mode)  # the umask may have narrowed it; never widened
        view = memoryview(data)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as error:
        raise NotFound(f"{path} is missing: run `parc-server init` first") from error
