"""The licence collector: package-licence readers and activation readers merged, sorted."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol, TypeVar

from agent.collectors.licences.records import LicenceInventory, PackageLicence, ProductActivation

log = logging.getLogger(__name__)

T_co = TypeVar("T_co", covariant=True)


class LicenceReader(Protocol[T_co]):
    """One source of licence facts."""

    @property
    def name(self) -> str: ...

    def is_supported(self) -> bool: ...

    def read(self) -> Sequence[T_co]: ...


class LicenceCollector:
    """Licence facts from every reader that works here; a failing reader is logged and
    contributes nothing, the others go on."""

    def __init__(
        self,
        *,
        packages: Sequence[LicenceReader[PackageLicence]] = (),
        activations: Sequence[LicenceReader[ProductActivation]] = (),
        name: str = "licences",
    ) -> None:
        self._packages = list(packages)
        self._activations = list(activations)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def is_supported(self) -> bool:
        return any(_supported(r) for r in self._packages) or any(
            _supported(r) for r in self._activations
        )

    def collect(self) -> LicenceInventory:
        packages: dict[tuple[str, str], PackageLicence] = {}
        for reader in self._packages:
            for licence in _read(reader):
                packages.setdefault((licence.source, licence.package), licence)
        activations = sorted(
            {a for reader in self._activations for a in _read(reader)},
            key=lambda a: (a.product, a.name, a.channel, a.partial_product_key, a.state.value),
        )
        return LicenceInventory(
            activations=tuple(activations),
            packages=tuple(packages[key] for key in sorted(packages, key=lambda k: (k[1], k[0]))),
        )


def _supported(reader: LicenceReader[object]) -> bool:
    try:
        return bool(reader.is_supported())
    except Exception as exc:
        log.warning("licence reader %s: support check failed: %s", reader.name, exc)
        return False


def _read(reader: LicenceReader[T_co]) -> Sequence[T_co]:
    if not _supported(reader):
        return []
    try:
        return reader.read()
    except Exception as exc:
        log.warning("licence reader %s failed: %s", reader.name, exc)
        return []
