"""Debian packages, read straight from dpkg's status database (``/var/lib/dpkg/status``).

The file is deb822: paragraphs separated by blank lines, ``Field: value`` lines, continuation
lines starting with a space or tab (deb-control(5)). Only a handful of fields matter here, so
each paragraph is scanned with one regular expression instead of being fully parsed — about
2000 packages take a few milliseconds.

Installed means: the Status field's error flag is ``ok`` and its state is ``installed``,
``triggers-awaited`` or ``triggers-pending`` (configured, waiting only for triggers), whatever
the selection (``install``, ``hold``, ``deinstall`` not yet acted on). ``half-installed``,
``unpacked``, ``half-configured``, ``config-files`` and ``not-installed`` are not installed.

Rows are keyed by (package, architecture): a ``Multi-Arch: same`` package installed for amd64
and i386 is two rows, named alike, told apart by ``architecture`` and by the identifier
``package:arch``. The install time is the mtime of ``info/<package>:<arch>.list`` (multi-arch
same) or ``info/<package>.list`` — dpkg rewrites that file on every install or upgrade, so it is
the time of the last install or upgrade.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from agent.collectors.software.collector import SoftwareReadError
from agent.collectors.software.records import InstalledSoftware, SoftwareSource

MAX_STATUS_BYTES = 64 * 1024 * 1024

_PARAGRAPHS = re.compile(r"\n(?:[ \t]*\n)+")
_FIELDS = re.compile(
    r"^(package|status|version|architecture|maintainer|multi-arch):[ \t]*([^\n]*)",
    re.MULTILINE | re.IGNORECASE,
)
_MARKERS = tuple(
    (name.lower(), f"\n{name}:")
    for name in ("Package", "Status", "Version", "Architecture", "Maintainer", "Multi-Arch")
)
_INSTALLED_STATES = frozenset({"installed", "triggers-awaited", "triggers-pending"})
# Package names are [a-z0-9][a-z0-9+.-]+ (Debian policy 5.6.1); architectures [a-z0-9-]+.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.~_-]*")
_SAFE_ARCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_ADDRESS = re.compile(r"\s*<[^>]*>\s*$")


@dataclass(frozen=True, slots=True)
class DpkgPackage:
    """One paragraph of the status file."""

    name: str
    version: str
    architecture: str
    maintainer: str
    multi_arch: str
    status: str

    @property
    def installed(self) -> bool:
        parts = self.status.split()
        return len(parts) == 3 and parts[1] == "ok" and parts[2] in _INSTALLED_STATES


def parse_dpkg_status(text: str) -> list[DpkgPackage]:
    """Every paragraph with a Package field, in file order (installed or not)."""
    packages: list[DpkgPackage] = []
    for paragraph in _PARAGRAPHS.split(text.replace("\r\n", "\n")):
        fields = _fields(paragraph)
        name = fields.get("package", "")
        if not name:
            continue
        packages.append(
            DpkgPackage(
                name=name,
                version=fields.get("version", ""),
                architecture=fields.get("architecture", ""),
                maintainer=fields.get("maintainer", ""),
                multi_arch=fields.get("multi-arch", "").lower(),
                status=fields.get("status", ""),
            )
        )
    return packages


def _fields(paragraph: str) -> dict[str, str]:
    # Fast path: dpkg writes field names in their canonical case, so plain substring
    # searches find them (continuation lines start with a blank, so "\nStatus:" cannot
    # match inside a description). Any other spelling goes through the regex.
    text = "\n" + paragraph
    fields: dict[str, str] = {}
    for key, marker in _MARKERS:
        start = text.find(marker)
        if start < 0:
            continue
        start += len(marker)
        end = text.find("\n", start)
        fields[key] = (text[start:] if end < 0 else text[start:end]).strip()
    if "package" not in fields:
        for match in _FIELDS.finditer(paragraph):
            fields.setdefault(match.group(1).lower(), match.group(2).strip())
    return fields


def read_dpkg_status(root: Path) -> list[DpkgPackage]:
    """The parsed status file under ``root``; SoftwareReadError when it cannot be read."""
    path = root / "var/lib/dpkg/status"
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_STATUS_BYTES + 1)
    except OSError as exc:
        raise SoftwareReadError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > MAX_STATUS_BYTES:
        raise SoftwareReadError(f"{path} is larger than {MAX_STATUS_BYTES} bytes")
    return parse_dpkg_status(data.decode("utf-8", errors="replace"))


class DpkgStatusCache:
    """The parsed status file, parsed again only when the file changed (dpkg replaces it on
    every package operation, so its identity, size and mtime change)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._stamp: tuple[int, int, int] | None = None
        self._packages: list[DpkgPackage] = []

    def stamp(self) -> tuple[int, int, int] | None:
        try:
            info = os.stat(self._root / "var/lib/dpkg/status")
        except OSError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def packages(self) -> list[DpkgPackage]:
        stamp = self.stamp()
        if stamp is None or stamp != self._stamp:
            self._packages = read_dpkg_status(self._root)
            self._stamp = stamp
        return self._packages


def publisher_from_maintainer(maintainer: str) -> str:
    """``Jane Doe <jane@example.org>`` → ``Jane Doe`` (the address is contact, not publisher)."""
    name = _ADDRESS.sub("", maintainer).strip()
    return name or maintainer.strip()


class DpkgReader:
    """Installed Debian packages under an injected root (``/`` on the machine)."""

    name = "dpkg"

    def __init__(self, root: Path = Path("/"), status: DpkgStatusCache | None = None) -> None:
        self._root = root
        self._status = status if status is not None else DpkgStatusCache(root)
        self._rows: tuple[tuple[int, int, int] | None, list[InstalledSoftware]] = (None, [])

    def is_supported(self) -> bool:
        return (self._root / "var/lib/dpkg/status").is_file()

    def read(self) -> list[InstalledSoftware]:
        # dpkg rewrites the status file whenever it touches info/*.list, so unchanged status
        # means unchanged rows and install times: the 6-hourly run costs one stat.
        stamp = self._status.stamp()
        if stamp is not None and stamp == self._rows[0]:
            return list(self._rows[1])
        rows = self._read(self._status.packages())
        self._rows = (stamp, rows)
        return list(rows)

    def _read(self, packages: list[DpkgPackage]) -> list[InstalledSoftware]:
        info = os.fspath(self._root / "var/lib/dpkg/info")
        rows: list[InstalledSoftware] = []
        for package in packages:
            if not package.installed:
                continue
            rows.append(
                InstalledSoftware(
                    name=package.name,
                    version=package.version,
                    publisher=publisher_from_maintainer(package.maintainer),
                    source=SoftwareSource.DEB,
                    architecture=package.architecture,
                    install_time=_install_time(info, package),
                    identifier=(
                        f"{package.name}:{package.architecture}"
                        if package.architecture
                        else package.name
                    ),
                )
            )
        return rows


def _install_time(info: str, package: DpkgPackage) -> datetime | None:
    if not _SAFE_NAME.fullmatch(package.name):
        return None
    names = [f"{package.name}.list"]
    if package.architecture and _SAFE_ARCH.fullmatch(package.architecture):
        qualified = f"{package.name}:{package.architecture}.list"
        if package.multi_arch == "same":
            names.insert(0, qualified)
        else:
            names.append(qualified)
    for file_name in names:
        try:
            mtime = os.stat(os.path.join(info, file_name)).st_mtime
        except OSError:
            continue
        return datetime.fromtimestamp(mtime, UTC)
    return None
