"""Health sampling: CPU, memory, swap, load, filesystem use and uptime."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from agent.collectors.system import MemoryUsage, SystemProbe
from agent.platform import Platform


@dataclass(frozen=True, slots=True)
class FilesystemUsage:
    """Use of one mounted filesystem."""

    mountpoint: str
    device: str
    fstype: str
    total_bytes: int
    used_bytes: int
    percent: float


@dataclass(frozen=True, slots=True)
class HealthSample:
    """One sample of the machine's health."""

    sample_time: datetime
    cpu_percent: float
    memory: MemoryUsage
    swap: MemoryUsage
    load: tuple[float, float, float]
    uptime_seconds: int
    filesystems: list[FilesystemUsage] = field(default_factory=list)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HealthCollector:
    """Samples health through a SystemProbe; real filesystems only."""

    name = "health"

    def __init__(
        self,
        platform: Platform,
        probe: SystemProbe,
        *,
        clock: Callable[[], datetime] = _utc_now,
        wall_time: Callable[[], float] = time.time,
    ) -> None:
        self._platform = platform
        self._probe = probe
        self._clock = clock
        self._wall_time = wall_time

    def is_supported(self) -> bool:
        return self._platform.implemented

    def collect(self) -> HealthSample:
        return HealthSample(
            sample_time=self._clock(),
            cpu_percent=self._probe.cpu_percent(),
            memory=self._probe.virtual_memory(),
            swap=self._probe.swap_memory(),
            load=self._probe.load_average(),
            uptime_seconds=max(0, int(self._wall_time() - self._probe.boot_time())),
            filesystems=self._filesystems(),
        )

    def _filesystems(self) -> list[FilesystemUsage]:
        seen_devices: set[str] = set()
        result: list[FilesystemUsage] = []
        for part in self._probe.partitions():
            if self._platform.is_pseudo_filesystem(part.fstype):
                continue
            if part.device in seen_devices:
                continue  # bind mounts and snaps show one device many times
            try:
                usage = self._probe.disk_usage(part.mountpoint)
            except OSError:
                continue  # gone, or not ours to read
            seen_devices.add(part.device)
            result.append(
                FilesystemUsage(
                    mountpoint=part.mountpoint,
                    device=part.device,
                    fstype=part.fstype,
                    total_bytes=usage.total_bytes,
                    used_bytes=usage.used_bytes,
                    percent=usage.percent,
                )
            )
        return result
