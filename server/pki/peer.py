"""Who is at the other end of a mutual-TLS connection, from its client certificate."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from server.services.errors import Unauthenticated


def peer_identity(certificate_pem: bytes | str) -> tuple[int, str]:
    """Return ``(serial, device_id)`` of a client certificate; the device id is its CN.

    The TLS layer has already verified the chain; this only reads the certificate.
    """
    data = certificate_pem.encode("ascii") if isinstance(certificate_pem, str) else certificate_pem
    try:
        certificate = x509.load_pem_x509_certificate(data)
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except (ValueError, UnicodeError) as error:
        raise Unauthenticated("client certificate could not be read") from error
    if len(names) != 1:
        raise Unauthenticated("client certificate has no single common name")
    device_id = names[0].value
    if isinstance(device_id, bytes):
        device_id = device_id.decode("utf-8", errors="replace")
    if not device_id:
        raise Unauthenticated("client certificate has an empty common name")
    return certificate.serial_number, device_id
