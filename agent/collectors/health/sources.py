"""Which source reads each health signal, per OS: the factories ``agent.platform`` calls.

Fast signals (sysfs/procfs files, the registry) are read on every sample; slow ones (a
subprocess: smartctl, a package manager, PowerShell, ioreg) go through :class:`Periodic` and
are read at most once per interval, in the background unless ``background=False`` (for one-shot
commands such as ``parc-agent inventory --json``, which then wait for them).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.collectors.health.battery import LinuxBatteries, MacBatteries, WindowsBatteries
from agent.collectors.health.pressure import MemoryPressure, OomKills
from agent.collectors.health.reboot import (
    LinuxReboot,
    NeedsRestarting,
    RebootRequiredFile,
    WindowsReboot,
)
from agent.collectors.health.records import (
    BatteryHealth,
    DiskHealth,
    FanReading,
    PressureStall,
    RebootStatus,
    TemperatureReading,
    UpdateCounts,
)
from agent.collectors.health.sensors import LinuxFans, LinuxTemperatures
from agent.collectors.health.signals import (
    Periodic,
    SignalSource,
    T,
    Unavailable,
    run_inline,
    start_thread,
)
from agent.collectors.health.smart import SmartDisks
from agent.collectors.health.updates import LinuxUpdates, MacUpdates, WindowsUpdates
from agent.platform.registry import RegistryReader
from agent.platform.runner import CommandRunner

SLOW_INTERVAL_S = 3600.0
BATTERY_INTERVAL_S = 900.0

NOT_COLLECTED = "not collected on this platform"
LINUX_ONLY_PSI = "pressure stall information is Linux only"
LINUX_ONLY_OOM = "the OOM kill count is Linux only"


def _unwired(signal: str) -> Callable[[], Unavailable[Any]]:
    return lambda: Unavailable(signal, NOT_COLLECTED)


@dataclass(frozen=True)
class HealthSources:
    """One source per health signal beyond psutil's; each defaults to "not collected"."""

    temperatures: SignalSource[list[TemperatureReading]] = field(
        default_factory=_unwired("temperatures")
    )
    fans: SignalSource[list[FanReading]] = field(default_factory=_unwired("fans"))
    memory_pressure: SignalSource[PressureStall] = field(
        default_factory=_unwired("memory_pressure")
    )
    oom_kills: SignalSource[int] = field(default_factory=_unwired("oom_kills"))
    reboot: SignalSource[RebootStatus] = field(default_factory=_unwired("reboot_pending"))
    updates: SignalSource[UpdateCounts] = field(default_factory=_unwired("pending_updates"))
    batteries: SignalSource[list[BatteryHealth]] = field(default_factory=_unwired("battery"))
    disks: SignalSource[list[DiskHealth]] = field(default_factory=_unwired("smart"))


@dataclass(frozen=True)
class SlowSchedule:
    """How slow sources are refreshed: interval, retry after failure, clock and where they run."""

    interval_s: float = SLOW_INTERVAL_S
    battery_interval_s: float = BATTERY_INTERVAL_S
    retry_s: float = 300.0
    background: bool = True
    clock: Callable[[], float] = time.monotonic

    def wrap(self, source: SignalSource[T], interval_s: float | None = None) -> Periodic[T]:
        return Periodic(
            source,
            interval_s or self.interval_s,
            retry_s=self.retry_s,
            clock=self.clock,
            start=start_thread if self.background else run_inline,
        )


def linux_sources(
    runner: CommandRunner,
    is_virtual: Callable[[], bool],
    *,
    sys_root: Path = Path("/sys"),
    proc_root: Path = Path("/proc"),
    run_root: Path = Path("/run"),
    schedule: SlowSchedule | None = None,
) -> HealthSources:
    """Linux: hwmon/thermal, PSI, vmstat, battery sysfs and the reboot flag file every sample;
    needs-restarting, apt/dnf and smartctl on the slow schedule."""
    schedule = schedule or SlowSchedule()
    needs_restarting = (
        schedule.wrap(NeedsRestarting(runner)) if runner.which("needs-restarting") else None
    )
    return HealthSources(
        temperatures=LinuxTemperatures(sys_root),
        fans=LinuxFans(sys_root),
        memory_pressure=MemoryPressure(proc_root),
        oom_kills=OomKills(proc_root),
        reboot=LinuxReboot(RebootRequiredFile(run_root), needs_restarting),
        updates=schedule.wrap(LinuxUpdates(runner)),
        batteries=LinuxBatteries(sys_root),
        disks=schedule.wrap(SmartDisks(runner, is_virtual)),
    )


def windows_sources(
    runner: CommandRunner,
    registry: RegistryReader,
    is_virtual: Callable[[], bool],
    *,
    schedule: SlowSchedule | None = None,
) -> HealthSources:
    """Windows: pending reboot from the registry every sample; Windows Update, batteries (CIM)
    and smartctl (where smartmontools is installed) on the slow schedule."""
    schedule = schedule or SlowSchedule()
    return HealthSources(
        temperatures=Unavailable(
            "temperatures",
            "not read on Windows: MSAcpi_ThermalZoneTemperature is unreliable "
            "(an ACPI zone, often static or absent, admin only); Windows has no standard "
            "sensor API",
        ),
        fans=Unavailable(
            "fans", "not read on Windows: Win32_Fan carries no speed on most machines"
        ),
        memory_pressure=Unavailable("memory_pressure", LINUX_ONLY_PSI),
        oom_kills=Unavailable("oom_kills", LINUX_ONLY_OOM),
        reboot=WindowsReboot(registry),
        updates=schedule.wrap(WindowsUpdates(runner)),
        batteries=schedule.wrap(WindowsBatteries(runner), schedule.battery_interval_s),
        disks=schedule.wrap(SmartDisks(runner, is_virtual)),
    )


def darwin_sources(
    runner: CommandRunner,
    is_virtual: Callable[[], bool],
    *,
    schedule: SlowSchedule | None = None,
) -> HealthSources:
    """macOS: softwareupdate, ioreg batteries and smartctl (where installed) on the slow
    schedule; no temperatures, fans, PSI, OOM count or reboot flag."""
    schedule = schedule or SlowSchedule()
    return HealthSources(
        temperatures=Unavailable(
            "temperatures",
            "not read on macOS: sensors are behind private SMC/IOHID interfaces "
            "or powermetrics as root",
        ),
        fans=Unavailable("fans", "not read on macOS: fan speeds are behind the private SMC"),
        memory_pressure=Unavailable("memory_pressure", LINUX_ONLY_PSI),
        oom_kills=Unavailable("oom_kills", LINUX_ONLY_OOM),
        reboot=Unavailable("reboot_pending", "macOS keeps no pending-reboot flag"),
        updates=schedule.wrap(MacUpdates(runner)),
        batteries=schedule.wrap(MacBatteries(runner), schedule.battery_interval_s),
        disks=schedule.wrap(SmartDisks(runner, is_virtual)),
    )
