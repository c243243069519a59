"""Windows hardware facts from CIM, gathered by ONE PowerShell invocation.

The script queries Win32_ComputerSystem, Win32_ComputerSystemProduct, Win32_BIOS,
Win32_SystemEnclosure, Win32_Processor, Win32_PhysicalMemory, Win32_DiskDrive,
MSFT_PhysicalDisk (root/Microsoft/Windows/Storage), Win32_NetworkAdapter (physical ones),
Win32_OperatingSystem and the CurrentVersion registry key (DisplayVersion, UBR), and prints
one JSON object, one key per query, plus "Errors" for the queries that failed. It uses no
double quotes, so it survives Windows command-line quoting unchanged.

ConvertTo-Json has quirks the parser absorbs: a query with one result may come out as an
object instead of a one-element array, none as null, and Windows PowerShell 5.1 sometimes
wraps arrays as {"value": [...], "Count": n}. Dates are formatted by the script itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from agent.collectors.hardware import junk
from agent.collectors.hardware.attempt import attempt
from agent.collectors.hardware.chassis import first_meaningful
from agent.collectors.hardware.smbios import memory_type_name
from agent.collectors.hardware.sysfs import normalise_mac
from agent.collectors.hardware.values import as_int, iso_date
from agent.collectors.hardware.virt import FirmwareStrings, hypervisor_from_firmware
from agent.platform.base import (
    BlockDevice,
    CpuTopology,
    DiskType,
    FormFactor,
    HardwareFacts,
    MachineIdentity,
    MemoryModule,
    NetworkPort,
    OsRelease,
    Virtualization,
)
from agent.platform.runner import CommandError, CommandRunner

log = logging.getLogger(__name__)

TIMEOUT_S: Final = 90.0


@dataclass(frozen=True, slots=True)
class CimQuery:
    """One Get-CimInstance call: its key in the JSON output, class, properties, namespace
    and WQL filter."""

    key: str
    cim_class: str
    properties: tuple[str, ...]
    namespace: str = "root/cimv2"
    filter: str = ""


QUERIES: Final = (
    CimQuery(
        "ComputerSystem",
        "Win32_ComputerSystem",
        ("Manufacturer", "Model", "TotalPhysicalMemory", "HypervisorPresent", "PCSystemType"),
    ),
    CimQuery(
        "ComputerSystemProduct",
        "Win32_ComputerSystemProduct",
        ("UUID", "IdentifyingNumber", "Vendor", "Name"),
    ),
    # $date: ReleaseDate formatted by PowerShell (ConvertTo-Json's DateTime shape varies).
    CimQuery(
        "BIOS",
        "Win32_BIOS",
        ("Manufacturer", "SMBIOSBIOSVersion", "Version", "SerialNumber", "$date"),
    ),
    CimQuery(
        "SystemEnclosure",
        "Win32_SystemEnclosure",
        ("ChassisTypes", "Manufacturer", "SerialNumber"),
    ),
    CimQuery(
        "Processor",
        "Win32_Processor",
        ("Name", "NumberOfCores", "NumberOfLogicalProcessors", "SocketDesignation"),
    ),
    CimQuery(
        "PhysicalMemory",
        "Win32_PhysicalMemory",
        (
            "DeviceLocator",
            "BankLabel",
            "Capacity",
            "SMBIOSMemoryType",
            "Speed",
            "Manufacturer",
            "PartNumber",
            "SerialNumber",
        ),
    ),
    CimQuery(
        "DiskDrive",
        "Win32_DiskDrive",
        ("DeviceID", "Index", "Model", "SerialNumber", "Size", "InterfaceType", "MediaType"),
    ),
    CimQuery(
        "PhysicalDisk",
        "MSFT_PhysicalDisk",
        ("DeviceId", "FriendlyName", "SerialNumber", "MediaType", "BusType", "Size"),
        namespace="root/Microsoft/Windows/Storage",
    ),
    CimQuery(
        "NetworkAdapter",
        "Win32_NetworkAdapter",
        ("Name", "NetConnectionID", "MACAddress", "Speed", "PNPDeviceID", "PhysicalAdapter"),
        filter="PhysicalAdapter = TRUE",
    ),
    CimQuery("OperatingSystem", "Win32_OperatingSystem", ("Caption", "Version", "BuildNumber")),
)

_PROLOGUE: Final = r"""
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = [System.Text.Encoding]::UTF8
$r = [ordered]@{}
$e = [ordered]@{}
function Q([string]$Key, [string]$Class, [object[]]$Props, [string]$Ns, [string]$Filter) {
  try {
    $p = @{ ClassName = $Class; Namespace = $Ns; OperationTimeoutSec = 20 }
    if ($Filter) { $p['Filter'] = $Filter }
    $r[$Key] = @(Get-CimInstance @p | Select-Object -Property $Props)
  } catch { $e[$Key] = $_.Exception.Message }
}
$date = @{ n = 'ReleaseDate'; e = { if ($_.ReleaseDate) {
  $_.ReleaseDate.ToString('yyyy-MM-dd') } } }
""".strip()

_EPILOGUE: Final = r"""
$k = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
try {
  $r['CurrentVersion'] = Get-ItemProperty -Path $k |
    Select-Object -Property DisplayVersion, ReleaseId, CurrentBuild, UBR
} catch { $e['CurrentVersion'] = $_.Exception.Message }
$r['Errors'] = $e
ConvertTo-Json -InputObject $r -Depth 4 -Compress
""".strip()


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _query_line(query: CimQuery) -> str:
    props = ", ".join(p if p.startswith("$") else _quoted(p) for p in query.properties)
    return " ".join(
        (
            "Q",
            _quoted(query.key),
            _quoted(query.cim_class),
            f"@({props})",
            _quoted(query.namespace),
            _quoted(query.filter),
        )
    )


CIM_SCRIPT: Final = "\n".join((_PROLOGUE, *(_query_line(q) for q in QUERIES), _EPILOGUE))

COMMAND: Final = (
    "powershell.exe",
    "-NoProfile",
    "-NonInteractive",
    "-Command",
    CIM_SCRIPT,
)

# MSFT_PhysicalDisk.MediaType and BusType values.
_MEDIA_TYPES: Final = {3: DiskType.HDD, 4: DiskType.SSD, 5: DiskType.SSD}
BUS_TYPE_NVME: Final = 17
BUS_TYPE_FILE_BACKED_VIRTUAL: Final = 15

# Win32_ComputerSystem.PCSystemType, for machines whose enclosure says nothing.
_PC_SYSTEM_TYPES: Final = {
    1: FormFactor.DESKTOP,
    2: FormFactor.LAPTOP,
    3: FormFactor.DESKTOP,  # Workstation
    4: FormFactor.SERVER,  # Enterprise Server
    5: FormFactor.SERVER,  # SOHO Server
    7: FormFactor.SERVER,  # Performance Server
}

# Win32_NetworkAdapter.Speed when the adapter does not know (disconnected, Wi-Fi off).
_UNKNOWN_SPEED: Final = 2**63 - 1
# Plug-and-play roots of software-made adapters (VPN, Hyper-V switch ports, Wi-Fi Direct).
_SOFTWARE_PNP_PREFIXES: Final = ("ROOT\\", "SWD\\", "{")


class CimError(ValueError):
    """Output that is not the script's JSON object."""


Record = Mapping[str, Any]


def records(value: object) -> list[Record]:
    """A query's results as a list of objects, whatever shape ConvertTo-Json gave them."""
    if value is None:
        return []
    if isinstance(value, dict):
        wrapped = value.get("value")
        if set(value) == {"value", "Count"} and isinstance(wrapped, list):
            value = wrapped
        else:
            return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _first(doc: Record, key: str) -> Record:
    found = records(doc.get(key))
    return found[0] if found else {}


def _text(record: Record, key: str) -> str:
    return junk.clean(record.get(key))


def _raw_text(record: Record, key: str) -> str:
    value = record.get(key)
    return value.strip() if isinstance(value, str) else ""


def parse_document(text: str) -> dict[str, Any]:
    """The script's JSON object; raises CimError for anything else."""
    start = text.find("{")
    if start < 0:
        raise CimError("no JSON object in the PowerShell output")
    try:
        doc = json.loads(text[start:])
    except (ValueError, RecursionError) as exc:
        raise CimError(f"PowerShell output is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise CimError("PowerShell output is not a JSON object")
    return doc


def identity(doc: Record) -> MachineIdentity:
    system = _first(doc, "ComputerSystem")
    product = _first(doc, "ComputerSystemProduct")
    bios = _first(doc, "BIOS")
    enclosure = _first(doc, "SystemEnclosure")
    chassis_types = enclosure.get("ChassisTypes")
    if not isinstance(chassis_types, list):
        chassis_types = [chassis_types]
    return MachineIdentity(
        vendor=_text(system, "Manufacturer") or _text(product, "Vendor"),
        model=_text(system, "Model") or _text(product, "Name"),
        serial_number=(
            _text(bios, "SerialNumber")
            or _text(product, "IdentifyingNumber")
            or _text(enclosure, "SerialNumber")
        ),
        uuid=junk.clean_uuid(product.get("UUID")),
        bios_vendor=_text(bios, "Manufacturer"),
        bios_version=_text(bios, "SMBIOSBIOSVersion") or _text(bios, "Version"),
        bios_date=iso_date(bios.get("ReleaseDate")),
        chassis_type=first_meaningful(
            as_int(t) for t in chassis_types if isinstance(t, int | str) and as_int(t)
        ),
    )


def form_factor_hint(doc: Record) -> FormFactor:
    return _PC_SYSTEM_TYPES.get(
        as_int(_first(doc, "ComputerSystem").get("PCSystemType")), FormFactor.UNKNOWN
    )


def virtualization(doc: Record) -> Virtualization:
    """The hypervisor the firmware strings name. HypervisorPresent alone does not make a VM:
    it is also true on hosts running Hyper-V, WSL 2 or virtualisation-based security."""
    system = _first(doc, "ComputerSystem")
    bios = _first(doc, "BIOS")
    for version in (_raw_text(bios, "Version"), _raw_text(bios, "SMBIOSBIOSVersion")):
        found = FirmwareStrings(
            vendor=_raw_text(system, "Manufacturer"),
            model=_raw_text(system, "Model"),
            bios_vendor=_raw_text(bios, "Manufacturer"),
            bios_version=version,
        )
        if hypervisor := hypervisor_from_firmware(found):
            return Virtualization(hypervisor=hypervisor)
    return Virtualization()


def cpu(doc: Record) -> CpuTopology:
    processors = records(doc.get("Processor"))
    names = [_text(p, "Name") for p in processors]
    return CpuTopology(
        model=next((n for n in names if n), ""),
        sockets=len(processors),
        cores=sum(as_int(p.get("NumberOfCores")) for p in processors),
        threads=sum(as_int(p.get("NumberOfLogicalProcessors")) for p in processors),
    )


def memory_modules(doc: Record) -> list[MemoryModule]:
    modules: list[MemoryModule] = []
    for item in records(doc.get("PhysicalMemory")):
        size = as_int(item.get("Capacity"))
        if size <= 0:
            continue
        modules.append(
            MemoryModule(
                slot=_text(item, "DeviceLocator") or _text(item, "BankLabel"),
                size_bytes=size,
                type=memory_type_name(as_int(item.get("SMBIOSMemoryType"))),
                speed_mts=as_int(item.get("Speed")),
                manufacturer=_text(item, "Manufacturer"),
                part_number=_text(item, "PartNumber"),
                serial_number=_text(item, "SerialNumber"),
            )
        )
    return modules


def _disk_type(physical: Record, model: str) -> DiskType:
    if as_int(physical.get("BusType")) == BUS_TYPE_NVME or "nvme" in model.casefold():
        return DiskType.NVME
    return _MEDIA_TYPES.get(as_int(physical.get("MediaType")), DiskType.UNKNOWN)


def disks(doc: Record) -> list[BlockDevice]:
    """Win32_DiskDrive joined to MSFT_PhysicalDisk by disk number (Index = DeviceId)."""
    physical_by_number: dict[int, Record] = {}
    for item in records(doc.get("PhysicalDisk")):
        number = item.get("DeviceId")
        if isinstance(number, int | str) and str(number).strip().isdigit():
            physical_by_number[int(str(number).strip()[:9])] = item
    numbered: list[tuple[int, Record]] = []
    for drive in records(doc.get("DiskDrive")):
        index = drive.get("Index")
        numbered.append((as_int(index) if isinstance(index, int | str) else -1, drive))
    # By disk number: CIM's enumeration order is not guaranteed, the section hash must be.
    numbered.sort(key=lambda pair: pair[0])
    seen: set[int] = set()
    result: list[BlockDevice] = []
    for number, drive in numbered:
        physical = physical_by_number.get(number, {}) if number >= 0 else {}
        seen.add(number)
        if as_int(physical.get("BusType")) == BUS_TYPE_FILE_BACKED_VIRTUAL:
            continue
        model = _text(drive, "Model") or _text(physical, "FriendlyName")
        result.append(
            BlockDevice(
                name=_raw_text(drive, "DeviceID") or f"\\\\.\\PHYSICALDRIVE{number}",
                model=model,
                size_bytes=as_int(physical.get("Size")) or as_int(drive.get("Size")),
                serial_number=_text(physical, "SerialNumber") or _text(drive, "SerialNumber"),
                type=_disk_type(physical, model),
            )
        )
    for number, physical in sorted(physical_by_number.items()):
        if number in seen or as_int(physical.get("BusType")) == BUS_TYPE_FILE_BACKED_VIRTUAL:
            continue
        model = _text(physical, "FriendlyName")
        result.append(
            BlockDevice(
                name=f"\\\\.\\PHYSICALDRIVE{number}",
                model=model,
                size_bytes=as_int(physical.get("Size")),
                serial_number=_text(physical, "SerialNumber"),
                type=_disk_type(physical, model),
            )
        )
    return result


def network_ports(doc: Record) -> list[NetworkPort]:
    ports: list[NetworkPort] = []
    for item in records(doc.get("NetworkAdapter")):
        name = _raw_text(item, "NetConnectionID") or _raw_text(item, "Name")
        if not name:
            continue
        speed = as_int(item.get("Speed"))
        pnp = _raw_text(item, "PNPDeviceID").upper()
        ports.append(
            NetworkPort(
                name=name,
                mac_address=normalise_mac(_raw_text(item, "MACAddress")),
                speed_mbps=speed // 1_000_000 if 0 < speed < _UNKNOWN_SPEED else 0,
                physical=item.get("PhysicalAdapter") is not False
                and not pnp.startswith(_SOFTWARE_PNP_PREFIXES),
            )
        )
    return ports


def os_release(doc: Record) -> OsRelease:
    system = _first(doc, "OperatingSystem")
    current = _first(doc, "CurrentVersion")
    caption = _raw_text(system, "Caption")
    name = caption.removeprefix("Microsoft ").strip()
    version = (
        _raw_text(current, "DisplayVersion")
        or _raw_text(current, "ReleaseId")
        or _raw_text(system, "Version")
    )
    build = _raw_text(current, "CurrentBuild") or _raw_text(system, "BuildNumber")
    ubr = current.get("UBR")
    if build and isinstance(ubr, int) and not isinstance(ubr, bool) and ubr >= 0:
        build = f"{build}.{ubr}"
    return OsRelease(name=name, version=version, build=build)


def kernel(doc: Record) -> str:
    return _raw_text(_first(doc, "OperatingSystem"), "Version")


def parse_cim_inventory(text: str) -> HardwareFacts:
    """The hardware facts in the script's output. Raises CimError when the output is not
    its JSON object; a section with unexpected content is logged and left unknown."""
    doc = parse_document(text)
    errors = doc.get("Errors")
    if isinstance(errors, dict):
        for query, message in errors.items():
            log.warning("CIM query %s failed: %s", query, message)

    def section(what: str, read: Callable[[Record], Any], default: Any) -> Any:
        return attempt(what, lambda: read(doc), default)

    system = _first(doc, "ComputerSystem")
    return HardwareFacts(
        os=section("the Windows version", os_release, OsRelease()),
        kernel=section("the Windows kernel version", kernel, ""),
        identity=section("the firmware identity", identity, MachineIdentity()),
        cpu=section("the processors", cpu, CpuTopology()),
        memory_total_bytes=as_int(system.get("TotalPhysicalMemory")),
        memory_modules=section("the memory modules", memory_modules, []),
        disks=section("the disks", disks, []),
        network_ports=section("the network adapters", network_ports, []),
        virtualization=section("the virtualisation", virtualization, Virtualization()),
        form_factor_hint=section("the PC system type", form_factor_hint, FormFactor.UNKNOWN),
    )


class CimHardware:
    """Windows hardware facts through the command runner."""

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def read(self) -> HardwareFacts:
        """The facts; all unknown (and logged) when PowerShell fails or times out."""
        try:
            result = self._runner.run(COMMAND, timeout=TIMEOUT_S)
        except CommandError as exc:
            log.warning("the CIM inventory query failed: %s", exc)
            return HardwareFacts()
        try:
            return parse_cim_inventory(result.text)
        except CimError as exc:
            log.warning(
                "the CIM inventory query (exit status %d) gave no inventory: %s",
                result.returncode,
                exc,
            )
            return HardwareFacts()
