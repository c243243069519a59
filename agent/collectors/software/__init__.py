"""Installed software: one reader per source, merged by :class:`SoftwareCollector`.

The per-OS factories are what ``agent.platform`` calls; each returns a collector following
:class:`agent.collectors.base.Collector` whose ``collect()`` gives a :class:`SoftwareInventory`.
"""

from __future__ import annotations

from pathlib import Path

from agent.collectors.software.collector import (
    SoftwareCollector,
    SoftwareReader,
    SoftwareReadError,
    collapse_duplicates,
)
from agent.collectors.software.dpkg import (
    DpkgPackage,
    DpkgReader,
    DpkgStatusCache,
    parse_dpkg_status,
)
from agent.collectors.software.flatpak import FlatpakReader, parse_flatpak_list
from agent.collectors.software.macos import AppBundleReader
from agent.collectors.software.records import InstalledSoftware, SoftwareInventory, SoftwareSource
from agent.collectors.software.rpm import RpmReader, parse_rpm_query
from agent.collectors.software.snap import SnapReader, parse_snap_list
from agent.collectors.software.windows import AppxReader, UninstallRegistryReader
from agent.platform.registry import RegistryReader
from agent.platform.runner import CommandRunner, SubprocessRunner


def linux_software(
    root: Path = Path("/"),
    runner: CommandRunner | None = None,
    *,
    status: DpkgStatusCache | None = None,
) -> SoftwareCollector:
    """dpkg (read from ``root``/var/lib/dpkg), rpm, snap and flatpak (through ``runner``).

    Pass the same ``status`` to :func:`agent.collectors.licences.linux_licences` and the dpkg
    status file is parsed once for both."""
    runner = runner if runner is not None else SubprocessRunner()
    return SoftwareCollector(
        [DpkgReader(root, status), RpmReader(runner), SnapReader(runner), FlatpakReader(runner)]
    )


def windows_software(
    registry: RegistryReader, runner: CommandRunner | None = None
) -> SoftwareCollector:
    """The Uninstall keys (through ``registry``) and MSIX packages (PowerShell via ``runner``)."""
    runner = runner if runner is not None else SubprocessRunner()
    return SoftwareCollector([UninstallRegistryReader(registry), AppxReader(runner)])


def darwin_software(root: Path = Path("/")) -> SoftwareCollector:
    """Application bundles in the standard folders under ``root``."""
    return SoftwareCollector([AppBundleReader(root)])


__all__ = [
    "AppBundleReader",
    "AppxReader",
    "DpkgPackage",
    "DpkgReader",
    "DpkgStatusCache",
    "FlatpakReader",
    "InstalledSoftware",
    "RpmReader",
    "SnapReader",
    "SoftwareCollector",
    "SoftwareInventory",
    "SoftwareReadError",
    "SoftwareReader",
    "SoftwareSource",
    "UninstallRegistryReader",
    "collapse_duplicates",
    "darwin_software",
    "linux_software",
    "parse_dpkg_status",
    "parse_flatpak_list",
    "parse_rpm_query",
    "parse_snap_list",
    "windows_software",
]
