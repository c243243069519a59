"""A throwaway CA for the transport tests: collector server certificate and device certificates."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class ThrowawayCA:
    """A CA with a server certificate for localhost/127.0.0.1/::1."""

    name: str = "Parc test CA"
    key: ec.EllipticCurvePrivateKey = field(init=False)
    cert: x509.Certificate = field(init=False)
    server_key_pem: bytes = field(init=False)
    server_cert_pem: bytes = field(init=False)
    signing_key: Ed25519PrivateKey = field(init=False)
    next_serial: int = 1000

    def __post_init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        self.server_key_pem = _pem_key(server_key)
        self.server_cert_pem = self._issue(
            server_key.public_key(),
            "parc-collector",
            dt.timedelta(days=30),
            sans=[
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ],
        )
        self.signing_key = Ed25519PrivateKey.generate()

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def signing_public_raw(self) -> bytes:
        return self.signing_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def _issue(
        self,
        public_key: object,
        common_name: str,
        lifetime: dt.timedelta,
        sans: list[x509.GeneralName] | None = None,
    ) -> bytes:
        now = dt.datetime.now(dt.UTC)
        self.next_serial += 1
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.cert.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(self.next_serial)
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + lifetime)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    def sign_csr(
        self, csr_der: bytes, device_id: str, lifetime: dt.timedelta = dt.timedelta(days=1)
    ) -> bytes:
        csr = x509.load_der_x509_csr(csr_der)
        assert csr.is_signature_valid
        return self._issue(csr.public_key(), device_id, lifetime)
