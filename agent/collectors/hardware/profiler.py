"""macOS hardware facts from ``system_profiler -json``, ``ioreg``, ``sw_vers`` and ``sysctl``.

system_profiler's JSON holds one list per data type; each item has a ``_name`` and, for
buses and controllers, its devices under ``_items``. Keys used (as macOS 12-15 print them):
SPHardwareDataType ``machine_name``, ``machine_model``, ``chip_type`` (Apple silicon) or
``cpu_type`` (Intel), ``number_processors`` ("proc 10:8:2" or 4), ``packages``,
``physical_memory``, ``boot_rom_version``, ``serial_number``, ``platform_UUID``;
SPMemoryDataType ``dimm_*`` per slot under ``_items`` (Intel) or one soldered entry with
``SPMemoryDataType`` as its size (Apple silicon); SPNVMeDataType and SPSerialATADataType
drives with ``bsd_name``, ``device_model``, ``device_serial``, ``size_in_bytes`` and
``spsata_medium_type``; SPStorageDataType volumes with ``physical_drive``;
SPNetworkDataType services with ``interface``, ``hardware`` and ``Ethernet``/``MAC Address``;
SPSoftwareDataType ``os_version``, ``kernel_version``.

The serial number and platform UUID come from ioreg (IOPlatformExpertDevice), which does not
depend on system_profiler's detail level; system_profiler's copies are the fallback.
"""

from __future__ import annotations

import json
import logging
import plistlib
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from agent.collectors.hardware import junk
from agent.collectors.hardware.attempt import attempt
from agent.collectors.hardware.sysfs import normalise_mac
from agent.collectors.hardware.values import as_int, first_int, parse_size
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

DATA_TYPES: Final = (
    "SPHardwareDataType",
    "SPMemoryDataType",
    "SPStorageDataType",
    "SPNVMeDataType",
    "SPSerialATADataType",
    "SPNetworkDataType",
    "SPSoftwareDataType",
)
# "mini" leaves out serial numbers and other personal data; "basic" keeps them.
SYSTEM_PROFILER: Final = ("system_profiler", "-json", *DATA_TYPES, "-detailLevel", "basic")
SW_VERS: Final = ("sw_vers",)
HV_VMM_PRESENT: Final = ("sysctl", "-n", "kern.hv_vmm_present")
CPU_BRAND: Final = ("sysctl", "-n", "machdep.cpu.brand_string")
IOREG_PLATFORM: Final = ("ioreg", "-rd1", "-c", "IOPlatformExpertDevice", "-a")

APPLE: Final = "Apple Inc."

# Model names to form factors (Macs have no SMBIOS chassis type to ask).
_FORM_FACTORS: Final = (
    ("macbook", FormFactor.LAPTOP),
    ("powerbook", FormFactor.LAPTOP),
    ("imac", FormFactor.DESKTOP),
    ("mac mini", FormFactor.DESKTOP),
    ("macmini", FormFactor.DESKTOP),
    ("mac pro", FormFactor.DESKTOP),
    ("macpro", FormFactor.DESKTOP),
    ("mac studio", FormFactor.DESKTOP),
    ("mac13", FormFactor.DESKTOP),  # Mac Studio's model identifiers: Mac13,1 / Mac13,2
    ("xserve", FormFactor.SERVER),
)

# JEDEC manufacturer codes Intel Macs print instead of names.
_JEDEC: Final = {
    "0x802c": "Micron",
    "0x80ce": "Samsung",
    "0x80ad": "SK Hynix",
    "0x0198": "Kingston",
    "0x859b": "Crucial",
    "0x04cb": "A-DATA",
    "0x04cd": "G.Skill",
    "0x029e": "Corsair",
}

_PROCESSORS: Final = re.compile(r"^proc\s+(\d+)")
_HEX_TEXT: Final = re.compile(r"^0x([0-9a-fA-F]{2})+$")


class ProfilerError(ValueError):
    """Output that is not what the command prints."""


Record = Mapping[str, Any]


def _items(value: object) -> list[Record]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(record: Record, key: str) -> str:
    return junk.clean(record.get(key))


def _decoded(raw: str) -> str:
    """A "0x4D3437..." hex string (Intel Macs' DIMM part numbers) as text when printable."""
    if _HEX_TEXT.match(raw) and len(raw) <= 130:
        decoded = bytes.fromhex(raw[2:]).decode("ascii", errors="replace").strip("\x00 ")
        if decoded and decoded.isprintable():
            return junk.clean(decoded)
    return raw


def parse_profile(text: str) -> dict[str, Any]:
    """system_profiler's JSON object; raises ProfilerError for anything else."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProfilerError(f"system_profiler output is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ProfilerError("system_profiler output is not a JSON object")
    return doc


def _hardware(doc: Record) -> Record:
    found = _items(doc.get("SPHardwareDataType"))
    return found[0] if found else {}


def model_of(doc: Record) -> str:
    """ "MacBook Pro (MacBookPro18,3)": the marketing name and the model identifier."""
    hw = _hardware(doc)
    name, identifier = _text(hw, "machine_name"), _text(hw, "machine_model")
    if name and identifier:
        return f"{name} ({identifier})"
    return name or identifier


def identity(doc: Record, platform_device: Record) -> MachineIdentity:
    hw = _hardware(doc)
    manufacturer = platform_device.get("manufacturer")
    if isinstance(manufacturer, bytes):
        manufacturer = manufacturer.decode("utf-8", errors="replace")
    return MachineIdentity(
        vendor=junk.clean(manufacturer) or APPLE,
        model=model_of(doc),
        serial_number=junk.clean(platform_device.get("IOPlatformSerialNumber"))
        or _text(hw, "serial_number"),
        uuid=junk.clean_uuid(platform_device.get("IOPlatformUUID"))
        or junk.clean_uuid(hw.get("platform_UUID")),
        bios_vendor=APPLE if _text(hw, "boot_rom_version") else "",
        bios_version=_text(hw, "boot_rom_version"),
    )


def form_factor_hint(doc: Record) -> FormFactor:
    model = model_of(doc).casefold()
    for prefix, form in _FORM_FACTORS:
        if prefix in model:
            return form
    return FormFactor.UNKNOWN


def cpu(doc: Record) -> CpuTopology:
    hw = _hardware(doc)
    processors = hw.get("number_processors")
    cores = 0
    if isinstance(processors, str) and (match := _PROCESSORS.match(processors.strip())):
        cores = as_int(match.group(1))  # Apple silicon: "proc total:performance:efficiency"
    elif isinstance(processors, int | str):
        cores = as_int(processors)
    return CpuTopology(
        model=_text(hw, "chip_type") or _text(hw, "cpu_type"),
        sockets=as_int(hw.get("packages")) or (1 if cores else 0),
        cores=cores,
    )


def memory_total(doc: Record) -> int:
    return parse_size(_hardware(doc).get("physical_memory"))


def memory_modules(doc: Record) -> list[MemoryModule]:
    modules: list[MemoryModule] = []
    for entry in _items(doc.get("SPMemoryDataType")):
        slots = _items(entry.get("_items"))
        if not slots and entry.get("SPMemoryDataType"):
            # Apple silicon: memory is in the package, listed as one entry.
            size = parse_size(entry.get("SPMemoryDataType"))
            if size:
                modules.append(
                    MemoryModule(
                        slot="",
                        size_bytes=size,
                        type=_text(entry, "dimm_type"),
                        manufacturer=_text(entry, "dimm_manufacturer"),
                    )
                )
            continue
        for slot in slots:
            size = parse_size(slot.get("dimm_size"))
            if size <= 0:
                continue  # "empty"
            manufacturer = _text(slot, "dimm_manufacturer")
            modules.append(
                MemoryModule(
                    slot=_text(slot, "_name"),
                    size_bytes=size,
                    type=_text(slot, "dimm_type"),
                    speed_mts=first_int(slot.get("dimm_speed")),
                    manufacturer=_JEDEC.get(manufacturer.casefold(), manufacturer),
                    part_number=_decoded(_text(slot, "dimm_part_number")),
                    serial_number=_text(slot, "dimm_serial_number"),
                )
            )
    return modules


def _drives(doc: Record, data_type: str) -> list[Record]:
    drives: list[Record] = []
    for controller in _items(doc.get(data_type)):
        drives.extend(d for d in _items(controller.get("_items")) if d.get("bsd_name"))
    return drives


def _drive(drive: Record, kind: DiskType) -> BlockDevice:
    return BlockDevice(
        name=junk.clean(drive.get("bsd_name")),
        model=_text(drive, "device_model") or _text(drive, "_name"),
        size_bytes=as_int(drive.get("size_in_bytes")) or parse_size(drive.get("size")),
        serial_number=_text(drive, "device_serial"),
        type=kind,
    )


def _sata_type(drive: Record) -> DiskType:
    medium = str(drive.get("spsata_medium_type", "")).casefold()
    if "solid" in medium:
        return DiskType.SSD
    if "rotational" in medium:
        return DiskType.HDD
    return DiskType.UNKNOWN


def disks(doc: Record) -> list[BlockDevice]:
    """NVMe and SATA drives; drives only SPStorageDataType knows (Apple Fabric, USB) are
    added from the volumes' physical drive, without a size (a volume's is not the disk's)."""
    found = [_drive(d, DiskType.NVME) for d in _drives(doc, "SPNVMeDataType")]
    found += [_drive(d, _sata_type(d)) for d in _drives(doc, "SPSerialATADataType")]
    known = {d.model for d in found}
    for volume in _items(doc.get("SPStorageDataType")):
        physical = volume.get("physical_drive")
        if not isinstance(physical, dict):
            continue
        model = _text(physical, "device_name")
        if not model or model in known:
            continue
        known.add(model)
        medium = str(physical.get("medium_type", "")).casefold()
        protocol = str(physical.get("protocol", "")).casefold()
        kind = DiskType.UNKNOWN
        if medium == "ssd":
            kind = DiskType.NVME if protocol in ("pci-express", "apple fabric") else DiskType.SSD
        elif medium == "rotational":
            kind = DiskType.HDD
        found.append(BlockDevice(name="", model=model, size_bytes=0, type=kind))
    return sorted(found, key=lambda d: (d.name == "", d.name, d.model))


_PHYSICAL_HARDWARE: Final = frozenset({"ethernet", "airport", "wi-fi"})


def network_ports(doc: Record) -> list[NetworkPort]:
    ports: list[NetworkPort] = []
    for service in _items(doc.get("SPNetworkDataType")):
        interface = service.get("interface")
        if not isinstance(interface, str) or not interface.strip():
            continue
        ethernet = service.get("Ethernet")
        mac = ethernet.get("MAC Address") if isinstance(ethernet, dict) else None
        hardware = str(service.get("hardware", "")).casefold()
        ports.append(
            NetworkPort(
                name=interface.strip(),
                mac_address=normalise_mac(mac) if isinstance(mac, str) else "",
                physical=hardware in _PHYSICAL_HARDWARE and interface.startswith("en"),
            )
        )
    return ports


def _software(doc: Record) -> Record:
    found = _items(doc.get("SPSoftwareDataType"))
    return found[0] if found else {}


def parse_sw_vers(text: str) -> OsRelease:
    """ "ProductName: macOS / ProductVersion: 14.5 / BuildVersion: 23F79" lines."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return OsRelease(
        name=fields.get("ProductName", ""),
        version=fields.get("ProductVersion", ""),
        build=fields.get("BuildVersion", ""),
    )


_OS_VERSION: Final = re.compile(r"^(.*?)\s+(\d+(?:\.\d+)*)\s*(?:\((\w+)\))?$")


def os_release(doc: Record) -> OsRelease:
    """From SPSoftwareDataType's "macOS 14.5 (23F79)", when sw_vers could not say."""
    text = str(_software(doc).get("os_version", "")).strip()
    match = _OS_VERSION.match(text)
    if match is None:
        return OsRelease(name=text)
    name, version, build = match.groups()
    return OsRelease(name=name, version=version, build=build or "")


def kernel(doc: Record) -> str:
    """ "Darwin 23.5.0" -> "23.5.0"."""
    text = str(_software(doc).get("kernel_version", "")).strip()
    return text.removeprefix("Darwin").strip()


def parse_ioreg_platform(data: bytes) -> dict[str, Any]:
    """The IOPlatformExpertDevice's properties from ``ioreg -a`` (an XML plist holding an
    array of one dictionary, or the dictionary itself); raises ProfilerError otherwise."""
    try:
        parsed = plistlib.loads(data)
    except Exception as exc:  # plistlib raises assorted errors on malformed input
        raise ProfilerError(f"ioreg output is not a property list: {exc!r}") from exc
    if isinstance(parsed, list):
        parsed = next((item for item in parsed if isinstance(item, dict)), None)
    if not isinstance(parsed, dict):
        raise ProfilerError("ioreg output holds no device dictionary")
    return parsed


def virtualization(doc: Record, hv_vmm_present: bool) -> Virtualization:
    """A VM when the kernel says so (kern.hv_vmm_present) or the model is a VM's."""
    hw = _hardware(doc)
    hypervisor = ""
    for key in ("machine_model", "machine_name"):
        hypervisor = hypervisor or hypervisor_from_firmware(FirmwareStrings(model=_text(hw, key)))
    if not hypervisor and hv_vmm_present:
        hypervisor = "vm-other"
    return Virtualization(hypervisor=hypervisor)


def facts_from(
    doc: Record,
    *,
    platform_device: Record,
    release: OsRelease,
    hv_vmm_present: bool,
) -> HardwareFacts:
    """The facts from parsed outputs; a section with unexpected content is left unknown."""

    def section(what: str, read: Callable[[], Any], default: Any) -> Any:
        return attempt(what, read, default)

    return HardwareFacts(
        os=release
        if release.name
        else section("the macOS version", lambda: os_release(doc), OsRelease()),
        kernel=section("the Darwin version", lambda: kernel(doc), ""),
        identity=section(
            "the machine identity", lambda: identity(doc, platform_device), MachineIdentity()
        ),
        cpu=section("the processors", lambda: cpu(doc), CpuTopology()),
        memory_total_bytes=section("the memory size", lambda: memory_total(doc), 0),
        memory_modules=section("the memory modules", lambda: memory_modules(doc), []),
        disks=section("the disks", lambda: disks(doc), []),
        network_ports=section("the network services", lambda: network_ports(doc), []),
        virtualization=section(
            "the virtualisation", lambda: virtualization(doc, hv_vmm_present), Virtualization()
        ),
        form_factor_hint=section(
            "the form factor", lambda: form_factor_hint(doc), FormFactor.UNKNOWN
        ),
    )


class ProfilerHardware:
    """macOS hardware facts through the command runner; each command may fail alone."""

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def _output(self, args: tuple[str, ...], timeout: float) -> bytes | None:
        try:
            result = self._runner.run(args, timeout=timeout)
        except CommandError as exc:
            log.warning("%s failed: %s", args[0], exc)
            return None
        if result.returncode != 0:
            log.warning("%s exited with status %d", args[0], result.returncode)
            return None
        return result.stdout

    def _profile(self) -> dict[str, Any]:
        out = self._output(SYSTEM_PROFILER, 120.0)
        if out is None:
            return {}
        try:
            return parse_profile(out.decode("utf-8", errors="replace"))
        except ProfilerError as exc:
            log.warning("%s", exc)
            return {}

    def _platform_device(self) -> dict[str, Any]:
        out = self._output(IOREG_PLATFORM, 20.0)
        if out is None:
            return {}
        try:
            return parse_ioreg_platform(out)
        except ProfilerError as exc:
            log.warning("%s", exc)
            return {}

    def cpu_brand(self) -> str:
        out = self._output(CPU_BRAND, 10.0)
        return out.decode("utf-8", errors="replace").strip() if out else ""

    def read(self) -> HardwareFacts:
        sw_vers = self._output(SW_VERS, 10.0)
        hv = self._output(HV_VMM_PRESENT, 10.0)
        return facts_from(
            self._profile(),
            platform_device=self._platform_device(),
            release=parse_sw_vers(sw_vers.decode("utf-8", errors="replace"))
            if sw_vers
            else OsRelease(),
            hv_vmm_present=hv is not None and hv.strip() == b"1",
        )
