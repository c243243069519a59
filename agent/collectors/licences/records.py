"""Records of licence facts: product activations (Windows, Office) and package licences."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent.collectors.software.records import clean_text

MAX_PARTIAL_KEY = 5
MAX_DECLARED = 512
MAX_FIELD = 256


class ActivationState(StrEnum):
    """A product's licence state."""

    UNKNOWN = "unknown"
    LICENSED = "licensed"
    UNLICENSED = "unlicensed"
    GRACE = "grace"
    NOTIFICATION = "notification"


@dataclass(frozen=True, slots=True)
class ProductActivation:
    """The licence state of one installed Windows or Office product.

    ``partial_product_key`` is cut to its last five characters whatever was given: the full
    product key is never kept.
    """

    product: str
    name: str
    channel: str
    state: ActivationState
    partial_product_key: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        key = clean_text(self.partial_product_key, 10_000).replace(" ", "")
        set_(self, "partial_product_key", key[-MAX_PARTIAL_KEY:])
        set_(self, "product", clean_text(self.product, 32))
        set_(self, "name", clean_text(self.name, MAX_FIELD))
        set_(self, "channel", clean_text(self.channel, 64))


@dataclass(frozen=True, slots=True)
class PackageLicence:
    """The declared licence of one installed package.

    ``spdx`` is the SPDX expression when every part of ``declared`` maps, else empty;
    ``declared`` is empty when the package's licence is unknown (no machine-readable file).
    """

    package: str
    source: str
    spdx: str
    declared: str

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "package", clean_text(self.package, MAX_FIELD))
        set_(self, "source", clean_text(self.source, 32))
        set_(self, "spdx", clean_text(self.spdx, MAX_DECLARED))
        set_(self, "declared", clean_text(self.declared, MAX_DECLARED))


@dataclass(frozen=True, slots=True)
class LicenceInventory:
    """What the machine says about its licences, sorted."""

    activations: tuple[ProductActivation, ...] = ()
    packages: tuple[PackageLicence, ...] = ()
