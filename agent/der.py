"""Just enough DER to read a certificate's serial number and validity.

`parc-agent run` needs only these to plan renewal; reading them here keeps the
`cryptography` package (several MB of resident memory) out of the running agent until a
renewal actually happens. Structure (RFC 5280 §4.1): Certificate ::= SEQUENCE {
tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER, signature
AlgorithmIdentifier, issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, ... } ...}.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

SEQUENCE = 0x30
INTEGER = 0x02
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
EXPLICIT_0 = 0xA0


class DerError(ValueError):
    """The bytes are not the DER certificate expected."""


def _item(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER item at ``pos``."""
    if pos + 2 > end:
        raise DerError("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise DerError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > end:
        raise DerError("truncated DER")
    return tag, pos, pos + length


def _expect(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    found, start, stop = _item(data, pos, end)
    if found != tag:
        raise DerError(f"expected DER tag {tag:#x}, found {found:#x}")
    return start, stop


def _time(data: bytes, pos: int, end: int) -> tuple[datetime, int]:
    tag, start, stop = _item(data, pos, end)
    text = data[start:stop].decode("ascii", errors="replace")
    try:
        if tag == UTC_TIME:
            parsed = datetime.strptime(text, "%y%m%d%H%M%SZ")
            # RFC 5280: YY >= 50 is 19YY, otherwise 20YY (strptime pivots at 69).
            year = parsed.year % 100
            parsed = parsed.replace(year=(1900 if year >= 50 else 2000) + year)
        elif tag == GENERALIZED_TIME:
            parsed = datetime.strptime(text, "%Y%m%d%H%M%SZ")
        else:
            raise DerError(f"expected a time, found DER tag {tag:#x}")
    except ValueError as exc:
        raise DerError(f"bad certificate time {text!r}") from exc
    return parsed.replace(tzinfo=UTC), stop


def pem_to_der(pem: bytes) -> bytes:
    """The DER bytes of the first PEM CERTIFICATE block."""
    text = pem.decode("ascii", errors="replace")
    begin = "-----BEGIN CERTIFICATE-----"
    start = text.find(begin)
    stop = text.find("-----END CERTIFICATE-----", start)
    if start < 0 or stop < 0:
        raise DerError("no PEM certificate block")
    try:
        return base64.b64decode("".join(text[start + len(begin) : stop].split()), validate=True)
    except binascii.Error as exc:
        raise DerError("bad base64 in the PEM block") from exc


def serial_and_validity(der: bytes) -> tuple[int, datetime, datetime]:
    """(serial number, not before, not after) of a DER certificate."""
    start, stop = _expect(der, 0, len(der), SEQUENCE)
    pos, tbs_end = _expect(der, start, stop, SEQUENCE)
    tag, _, item_end = _item(der, pos, tbs_end)
    if tag == EXPLICIT_0:
        pos = item_end
    serial_start, pos = _expect(der, pos, tbs_end, INTEGER)
    serial = int.from_bytes(der[serial_start:pos], "big", signed=True)
    _, _, pos = _item(der, pos, tbs_end)  # signature algorithm
    _, _, pos = _item(der, pos, tbs_end)  # issuer
    validity_start, validity_end = _expect(der, pos, tbs_end, SEQUENCE)
    not_before, pos = _time(der, validity_start, validity_end)
    not_after, _ = _time(der, pos, validity_end)
    return serial, not_before, not_after
