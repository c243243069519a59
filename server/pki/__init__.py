"""The collector's PKI: its CA, TLS server certificate, device certificates and signing key."""

from server.pki.authority import (
    CertificateAuthority,
    IssuedCertificate,
    default_hostnames,
    init_pki,
    load_server_credentials_material,
    verified_csr_public_key,
)
from server.pki.paths import PkiPaths
from server.pki.peer import peer_identity

__all__ = [
    "CertificateAuthority",
    "IssuedCertificate",
    "PkiPaths",
    "default_hostnames",
    "init_pki",
    "load_server_credentials_material",
    "peer_identity",
    "verified_csr_public_key",
]
