"""The software collector: several readers (dpkg, rpm, snap, ...) merged into one inventory.

Duplicates are collapsed here, once, for every OS. Two rows are the same application when

* they come from the same source family (the Windows Uninstall keys — MSI and plain
  registry entries — are one family; every other source is its own family, so a deb and a
  snap of the same program stay two rows: they are two installs),
* their names and versions are equal after case-folding and collapsing whitespace,
* their architectures are equal (``libc6`` for amd64 and for i386 are two rows), and
* their publishers are equal, or one of them has none.

Of a group of duplicates the row kept is the one of the preferred source (MSI before
REGISTRY: the product code is the better identifier), then the one with the most facts;
it borrows the publisher, install time and identifier it lacks from the others.
The result is sorted by name (case-folded), then version, then the remaining fields, so the
same machine always yields the same bytes (the inventory section is hashed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from agent.collectors.software.records import InstalledSoftware, SoftwareInventory, SoftwareSource

log = logging.getLogger(__name__)


class SoftwareReadError(Exception):
    """A reader could not read its source (bad output, failed command, unreadable file)."""


class SoftwareReader(Protocol):
    """One source of installed software (the dpkg database, ``rpm -qa``, the registry, ...)."""

    @property
    def name(self) -> str: ...

    def is_supported(self) -> bool:
        """False when the source does not exist on this machine."""
        ...

    def read(self) -> list[InstalledSoftware]:
        """Every application the source lists; raise on failure."""
        ...


_FAMILY = {SoftwareSource.MSI: "windows-uninstall", SoftwareSource.REGISTRY: "windows-uninstall"}
_PREFERENCE = {SoftwareSource.MSI: 0, SoftwareSource.REGISTRY: 1}


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _facts(row: InstalledSoftware) -> int:
    return sum((bool(row.publisher), row.install_time is not None, bool(row.identifier)))


def _merge(group: Sequence[InstalledSoftware]) -> InstalledSoftware:
    ranked = sorted(
        enumerate(group), key=lambda item: (_PREFERENCE.get(item[1].source, 0), -_facts(item[1]))
    )
    best = ranked[0][1]
    for _, other in ranked[1:]:
        if not best.publisher and other.publisher:
            best = replace(best, publisher=other.publisher)
        if best.install_time is None and other.install_time is not None:
            best = replace(best, install_time=other.install_time)
        if not best.identifier and other.identifier:
            best = replace(best, identifier=other.identifier)
    return best


def collapse_duplicates(rows: Iterable[InstalledSoftware]) -> list[InstalledSoftware]:
    """One row per application (see the module docstring for the key), sorted."""
    groups: dict[tuple[str, str, str, str], list[list[InstalledSoftware]]] = {}
    for row in rows:
        if not row.name:
            continue
        key = (
            _FAMILY.get(row.source, row.source.value),
            _norm(row.name),
            _norm(row.version),
            row.architecture.casefold(),
        )
        clusters = groups.setdefault(key, [])
        publisher = _norm(row.publisher)
        for cluster in clusters:
            seen = {_norm(r.publisher) for r in cluster} - {""}
            if not publisher or not seen or publisher in seen:
                cluster.append(row)
                break
        else:
            clusters.append([row])
    merged = [_merge(cluster) for clusters in groups.values() for cluster in clusters]
    merged.sort(key=sort_key)
    return merged


def sort_key(row: InstalledSoftware) -> tuple[str, str, str, str, str, str, str]:
    return (
        row.name.casefold(),
        row.name,
        row.version,
        row.architecture,
        row.source.value,
        row.publisher,
        row.identifier,
    )


class SoftwareCollector:
    """Installed software from every reader that works here; a failing reader is logged and
    contributes nothing, the others go on."""

    def __init__(
        self,
        readers: Sequence[SoftwareReader],
        *,
        name: str = "software",
        collapse: Callable[[Iterable[InstalledSoftware]], list[InstalledSoftware]] = (
            collapse_duplicates
        ),
    ) -> None:
        self._readers = list(readers)
        self._name = name
        self._collapse = collapse

    @property
    def name(self) -> str:
        return self._name

    @property
    def readers(self) -> list[SoftwareReader]:
        return list(self._readers)

    def is_supported(self) -> bool:
        return any(_supported(reader) for reader in self._readers)

    def collect(self) -> SoftwareInventory:
        rows: list[InstalledSoftware] = []
        for reader in self._readers:
            if not _supported(reader):
                continue
            try:
                found = reader.read()
            except Exception as exc:
                log.warning("software reader %s failed: %s", reader.name, exc)
                continue
            rows.extend(found)
        return SoftwareInventory(tuple(self._collapse(rows)))


def _supported(reader: SoftwareReader) -> bool:
    try:
        return bool(reader.is_supported())
    except Exception as exc:
        log.warning("software reader %s: support check failed: %s", reader.name, exc)
        return False
