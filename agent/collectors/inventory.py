"""Inventory: what the machine is (OS, firmware identity, CPU, memory, disks, network).

The platform reads the OS-specific facts (``Platform.hardware_facts()``); psutil supplies
what it knows portably (core and thread counts, memory size, interface addresses and link
speeds); the OS's records or, failing them, py-cpuinfo name the CPU, once per process
(:class:`CpuModel`). The form factor is derived here, in
one place, from the chassis type and the virtualisation.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from agent.collectors.hardware.attempt import attempt
from agent.collectors.hardware.chassis import form_factor
from agent.collectors.system import NetworkInterface, SystemProbe
from agent.platform import BlockDevice, Platform
from agent.platform.base import FormFactor, HardwareFacts, MemoryModule, NetworkPort

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OperatingSystem:
    """The running OS."""

    family: str
    name: str
    version: str
    kernel: str
    hostname: str
    build: str = ""


@dataclass(frozen=True, slots=True)
class Hardware:
    """The machine's hardware; strings are empty and numbers 0 when unknown.

    ``virtualization`` is "kvm", "container:docker", "kvm,container:docker" or "" on bare
    metal; ``form_factor`` is VIRTUAL_MACHINE whenever a hypervisor was detected.
    """

    vendor: str
    model: str
    serial_number: str
    cpu_model: str
    cpu_cores: int
    cpu_threads: int
    memory_total_bytes: int
    disks: list[BlockDevice] = field(default_factory=list)
    network_interfaces: list[NetworkInterface] = field(default_factory=list)
    uuid: str = ""
    bios_vendor: str = ""
    bios_version: str = ""
    bios_date: str = ""
    chassis_type: int = 0
    form_factor: FormFactor = FormFactor.UNKNOWN
    cpu_sockets: int = 0
    memory_modules: list[MemoryModule] = field(default_factory=list)
    virtualization: str = ""


@dataclass(frozen=True, slots=True)
class Inventory:
    """One inventory of the machine."""

    collect_time: datetime
    os: OperatingSystem
    hardware: Hardware


def _cpuinfo_brand() -> str:
    import cpuinfo  # slow (> 1 s, it starts a subprocess): only ever called once

    info = cpuinfo.get_cpu_info()
    return str(info.get("brand_raw") or "")


class CpuModel:
    """The CPU model name, read once per process.

    The OS's own record comes first (Linux /proc/cpuinfo, the Windows registry, macOS
    sysctl: cheap, and the same CPUID brand string py-cpuinfo would report); py-cpuinfo,
    which costs over a second of CPU in a child process, runs only when the OS has none,
    and then at most once per process.
    """

    def __init__(
        self, os_record: Callable[[], str], *, reader: Callable[[], str] = _cpuinfo_brand
    ) -> None:
        self._reader = reader
        self._os_record = os_record
        self._lock = threading.Lock()
        self._value: str | None = None

    def get(self) -> str:
        with self._lock:
            if self._value is None:
                try:
                    value = self._os_record().strip()
                except Exception as exc:
                    log.warning("could not read the OS's CPU records: %s", exc)
                    value = ""
                if not value:
                    try:
                        value = self._reader().strip()
                    except Exception as exc:
                        log.warning("py-cpuinfo failed: %s", exc)
                        value = ""
                self._value = value
            return self._value


def merge_interfaces(
    interfaces: list[NetworkInterface], ports: list[NetworkPort]
) -> list[NetworkInterface]:
    """psutil's interfaces with the platform's link speed and physical flag, matched by name
    (or by MAC, as Windows names adapters two ways); the platform's speed wins, psutil's is
    the fallback."""
    by_name = {p.name: p for p in ports}
    by_mac = {p.mac_address: p for p in ports if p.mac_address}
    merged: list[NetworkInterface] = []
    for interface in interfaces:
        port = by_name.get(interface.name) or by_mac.get(interface.mac_address)
        if port is None:
            merged.append(interface)
            continue
        merged.append(
            replace(
                interface,
                mac_address=interface.mac_address or port.mac_address,
                speed_mbps=port.speed_mbps or interface.speed_mbps,
                physical=port.physical,
            )
        )
    return merged


class InventoryCollector:
    """Collects the inventory through the platform's readers and a SystemProbe."""

    name = "inventory"

    def __init__(
        self,
        platform: Platform,
        probe: SystemProbe,
        *,
        memory_total: Callable[[], int] | None = None,
        cpu_model: CpuModel | None = None,
        hostname: Callable[[], str] = socket.gethostname,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._platform = platform
        self._probe = probe
        self._memory_total = memory_total or (lambda: probe.virtual_memory().total_bytes)
        self._cpu_model = cpu_model or CpuModel(platform.cpu_model_fallback)
        self._hostname = hostname
        self._clock = clock

    def is_supported(self) -> bool:
        return self._platform.hardware_supported

    def collect(self) -> Inventory:
        facts: HardwareFacts = self._platform.hardware_facts()
        cores, threads = attempt("the CPU counts", self._probe.cpu_counts, (0, 0))
        no_interfaces: list[NetworkInterface] = []
        interfaces = attempt(
            "the network interfaces", self._probe.network_interfaces, no_interfaces
        )
        identity = facts.identity
        return Inventory(
            collect_time=self._clock(),
            os=OperatingSystem(
                family=self._platform.family,
                name=facts.os.name,
                version=facts.os.version,
                kernel=facts.kernel,
                hostname=self._hostname(),
                build=facts.os.build,
            ),
            hardware=Hardware(
                vendor=identity.vendor,
                model=identity.model,
                serial_number=identity.serial_number,
                cpu_model=self._cpu_model.get() or facts.cpu.model,
                cpu_cores=facts.cpu.cores or cores,
                cpu_threads=facts.cpu.threads or threads,
                memory_total_bytes=attempt("the memory size", self._memory_total, 0)
                or facts.memory_total_bytes,
                disks=facts.disks,
                network_interfaces=merge_interfaces(interfaces, facts.network_ports),
                uuid=identity.uuid,
                bios_vendor=identity.bios_vendor,
                bios_version=identity.bios_version,
                bios_date=identity.bios_date,
                chassis_type=identity.chassis_type,
                form_factor=form_factor(
                    identity.chassis_type,
                    virtual_machine=facts.virtualization.is_virtual_machine,
                    hint=facts.form_factor_hint,
                ),
                cpu_sockets=facts.cpu.sockets,
                memory_modules=facts.memory_modules,
                virtualization=facts.virtualization.label,
            ),
        )
