"""Linux hardware facts from sysfs and procfs, through injected roots.

Formats: sysfs-class-dmi (``/sys/class/dmi/id``; ``product_serial``, ``product_uuid``,
``board_serial`` and ``chassis_serial`` are root-only), SMBIOS entries
(``/sys/firmware/dmi/entries/17-*/raw``, root-only), sysfs-block (``size`` in 512-byte
sectors, ``queue/rotational``, ``device/{model,serial,wwid,vpd_pg80}``), sysfs-class-net
(``address``, ``speed`` in Mbit/s, ``device`` present for hardware), ``/proc/cpuinfo``.

Commands are spawned only when files are inconclusive: ``dmidecode -t 17`` when running as
root on a machine with DMI but without SMBIOS entries in sysfs, ``systemd-detect-virt --vm``
when the CPU says a hypervisor is present but neither the firmware nor the
paravirtual clock sources say which.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Final

from agent.collectors.hardware import junk, smbios
from agent.collectors.hardware.attempt import attempt
from agent.collectors.hardware.values import iso_date
from agent.collectors.hardware.virt import (
    FirmwareStrings,
    hypervisor_from_firmware,
    normalise_name,
)
from agent.platform.base import (
    BlockDevice,
    CpuTopology,
    DiskType,
    MachineIdentity,
    MemoryModule,
    NetworkPort,
    Virtualization,
)
from agent.platform.runner import CommandError, CommandRunner

log = logging.getLogger(__name__)

# Block devices with no hardware behind them.
VIRTUAL_BLOCK_PREFIXES: Final = ("loop", "ram", "zram", "dm-", "md", "nbd")
# Paravirtual disks: the kernel cannot know what is behind them (virtio says rotational).
PARAVIRTUAL_BLOCK_PREFIXES: Final = ("vd", "xvd")

# Paravirtual clock sources a guest kernel offers only under their hypervisor.
CLOCKSOURCE_HYPERVISORS: Final = {
    "kvm-clock": "kvm",
    "hyperv_clocksource_tsc_page": "hyperv",
    "hyperv_clocksource_msr": "hyperv",
    "xen": "xen",
}

MAX_SYSFS_READ: Final = 64 * 1024
_HEX: Final = re.compile(r"^[0-9a-fA-F:]+$")


def read_text(path: Path) -> str | None:
    """A small sysfs/procfs file's content, or None when it is missing or unreadable
    (root-only attributes raise PermissionError for everyone else)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SYSFS_READ)
    except PermissionError:
        log.debug("no permission to read %s", path)
        return None
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


def read_bytes(path: Path) -> bytes | None:
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_SYSFS_READ)
    except OSError:
        return None


def parse_int(text: str | None) -> int | None:
    """A sysfs integer, None when absent or not an integer."""
    if text is None:
        return None
    value = text.strip()
    if not value or len(value) > 24:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def normalise_mac(raw: str) -> str:
    """A MAC address lower case with colons, "" when absent or all zero."""
    mac = raw.strip().lower().replace("-", ":")
    if not mac or not _HEX.match(mac) or set(mac) <= set("0:"):
        return ""
    return mac


def serial_from_vpd_pg80(data: bytes) -> str:
    """The unit serial number in a SCSI VPD page 0x80 (4-byte header, then ASCII)."""
    if len(data) < 4 or data[1] != 0x80:
        return ""
    length = int.from_bytes(data[2:4], "big")
    return junk.clean(data[4 : 4 + length].decode("ascii", errors="replace"))


def serial_from_wwid(wwid: str) -> str:
    """The serial in a "t10.ATA <model> <serial>" world-wide id; "" for other kinds
    (eui./naa./nvme. ids name the device, they are not its serial)."""
    text = wwid.strip()
    if not text.startswith("t10.ATA"):
        return ""
    parts = text.split()
    return junk.clean(parts[-1]) if len(parts) >= 3 else ""


def cpu_sockets(cpuinfo: str) -> int:
    """Distinct "physical id" values; 1 when processors are listed without them (ARM)."""
    ids: set[str] = set()
    processors = 0
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        if key == "physical id":
            ids.add(value.strip())
        elif key == "processor":
            processors += 1
    if ids:
        return len(ids)
    return 1 if processors else 0


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The CPU feature flags of the first processor (x86 "flags", ARM "Features")."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


class SysfsHardware:
    """Linux hardware readers over injectable /sys, /proc and / roots and a command runner."""

    def __init__(
        self,
        *,
        sys_root: Path = Path("/sys"),
        proc_root: Path = Path("/proc"),
        fs_root: Path = Path("/"),
        runner: CommandRunner | None = None,
        euid: Callable[[], int] = os.geteuid,
    ) -> None:
        self._sys = sys_root
        self._proc = proc_root
        self._fs = fs_root
        self._runner = runner
        self._euid = euid
        # SMBIOS tables and the hypervisor are fixed while the system runs: a command asked
        # about them is asked once per process.
        self._dmidecode_modules: list[MemoryModule] | None = None
        self._detected_hypervisor: str | None = None

    @property
    def _dmi(self) -> Path:
        return self._sys / "class" / "dmi" / "id"

    def _dmi_field(self, *names: str) -> str:
        for name in names:
            raw = read_text(self._dmi / name)
            if raw is not None and (value := junk.clean(raw)):
                return value
        return ""

    def _firmware_strings(self) -> FirmwareStrings:
        return FirmwareStrings(
            vendor=self._dmi_field("sys_vendor"),
            model=self._dmi_field("product_name"),
            bios_vendor=self._dmi_field("bios_vendor"),
            bios_version=self._dmi_field("bios_version"),
            board_vendor=self._dmi_field("board_vendor"),
            product_version=self._dmi_field("product_version"),
        )

    def identity(self) -> MachineIdentity:
        chassis = parse_int(read_text(self._dmi / "chassis_type")) or 0
        return MachineIdentity(
            vendor=self._dmi_field("sys_vendor", "board_vendor"),
            model=self._dmi_field("product_name", "board_name"),
            serial_number=self._dmi_field("product_serial"),
            uuid=junk.clean_uuid(read_text(self._dmi / "product_uuid") or ""),
            bios_vendor=self._dmi_field("bios_vendor"),
            bios_version=self._dmi_field("bios_version"),
            bios_date=iso_date(self._dmi_field("bios_date")),
            chassis_type=chassis if 0 < chassis < 0x80 else 0,
        )

    def _cpuinfo(self) -> str:
        return read_text(self._proc / "cpuinfo") or ""

    def cpu(self) -> CpuTopology:
        """Sockets only: the model comes from py-cpuinfo, cores and threads from psutil."""
        return CpuTopology(sockets=cpu_sockets(self._cpuinfo()))

    def memory_modules(self) -> list[MemoryModule]:
        entries = self._sys / "firmware" / "dmi" / "entries"
        try:
            found = [p for p in entries.iterdir() if p.name.startswith("17-")]
        except OSError:
            found = []
        found.sort(key=lambda p: parse_int(p.name[3:]) or 0)
        modules: list[MemoryModule] = []
        unreadable = False
        for entry in found:
            try:
                data = (entry / "raw").read_bytes()
            except PermissionError:
                unreadable = True
                break
            except OSError:
                continue
            try:
                module = smbios.parse_memory_device(data)
            except smbios.SmbiosError as exc:
                log.warning("ignoring %s: %s", entry / "raw", exc)
                continue
            if module is not None:
                modules.append(module)
        if modules or (found and not unreadable):
            return modules
        if unreadable or not self._dmi.is_dir() or self._euid() != 0:
            # Unreadable entries mean we are not root, and dmidecode needs root as well;
            # no DMI at all means there is no SMBIOS table for dmidecode either.
            return []
        return self._dmidecode_memory()

    def _dmidecode_memory(self) -> list[MemoryModule]:
        if self._dmidecode_modules is None:
            self._dmidecode_modules = self._run_dmidecode()
        return list(self._dmidecode_modules or [])

    def _run_dmidecode(self) -> list[MemoryModule] | None:
        """The modules dmidecode lists; [] when it is not installed; None when it failed
        (not remembered, so the next inventory tries again)."""
        if self._runner is None or self._runner.which("dmidecode") is None:
            return []
        try:
            result = self._runner.run(["dmidecode", "-t", "17"], timeout=10)
        except CommandError as exc:
            log.warning("dmidecode failed: %s", exc)
            return None
        if result.returncode != 0:
            log.warning("dmidecode exited with status %d", result.returncode)
            return None
        return smbios.parse_dmidecode_memory(result.text)

    def _disk_serial(self, entry: Path) -> str:
        for path in (entry / "device" / "serial", entry / "serial"):
            raw = read_text(path)
            if raw is not None and (value := junk.clean(raw)):
                return value
        vpd = read_bytes(entry / "device" / "vpd_pg80")
        if vpd and (value := serial_from_vpd_pg80(vpd)):
            return value
        for path in (entry / "device" / "wwid", entry / "wwid"):
            raw = read_text(path)
            if raw is not None and (value := serial_from_wwid(raw)):
                return value
        return ""

    def _disk_type(self, entry: Path) -> DiskType:
        name = entry.name
        if name.startswith("nvme"):
            return DiskType.NVME
        if name.startswith(PARAVIRTUAL_BLOCK_PREFIXES):
            return DiskType.UNKNOWN
        rotational = parse_int(read_text(entry / "queue" / "rotational"))
        if rotational == 1:
            return DiskType.HDD
        if rotational == 0:
            return DiskType.SSD
        return DiskType.UNKNOWN

    def block_devices(self) -> list[BlockDevice]:
        try:
            entries = sorted(self._sys.joinpath("block").iterdir(), key=lambda p: p.name)
        except OSError:
            return []
        devices: list[BlockDevice] = []
        for entry in entries:
            if entry.name.startswith(VIRTUAL_BLOCK_PREFIXES):
                continue
            sectors = parse_int(read_text(entry / "size")) or 0
            if sectors <= 0:
                continue
            devices.append(
                BlockDevice(
                    name=entry.name,
                    model=junk.clean(read_text(entry / "device" / "model") or ""),
                    size_bytes=sectors * 512,
                    serial_number=self._disk_serial(entry),
                    type=self._disk_type(entry),
                )
            )
        return devices

    def network_ports(self) -> list[NetworkPort]:
        net = self._sys / "class" / "net"
        try:
            entries = sorted(net.iterdir(), key=lambda p: p.name)
        except OSError:
            return []
        ports: list[NetworkPort] = []
        for entry in entries:
            if entry.name == "lo":
                continue
            speed = parse_int(read_text(entry / "speed"))
            ports.append(
                NetworkPort(
                    name=entry.name,
                    mac_address=normalise_mac(read_text(entry / "address") or ""),
                    speed_mbps=speed if speed is not None and 0 < speed < 10_000_000 else 0,
                    physical=(entry / "device").exists(),
                )
            )
        return ports

    def _container(self) -> str:
        run_container = read_text(self._fs / "run" / "systemd" / "container")
        if run_container is not None and (name := normalise_name(run_container)):
            return name
        if (self._fs / ".dockerenv").exists():
            return "docker"
        if (self._fs / "run" / ".containerenv").exists():
            return "podman"
        environ = read_bytes(self._proc / "1" / "environ")
        if environ:
            for item in environ.split(b"\x00"):
                if item.startswith(b"container="):
                    name = normalise_name(item[10:].decode("ascii", errors="replace"))
                    if name:
                        return name
        osrelease = (read_text(self._proc / "sys" / "kernel" / "osrelease") or "").lower()
        if "microsoft" in osrelease or "wsl" in osrelease:
            return "wsl"
        if (self._proc / "vz").exists() and not (self._proc / "bc").exists():
            return "openvz"
        return ""

    def _clocksource_hypervisor(self) -> str:
        path = self._sys / "devices" / "system" / "clocksource" / "clocksource0"
        available = (read_text(path / "available_clocksource") or "").split()
        return next(
            (CLOCKSOURCE_HYPERVISORS[c] for c in available if c in CLOCKSOURCE_HYPERVISORS), ""
        )

    def _hypervisor(self) -> str:
        named = hypervisor_from_firmware(self._firmware_strings())
        if named and named != "qemu":
            return named
        # Paravirtual clocks name the hypervisor without a command; "QEMU" firmware with
        # kvm-clock is QEMU accelerated by KVM.
        if clock := self._clocksource_hypervisor():
            return clock
        if named:
            return named
        hypervisor_type = (read_text(self._sys / "hypervisor" / "type") or "").strip()
        if hypervisor_type == "xen":
            capabilities = read_text(self._proc / "xen" / "capabilities") or ""
            return "" if "control_d" in capabilities else "xen"
        compatible = read_bytes(self._sys / "firmware" / "devicetree" / "base" / "compatible")
        if compatible and b"linux,dummy-virt" in compatible:
            return "qemu"
        if "hypervisor" not in cpu_flags(self._cpuinfo()):
            return ""
        # The CPU runs under a hypervisor the firmware does not name: ask systemd.
        return self._detect_virt() or "vm-other"

    def _detect_virt(self) -> str:
        if self._detected_hypervisor is None:
            self._detected_hypervisor = self._run_detect_virt()
        return self._detected_hypervisor or ""

    def _run_detect_virt(self) -> str | None:
        """systemd-detect-virt's VM name; "" when absent or "none"; None when it failed."""
        if self._runner is None or self._runner.which("systemd-detect-virt") is None:
            return ""
        try:
            result = self._runner.run(["systemd-detect-virt", "--vm"], timeout=10)
        except CommandError as exc:
            log.warning("systemd-detect-virt failed: %s", exc)
            return None
        # Exit status 1 with "none" means no VM; anything else is an answer or nothing.
        return normalise_name(result.text)

    def virtualization(self) -> Virtualization:
        return Virtualization(
            hypervisor=attempt("the hypervisor", self._hypervisor, ""),
            container=attempt("the container", self._container, ""),
        )
