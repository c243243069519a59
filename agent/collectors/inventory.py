"""Inventory: what the machine is (OS, firmware identity, CPU, memory, disks, network)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from agent.collectors.system import NetworkInterface, SystemProbe
from agent.platform import BlockDevice, Platform

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OperatingSystem:
    """The running OS."""

    family: str
    name: str
    version: str
    kernel: str
    hostname: str


@dataclass(frozen=True, slots=True)
class Hardware:
    """The machine's hardware; strings are empty when unknown."""

    vendor: str
    model: str
    serial_number: str
    cpu_model: str
    cpu_cores: int
    cpu_threads: int
    memory_total_bytes: int
    disks: list[BlockDevice] = field(default_factory=list)
    network_interfaces: list[NetworkInterface] = field(default_factory=list)


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
    """The CPU model name, read at most once per process (py-cpuinfo is slow)."""

    def __init__(
        self, fallback: Callable[[], str], *, reader: Callable[[], str] = _cpuinfo_brand
    ) -> None:
        self._reader = reader
        self._fallback = fallback
        self._lock = threading.Lock()
        self._value: str | None = None

    def get(self) -> str:
        with self._lock:
            if self._value is None:
                try:
                    value = self._reader().strip()
                except Exception as exc:
                    log.warning("py-cpuinfo failed (%s); using the OS's CPU records", exc)
                    value = ""
                if not value:
                    try:
                        value = self._fallback().strip()
                    except Exception as exc:
                        log.warning("could not read the CPU model: %s", exc)
                        value = ""
                self._value = value
            return self._value


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
        return self._platform.implemented

    def collect(self) -> Inventory:
        release = self._platform.os_release()
        identity = self._platform.machine_identity()
        cores, threads = self._probe.cpu_counts()
        return Inventory(
            collect_time=self._clock(),
            os=OperatingSystem(
                family=self._platform.family,
                name=release.name,
                version=release.version,
                kernel=self._platform.kernel(),
                hostname=self._hostname(),
            ),
            hardware=Hardware(
                vendor=identity.vendor,
                model=identity.model,
                serial_number=identity.serial_number,
                cpu_model=self._cpu_model.get(),
                cpu_cores=cores,
                cpu_threads=threads,
                memory_total_bytes=self._memory_total(),
                disks=self._platform.block_devices(),
                network_interfaces=self._probe.network_interfaces(),
            ),
        )
