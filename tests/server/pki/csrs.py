"""Building certificate signing requests the way agents (and attackers) would."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def csr_der(key: SigningKey, common_name: str = "agent-chosen-name") -> bytes:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    )
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.DER)


def greedy_csr_der(key: ec.EllipticCurvePrivateKey) -> bytes:
    """A CSR asking for much more than a device certificate: names, CA rights, SANs."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Evil Corp"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Admins"),
            x509.NameAttribute(NameOID.COMMON_NAME, "collector.example"),
        ]
    )
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("collector.example")]), critical=False
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.DER)


def tampered_csr_der() -> bytes:
    """A well-formed CSR whose signature does not match its content."""
    der = bytearray(csr_der(ed25519.Ed25519PrivateKey.generate()))
    der[-1] ^= 0x01  # the last byte of the Ed25519 signature
    return bytes(der)
