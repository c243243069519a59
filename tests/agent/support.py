"""Shared test helpers: fixture platforms and a SystemProbe with recorded values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agent.collectors.system import DiskUsage, MemoryUsage, NetworkInterface, Partition
from agent.platform.linux import LinuxPlatform

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_platform(name: str) -> LinuxPlatform:
    root = FIXTURES / name
    return LinuxPlatform(
        sys_root=root / "sys",
        etc_root=root / "etc",
        proc_root=root / "proc",
        usr_lib_root=root / "usr" / "lib",
    )


@dataclass
class RecordedProbe:
    """A SystemProbe that returns fixed values."""

    cpu: float = 12.5
    memory: MemoryUsage = field(
        default_factory=lambda: MemoryUsage(16_000_000_000, 4_000_000_000, 25.0)
    )
    swap: MemoryUsage = field(default_factory=lambda: MemoryUsage(2_000_000_000, 0, 0.0))
    load: tuple[float, float, float] = (0.5, 0.25, 0.1)
    mounts: list[Partition] = field(
        default_factory=lambda: [
            Partition("/dev/nvme0n1p2", "/", "ext4"),
            Partition("proc", "/proc", "proc"),
            Partition("tmpfs", "/run", "tmpfs"),
            Partition("overlay", "/var/lib/docker/overlay2/x/merged", "overlay"),
            Partition("/dev/loop3", "/snap/core/1", "squashfs"),
            Partition("/dev/nvme0n1p1", "/boot/efi", "vfat"),
            Partition("/dev/nvme0n1p2", "/home/bind", "ext4"),  # bind mount of /
            Partition("/dev/sdb1", "/media/gone", "xfs"),  # unmounted meanwhile
        ]
    )
    usage: dict[str, DiskUsage] = field(
        default_factory=lambda: {
            "/": DiskUsage(500_000_000_000, 100_000_000_000, 20.0),
            "/boot/efi": DiskUsage(500_000_000, 6_000_000, 1.2),
            "/home/bind": DiskUsage(500_000_000_000, 100_000_000_000, 20.0),
        }
    )
    booted: float = 1_000.0
    counts: tuple[int, int] = (8, 16)
    interfaces: list[NetworkInterface] = field(
        default_factory=lambda: [
            NetworkInterface("eth0", "a4:bb:6d:01:02:03", ["192.168.1.20", "fe80::1"]),
        ]
    )
    cpu_calls: int = 0

    def cpu_percent(self) -> float:
        self.cpu_calls += 1
        return self.cpu

    def virtual_memory(self) -> MemoryUsage:
        return self.memory

    def swap_memory(self) -> MemoryUsage:
        return self.swap

    def load_average(self) -> tuple[float, float, float]:
        return self.load

    def partitions(self) -> list[Partition]:
        return list(self.mounts)

    def disk_usage(self, mountpoint: str) -> DiskUsage:
        if mountpoint not in self.usage:
            raise FileNotFoundError(mountpoint)
        return self.usage[mountpoint]

    def boot_time(self) -> float:
        return self.booted

    def cpu_counts(self) -> tuple[int, int]:
        return self.counts

    def network_interfaces(self) -> list[NetworkInterface]:
        return list(self.interfaces)
