"""Windows applications: the Uninstall registry keys, and MSIX / Store packages.

Uninstall keys read (all through the injected :class:`RegistryReader`):

* ``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall`` (64-bit view),
* ``HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall`` (32-bit),
* ``HKU\\<SID>\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall`` for every loaded
  user hive (SIDs only: ``.DEFAULT`` and ``<SID>_Classes`` are skipped).

An entry is skipped when it has no DisplayName, is a system component (SystemComponent = 1),
or is an update (ParentKeyName set, a ReleaseType of Update, Hotfix, Security Update, Update
Rollup or Service Pack, or a bare ``KB123456`` key). WindowsInstaller = 1 makes it an MSI
product whose identifier is the product code (the key name); otherwise it is a REGISTRY entry
identified by its key name. The architecture is left empty: which view an entry is in says
what its installer was, not what the program is (32-bit installers of 64-bit programs write
to WOW6432Node).

MSIX packages come from ``Get-AppxPackage -AllUsers`` through PowerShell; frameworks and
system-signed packages are skipped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from agent.collectors.software.collector import SoftwareReadError
from agent.collectors.software.powershell import PowerShellError, powershell_objects
from agent.collectors.software.records import InstalledSoftware, SoftwareSource
from agent.platform.registry import RegistryReader, RegistryValue, walk
from agent.platform.runner import CommandRunner

UNINSTALL_SUFFIX = r"Microsoft\Windows\CurrentVersion\Uninstall"
MACHINE_UNINSTALL_KEYS = (
    rf"HKLM\SOFTWARE\{UNINSTALL_SUFFIX}",
    rf"HKLM\SOFTWARE\WOW6432Node\{UNINSTALL_SUFFIX}",
)
_SID = re.compile(r"S-1-\d+(?:-\d+)+", re.IGNORECASE)
_HOTFIX_KEY = re.compile(r"KB\d{4,}", re.IGNORECASE)
_UPDATE_TYPES = frozenset(
    {"update", "hotfix", "security update", "update rollup", "service pack", "critical update"}
)
_INSTALL_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def user_uninstall_keys(registry: RegistryReader) -> list[str]:
    """The Uninstall key of every loaded user hive."""
    return [
        rf"HKU\{sid}\Software\{UNINSTALL_SUFFIX}"
        for sid in registry.subkeys("HKU")
        if _SID.fullmatch(sid)
    ]


def _dword(value: RegistryValue) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip(), 0)
        except ValueError:
            return None
    return None


def _string(value: RegistryValue) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return " ".join(value).strip()
    return ""


def parse_install_date(value: RegistryValue) -> datetime | None:
    """InstallDate ``YYYYMMDD`` (also ``YYYY-MM-DD``) as midnight UTC; None when junk."""
    match = _INSTALL_DATE.fullmatch(_string(value))
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    if not 1980 <= year <= 2200:
        return None
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def uninstall_entry(key_name: str, values: dict[str, RegistryValue]) -> InstalledSoftware | None:
    """The application one Uninstall subkey describes, or None when it is not one."""
    name = _string(values.get("DisplayName"))
    if not name:
        return None
    if _dword(values.get("SystemComponent")) == 1:
        return None
    if _string(values.get("ParentKeyName")):
        return None
    if _string(values.get("ReleaseType")).lower() in _UPDATE_TYPES:
        return None
    if _HOTFIX_KEY.fullmatch(key_name):
        return None
    version = _string(values.get("DisplayVersion"))
    if not version:
        major, minor = _dword(values.get("VersionMajor")), _dword(values.get("VersionMinor"))
        if major is not None:
            version = f"{major}.{minor or 0}"
    msi = _dword(values.get("WindowsInstaller")) == 1
    entry = InstalledSoftware(
        name=name,
        version=version,
        publisher=_string(values.get("Publisher")),
        source=SoftwareSource.MSI if msi else SoftwareSource.REGISTRY,
        install_time=parse_install_date(values.get("InstallDate")),
        identifier=key_name,
    )
    return entry if entry.name else None  # a name of control characters only is no name


class UninstallRegistryReader:
    """Applications registered in the machine's and loaded users' Uninstall keys."""

    name = "uninstall-registry"

    def __init__(self, registry: RegistryReader) -> None:
        self._registry = registry

    def is_supported(self) -> bool:
        return any(self._registry.subkeys(key) for key in MACHINE_UNINSTALL_KEYS)

    def read(self) -> list[InstalledSoftware]:
        rows: list[InstalledSoftware] = []
        for key in (*MACHINE_UNINSTALL_KEYS, *user_uninstall_keys(self._registry)):
            for path, values in walk(self._registry, key):
                entry = uninstall_entry(path.rsplit("\\", 1)[-1], values)
                if entry is not None:
                    rows.append(entry)
        return rows


APPX_SCRIPT = (
    "Get-AppxPackage -AllUsers | Select-Object Name,PackageFullName,Version,Publisher,"
    "Architecture,IsFramework,SignatureKind,InstallLocation | ConvertTo-Json -Compress"
)
# ConvertTo-Json writes enums as numbers: Windows.System.ProcessorArchitecture and
# Windows.ApplicationModel.PackageSignatureKind.
_APPX_ARCHITECTURES = {0: "x86", 5: "arm", 9: "x64", 11: "neutral", 12: "arm64", 14: "x86a64"}
_SIGNATURE_KINDS = {0: "none", 1: "developer", 2: "enterprise", 3: "store", 4: "system"}
_DN_PART = re.compile(r"(?:^|,)\s*(CN|O)\s*=\s*(\"[^\"]*\"|[^,]*)", re.IGNORECASE)


def _enum(value: Any, names: dict[int, str]) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return names.get(value, str(value))
    if isinstance(value, str):
        return value.strip().lower()
    return ""


def publisher_from_dn(dn: str) -> str:
    """The organisation (O=) of a publisher's distinguished name, else its CN."""
    parts = {key.upper(): value.strip().strip('"') for key, value in _DN_PART.findall(dn)}
    return parts.get("O") or parts.get("CN") or ""


def appx_package(item: dict[str, Any]) -> InstalledSoftware | None:
    """The application one Get-AppxPackage object describes, or None when it is skipped."""
    name = item.get("Name")
    if not isinstance(name, str) or not name.strip():
        return None
    if item.get("IsFramework") is True:
        return None
    if _enum(item.get("SignatureKind"), _SIGNATURE_KINDS) == "system":
        return None
    version = item.get("Version")
    publisher = item.get("Publisher")
    full_name = item.get("PackageFullName")
    row = InstalledSoftware(
        name=name,
        version=version if isinstance(version, str) else "",
        publisher=publisher_from_dn(publisher) if isinstance(publisher, str) else "",
        source=SoftwareSource.MSIX,
        architecture=_enum(item.get("Architecture"), _APPX_ARCHITECTURES),
        identifier=full_name if isinstance(full_name, str) else "",
    )
    return row if row.name else None


def parse_appx_objects(items: list[dict[str, Any]]) -> list[InstalledSoftware]:
    return [row for row in (appx_package(item) for item in items) if row is not None]


class AppxReader:
    """MSIX / Microsoft Store packages of all users."""

    name = "appx"

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def is_supported(self) -> bool:
        return self._runner.which("powershell.exe") is not None

    def read(self) -> list[InstalledSoftware]:
        try:
            items = powershell_objects(self._runner, APPX_SCRIPT)
        except PowerShellError as exc:
            raise SoftwareReadError(f"Get-AppxPackage failed: {exc}") from exc
        return parse_appx_objects(items)
