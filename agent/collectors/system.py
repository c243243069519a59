"""Portable system facts through psutil, behind a protocol so tests can inject recorded values."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Protocol

import psutil


@dataclass(frozen=True, slots=True)
class MemoryUsage:
    """Use of one kind of memory, in bytes."""

    total_bytes: int
    used_bytes: int
    percent: float


@dataclass(frozen=True, slots=True)
class Partition:
    """A mounted filesystem as the OS lists it."""

    device: str
    mountpoint: str
    fstype: str


@dataclass(frozen=True, slots=True)
class DiskUsage:
    """Space on one filesystem, in bytes."""

    total_bytes: int
    used_bytes: int
    percent: float


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    """A network interface with its MAC (lower case, colons), its IP addresses, its link
    speed in Mbit/s (0 when unknown or down) and whether it is physical hardware."""

    name: str
    mac_address: str
    addresses: list[str] = field(default_factory=list)
    speed_mbps: int = 0
    physical: bool = False


class SystemProbe(Protocol):
    """The live-system facts the collectors read."""

    def cpu_percent(self) -> float: ...

    def virtual_memory(self) -> MemoryUsage: ...

    def swap_memory(self) -> MemoryUsage: ...

    def load_average(self) -> tuple[float, float, float]: ...

    def partitions(self) -> list[Partition]: ...

    def disk_usage(self, mountpoint: str) -> DiskUsage: ...

    def boot_time(self) -> float: ...

    def cpu_counts(self) -> tuple[int, int]:
        """(physical cores, logical processors), 0 where unknown."""
        ...

    def network_interfaces(self) -> list[NetworkInterface]: ...


def _normalise_mac(raw: str) -> str:
    mac = raw.strip().lower().replace("-", ":")
    if not mac or set(mac) <= set("0:"):
        return ""
    return mac


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class PsutilProbe:
    """SystemProbe over psutil."""

    def __init__(self) -> None:
        # cpu_percent(interval=None) measures since the previous call: prime it now.
        psutil.cpu_percent(interval=None)

    def cpu_percent(self) -> float:
        return float(psutil.cpu_percent(interval=None))

    def virtual_memory(self) -> MemoryUsage:
        mem = psutil.virtual_memory()
        # "used" as total - available, consistent with psutil's percent.
        used = max(0, int(mem.total) - int(mem.available))
        return MemoryUsage(int(mem.total), used, float(mem.percent))

    def swap_memory(self) -> MemoryUsage:
        swap = psutil.swap_memory()
        return MemoryUsage(int(swap.total), int(swap.used), float(swap.percent))

    def load_average(self) -> tuple[float, float, float]:
        try:
            one, five, fifteen = psutil.getloadavg()
        except (AttributeError, OSError):
            return (0.0, 0.0, 0.0)
        return (float(one), float(five), float(fifteen))

    def partitions(self) -> list[Partition]:
        return [
            Partition(p.device, p.mountpoint, p.fstype) for p in psutil.disk_partitions(all=False)
        ]

    def disk_usage(self, mountpoint: str) -> DiskUsage:
        usage = psutil.disk_usage(mountpoint)
        return DiskUsage(int(usage.total), int(usage.used), float(usage.percent))

    def boot_time(self) -> float:
        return float(psutil.boot_time())

    def cpu_counts(self) -> tuple[int, int]:
        return (psutil.cpu_count(logical=False) or 0, psutil.cpu_count(logical=True) or 0)

    def network_interfaces(self) -> list[NetworkInterface]:
        """Interfaces with their addresses and link speed; ``physical`` is the platform's
        to say (psutil cannot tell)."""
        try:
            stats = psutil.net_if_stats()
        except OSError:
            stats = {}
        interfaces: list[NetworkInterface] = []
        for name, addrs in sorted(psutil.net_if_addrs().items()):
            mac = ""
            addresses: list[str] = []
            for addr in addrs:
                if addr.family == psutil.AF_LINK:
                    mac = _normalise_mac(addr.address)
                elif addr.family.name in ("AF_INET", "AF_INET6"):
                    addresses.append(addr.address.split("%", 1)[0])
            if not mac and addresses and all(_is_loopback(a) for a in addresses):
                continue  # the loopback interface says nothing about the machine
            stat = stats.get(name)
            speed = int(stat.speed) if stat is not None and stat.isup and stat.speed > 0 else 0
            interfaces.append(NetworkInterface(name, mac, addresses, speed_mbps=speed))
        return interfaces
