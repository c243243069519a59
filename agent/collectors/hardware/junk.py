"""The one policy for placeholder firmware values: they are unknown, never an identity.

Firmware vendors leave "Default string", "To be filled by O.E.M.", "System Serial Number",
"0", all-zero UUIDs and the like in SMBIOS fields. Reported as identities they merge
unrelated machines (every board with "Default string" as its serial becomes one machine),
so every reader passes firmware strings through :func:`clean` and UUIDs through
:func:`clean_uuid`. The rules are tables: exact values, patterns, and a few shapes
(one repeated character, a run of consecutive digits).
"""

from __future__ import annotations

import re
from typing import Final

# Exact placeholders, compared case-insensitively after trimming.
JUNK_VALUES: Final = frozenset(
    {
        "default string",
        "default",
        "to be filled by o.e.m.",
        "to be filled by oem",
        "system serial number",
        "system product name",
        "system manufacturer",
        "system version",
        "system name",
        "system sku",
        "chassis serial number",
        "chassis manufacture",
        "chassis manufacturer",
        "chassis version",
        "base board serial number",
        "baseboard serial number",
        "board serial number",
        "serial number",
        "serialnumber",
        "sn",
        "not specified",
        "not applicable",
        "not available",
        "not defined",
        "not set",
        "unknown",
        "undefined",
        "none",
        "null",
        "nil",
        "empty",
        "n/a",
        "na",
        "o.e.m.",
        "oem",
        "oem_string",
        "invalid",
        "tbd",
        "tbd by oem",
        "no asset information",
        "no asset tag",
        "asset tag",
        "type1productconfigid",
        "type2 - board serial number",
        "xxxxxxxx",
    }
)

# Placeholder shapes, matched against the trimmed value, case-insensitively.
JUNK_PATTERNS: Final = (
    re.compile(r"to be filled by o\.?e\.?m\.?", re.IGNORECASE),
    re.compile(r"^(default|defaultstring)[\s_-]*(string|value)?$", re.IGNORECASE),
    re.compile(
        r"^(system|chassis|base\s*board|board|mainboard|product)[\s_-]*"
        r"(serial[\s_-]*(number|no\.?)?|product[\s_-]*name|manufacturer|vendor|version|name|sku)$",
        re.IGNORECASE,
    ),
    re.compile(r"^not[\s_-]*(specified|applicable|available|provided|set|defined)$", re.I),
    re.compile(r"^type\d+\s*-\s*\w+", re.IGNORECASE),
)

# Characters that separate groups in serials and UUIDs; they do not make a value real.
_SEPARATORS: Final = frozenset(" -._:/")
_DIGITS: Final = "01234567890123456789"

# UUIDs that many unrelated boards share (AMI's default, in both byte orders).
JUNK_UUIDS: Final = frozenset(
    {
        "03000200-0400-0500-0006-000700080009",
        "00020003-0004-0005-0006-000700080009",
        "12345678-1234-5678-90ab-cddeefaabbcc",
    }
)

_UUID_SHAPE: Final = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)


def _trim(raw: str) -> str:
    return raw.replace("\x00", " ").strip()


def is_junk(value: str) -> bool:
    """Whether a (trimmed) firmware string is a placeholder rather than a fact."""
    if not value:
        return True
    folded = value.casefold()
    if folded in JUNK_VALUES:
        return True
    if any(pattern.search(value) for pattern in JUNK_PATTERNS):
        return True
    significant = [c for c in folded if c not in _SEPARATORS]
    if len(set(significant)) <= 1:
        # "0", "00000000", "XXXX", "0.0", "----", "FFFF-FFFF": one character repeated.
        return True
    if not any(c.isalnum() for c in significant):
        return True
    text = "".join(significant)
    # "123456789", "0123456789", "1234567890": a run of consecutive digits.
    return len(text) >= 5 and text.isdigit() and text in _DIGITS


def clean(raw: object) -> str:
    """A firmware string with placeholders turned into "" (non-strings are unknown too)."""
    if not isinstance(raw, str):
        return ""
    value = _trim(raw)
    return "" if is_junk(value) else value


def clean_uuid(raw: object) -> str:
    """A system UUID in lower case with dashes, or "" when it is absent, malformed or junk."""
    if not isinstance(raw, str):
        return ""
    value = _trim(raw).strip("{}").lower()
    if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        value = f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    if not _UUID_SHAPE.match(value) or value in JUNK_UUIDS:
        return ""
    if len(set(value.replace("-", ""))) <= 1:
        return ""  # all zeros, all F: "no UUID" in SMBIOS terms
    return value
