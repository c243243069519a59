"""Reading macOS property lists (XML or binary) through plistlib, with clear errors."""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

MAX_PLIST_BYTES = 8 * 1024 * 1024


class PlistError(Exception):
    """A property list could not be read or parsed."""


def load_plist(path: Path) -> dict[str, Any]:
    """The top-level dictionary of an XML or binary plist file."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PLIST_BYTES + 1)
    except OSError as exc:
        raise PlistError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > MAX_PLIST_BYTES:
        raise PlistError(f"{path} is larger than {MAX_PLIST_BYTES} bytes")
    return parse_plist(data, str(path))


def parse_plist(data: bytes, where: str = "plist") -> dict[str, Any]:
    """The top-level dictionary of XML or binary plist bytes."""
    try:
        parsed = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError, TypeError, OverflowError) as exc:
        raise PlistError(f"{where} is not a valid property list: {exc}") from exc
    except Exception as exc:  # plistlib raises assorted errors on truncated binary input
        raise PlistError(f"{where} is not a valid property list: {exc!r}") from exc
    if not isinstance(parsed, dict):
        raise PlistError(f"{where} does not hold a dictionary at its top level")
    return parsed
