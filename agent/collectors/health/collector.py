"""Health sampling: psutil's CPU, memory, swap, load, filesystems and uptime, plus every signal
source of :class:`HealthSources` (sensors, pressure, reboot, updates, batteries, SMART).

Each source is guarded on its own: one that fails is logged, backed off and reported as an
unavailable signal while the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from agent.collectors.health.records import (
    BatteryHealth,
    DiskHealth,
    FanReading,
    HealthSignals,
    PressureStall,
    RebootStatus,
    TemperatureReading,
    UnavailableSignal,
    UpdateCounts,
)
from agent.collectors.health.signals import Guarded
from agent.collectors.health.sources import HealthSources
from agent.collectors.system import MemoryUsage, SystemProbe
from agent.platform import Platform

T = TypeVar("T")


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
    load_per_core: tuple[float, float, float] | None = None
    signals: HealthSignals = field(default_factory=HealthSignals)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HealthCollector:
    """Samples health through a SystemProbe (real filesystems only) and the signal sources."""

    name = "health"

    def __init__(
        self,
        platform: Platform,
        probe: SystemProbe,
        *,
        sources: HealthSources | None = None,
        clock: Callable[[], datetime] = _utc_now,
        wall_time: Callable[[], float] = time.time,
    ) -> None:
        self._platform = platform
        self._probe = probe
        self._clock = clock
        self._wall_time = wall_time
        self._logical_cpus: int | None = None
        sources = sources or HealthSources()
        self._temperatures = Guarded(sources.temperatures)
        self._fans = Guarded(sources.fans)
        self._memory_pressure = Guarded(sources.memory_pressure)
        self._oom_kills = Guarded(sources.oom_kills)
        self._reboot = Guarded(sources.reboot)
        self._updates = Guarded(sources.updates)
        self._batteries = Guarded(sources.batteries)
        self._disks = Guarded(sources.disks)

    def is_supported(self) -> bool:
        return self._platform.implemented

    def collect(self) -> HealthSample:
        load = self._probe.load_average()
        return HealthSample(
            sample_time=self._clock(),
            cpu_percent=self._probe.cpu_percent(),
            memory=self._probe.virtual_memory(),
            swap=self._probe.swap_memory(),
            load=load,
            uptime_seconds=max(0, int(self._wall_time() - self._probe.boot_time())),
            filesystems=self._filesystems(),
            load_per_core=self._per_core(load),
            signals=self._signals(),
        )

    def _per_core(self, load: tuple[float, float, float]) -> tuple[float, float, float] | None:
        if self._logical_cpus is None:
            # The count hardly ever changes and psutil reads sysfs for it: once per collector.
            self._logical_cpus = max(0, self._probe.cpu_counts()[1])
        cpus = self._logical_cpus
        if cpus <= 0:
            return None
        return (load[0] / cpus, load[1] / cpus, load[2] / cpus)

    def _signals(self) -> HealthSignals:
        missing: list[UnavailableSignal] = []

        def take(guard: Guarded[T]) -> T | None:
            result = guard.read()
            if isinstance(result, UnavailableSignal):
                missing.append(result)
                return None
            return result

        temperatures: list[TemperatureReading] | None = take(self._temperatures)
        fans: list[FanReading] | None = take(self._fans)
        pressure: PressureStall | None = take(self._memory_pressure)
        oom_kills: int | None = take(self._oom_kills)
        reboot: RebootStatus | None = take(self._reboot)
        updates: UpdateCounts | None = take(self._updates)
        batteries: list[BatteryHealth] | None = take(self._batteries)
        disks: list[DiskHealth] | None = take(self._disks)
        if updates is not None and updates.security is None:
            missing.append(
                UnavailableSignal(
                    "pending_security_updates",
                    updates.security_unknown_reason or "the package manager does not tell",
                )
            )
        return HealthSignals(
            temperatures=temperatures or [],
            fans=fans or [],
            memory_pressure=pressure,
            oom_kills=oom_kills,
            reboot=reboot,
            updates=updates,
            batteries=batteries or [],
            disks=disks or [],
            unavailable=missing,
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
