"""Who is at the other end of a mutual-TLS connection, from its client certificate."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

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


PEER_CACHE_SIZE = 32_768


class PeerIdentityCache:
    """``peer_identity``, remembered per certificate: parsing a PEM on every call is costly.

    Keyed by the SHA-256 of the certificate's bytes (so the cache keeps 32 bytes, not the
    PEM, per entry), at most ``max_entries`` of them, least recently used going first. The
    result depends only on those bytes, so it is the same whenever computed; a certificate
    that cannot be read is refused again each time (refusals are not cached). Revocation and
    expiry are not this cache's business: ``DeviceService.authenticate`` checks them.
    """

    def __init__(self, max_entries: int = PEER_CACHE_SIZE) -> None:
        if max_entries < 1:
            raise ValueError("the cache needs room for at least one entry")
        self._max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[int, str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __call__(self, certificate_pem: bytes | str) -> tuple[int, str]:
        data = (
            certificate_pem.encode("utf-8") if isinstance(certificate_pem, str) else certificate_pem
        )
        key = hashlib.sha256(data).digest()
        identity = self._entries.get(key)
        if identity is not None:
            self._entries.move_to_end(key)
            return identity
        identity = peer_identity(certificate_pem)
        self._entries[key] = identity
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return identity
