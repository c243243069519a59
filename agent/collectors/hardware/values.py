"""Parsing the loosely typed values readers meet: sizes ("16 GB"), speeds ("3200 MT/s"),
firmware dates in their several formats, integers that may arrive as strings."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Final

_UNITS: Final = {
    "b": 1,
    "bytes": 1,
    "kb": 1024,
    "mb": 1024**2,
    "gb": 1024**3,
    "tb": 1024**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}

_SIZE: Final = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z]+)?\s*$")
_FIRST_INT: Final = re.compile(r"(\d+)")
_MS_DATE: Final = re.compile(r"^/?Date\((-?\d+)(?:[+-]\d{4})?\)/?$")
_SLASH_DATE: Final = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
_ISO_DATE: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_CIM_DATE: Final = re.compile(r"^(\d{4})(\d{2})(\d{2})\d{6}")


def as_int(raw: object) -> int:
    """A non-negative integer from an int, float or numeric string; 0 when not one."""
    if isinstance(raw, bool):
        return 0
    if isinstance(raw, int):
        return max(0, raw)
    if isinstance(raw, float):
        return max(0, int(raw)) if raw == raw and abs(raw) < 2**63 else 0
    if isinstance(raw, str):
        text = raw.strip()
        if text.isdigit() and len(text) <= 20:
            return int(text)
    return 0


def first_int(raw: object) -> int:
    """The first run of digits in a string ("3200 MT/s" -> 3200), or an int as is; else 0."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return as_int(raw)
    if isinstance(raw, str) and (match := _FIRST_INT.search(raw[:200])):
        return as_int(match.group(1)[:20])
    return 0


def parse_size(raw: object) -> int:
    """Bytes from "16 GB", "8192 MB", "500.28 GB", "512 kB" (binary units, as firmware
    and system_profiler mean them for memory); 0 when not a size."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return max(0, raw)
    if not isinstance(raw, str) or len(raw) > 64:
        return 0
    match = _SIZE.match(raw)
    if match is None:
        return 0
    number = float(match.group(1).replace(",", "."))
    unit = (match.group(2) or "b").lower()
    factor = _UNITS.get(unit)
    if factor is None:
        return 0
    return int(number * factor)


def _iso(year: int, month: int, day: int) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return ""


def iso_date(raw: object) -> str:
    """A firmware release date as YYYY-MM-DD, from SMBIOS "MM/DD/YYYY" (or "MM/DD/YY"),
    ISO 8601, CIM "YYYYMMDDhhmmss.ffffff+zzz" or JSON "/Date(ms)/"; "" otherwise."""
    if not isinstance(raw, str):
        return ""
    text = raw.strip()[:64]
    if match := _SLASH_DATE.match(text):
        month, day, year = (int(g) for g in match.groups())
        if year < 100:
            year += 2000 if year < 70 else 1900  # SMBIOS before 2.3 had two-digit years
        return _iso(year, month, day)
    if match := _ISO_DATE.match(text):
        return _iso(*(int(g) for g in match.groups()))
    if match := _CIM_DATE.match(text):
        return _iso(*(int(g) for g in match.groups()))
    if match := _MS_DATE.match(text.replace("\\/", "/")):
        millis = int(match.group(1))
        if -(2**46) < millis < 2**46:
            return datetime.fromtimestamp(millis / 1000, UTC).date().isoformat()
    return ""
