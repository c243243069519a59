"""Licence facts: product activation (Windows, Office) and declared package licences (Linux).

The per-OS factories are what ``agent.platform`` calls; each returns a collector following
:class:`agent.collectors.base.Collector` whose ``collect()`` gives a :class:`LicenceInventory`.
"""

from __future__ import annotations

from pathlib import Path

from agent.collectors.licences.collector import LicenceCollector, LicenceReader
from agent.collectors.licences.debian import (
    DebianCopyrightReader,
    parse_copyright,
    read_copyright_file,
)
from agent.collectors.licences.records import (
    ActivationState,
    LicenceInventory,
    PackageLicence,
    ProductActivation,
)
from agent.collectors.licences.rpm import RpmLicenceReader
from agent.collectors.licences.spdx import debian_to_spdx, is_spdx_expression, rpm_to_spdx
from agent.collectors.licences.windows import WindowsActivationReader, parse_activations
from agent.collectors.software.dpkg import DpkgStatusCache
from agent.platform.runner import CommandRunner, SubprocessRunner


def linux_licences(
    root: Path = Path("/"),
    runner: CommandRunner | None = None,
    *,
    status: DpkgStatusCache | None = None,
) -> LicenceCollector:
    """Debian copyright files (under ``root``) and RPM License tags (``rpm`` via ``runner``).

    ``status``: the dpkg status cache shared with ``linux_software``, if any."""
    runner = runner if runner is not None else SubprocessRunner()
    return LicenceCollector(
        packages=[DebianCopyrightReader(root, status), RpmLicenceReader(runner)]
    )


def windows_licences(runner: CommandRunner | None = None) -> LicenceCollector:
    """Windows and Office activation (PowerShell CIM query via ``runner``)."""
    runner = runner if runner is not None else SubprocessRunner()
    return LicenceCollector(activations=[WindowsActivationReader(runner)])


def darwin_licences() -> LicenceCollector:
    """Nothing to read on macOS yet: the collector reports itself unsupported."""
    return LicenceCollector()


__all__ = [
    "ActivationState",
    "DebianCopyrightReader",
    "LicenceCollector",
    "LicenceInventory",
    "LicenceReader",
    "PackageLicence",
    "ProductActivation",
    "RpmLicenceReader",
    "WindowsActivationReader",
    "darwin_licences",
    "debian_to_spdx",
    "is_spdx_expression",
    "linux_licences",
    "parse_activations",
    "parse_copyright",
    "read_copyright_file",
    "rpm_to_spdx",
    "windows_licences",
]
