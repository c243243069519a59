"""Records of installed software: one :class:`InstalledSoftware` per application row.

Every text field is cleaned on construction (control characters removed, whitespace collapsed,
length bounded), so no reader can put a newline, an escape sequence or a megabyte into a report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_NAME = 256
MAX_VERSION = 128
MAX_PUBLISHER = 256
MAX_ARCHITECTURE = 32
MAX_IDENTIFIER = 512

# C0 and C1 controls, DEL, and the invisible format characters most often met in registry
# junk (zero-width space/joiners, BOM, bidi overrides).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+")
_SPACES = re.compile(r"\s+")


def clean_text(value: object, limit: int) -> str:
    """``value`` as a one-line string without control characters, at most ``limit`` long.

    Anything that is not a string (None, a number from a sloppy registry value) becomes its
    ``str`` for ints and "" for everything else.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    text = str(value)
    if len(text) <= limit and text.isprintable() and "  " not in text and text == text.strip():
        return text  # the common case: nothing to clean (isprintable is False for controls)
    if len(text) > limit * 4:  # bound the work on absurd input before the regexes run
        text = text[: limit * 4]
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    return text[:limit].rstrip()


class SoftwareSource(StrEnum):
    """Where an installed application was found."""

    DEB = "deb"
    RPM = "rpm"
    MSI = "msi"
    REGISTRY = "registry"
    APP_BUNDLE = "app_bundle"
    SNAP = "snap"
    FLATPAK = "flatpak"
    MSIX = "msix"


@dataclass(frozen=True, slots=True)
class InstalledSoftware:
    """One installed application. Strings are empty when unknown."""

    name: str
    version: str
    publisher: str
    source: SoftwareSource
    architecture: str = ""
    install_time: datetime | None = None
    identifier: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "name", clean_text(self.name, MAX_NAME))
        set_(self, "version", clean_text(self.version, MAX_VERSION))
        set_(self, "publisher", clean_text(self.publisher, MAX_PUBLISHER))
        set_(self, "architecture", clean_text(self.architecture, MAX_ARCHITECTURE))
        set_(self, "identifier", clean_text(self.identifier, MAX_IDENTIFIER))


@dataclass(frozen=True, slots=True)
class SoftwareInventory:
    """Every installed application, one row per real application, sorted by name then version."""

    packages: tuple[InstalledSoftware, ...]
