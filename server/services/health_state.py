"""A device's health state (ok, warning, critical, offline) and the reasons for it.

The one place the default thresholds live, so the rules engine that comes later owns them.
Defaults follow established monitoring tools (Nagios/Icinga ``check_disk``, Prometheus
node-exporter alert rules, smartd):

- a filesystem over 90 % used is a warning, over 98 % critical;
- memory over 90 % for 15 minutes is a warning;
- a failing SMART verdict is critical;
- battery wear over 40 % is a warning;
- no heartbeat for 3 intervals is offline.

``assess_health`` is a pure function of the device's recent health samples, when it was last
seen, and now: no database, no clock of its own. An offline device stays offline whatever its
last samples said; the reasons still list what those samples showed. Only the memory rule
looks further back than the latest sample, and only at each sample's time and memory use:
``assess_readings`` takes just that (a ``MemoryReading`` per sample) beside the latest sample,
so the collector need not load whole samples to judge a device.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from server.services.records import HealthSample


class HealthState(enum.IntEnum):
    """Ordered by severity, so the worst of several is their ``max``."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    OFFLINE = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class HealthThresholds:
    """The limits the state is judged by."""

    filesystem_warning_percent: float = 90.0
    filesystem_critical_percent: float = 98.0
    memory_warning_percent: float = 90.0
    memory_warning_duration: timedelta = timedelta(minutes=15)
    battery_wear_warning_percent: float = 40.0
    heartbeat_interval: timedelta = timedelta(seconds=30)
    missed_heartbeats: int = 3

    @property
    def offline_after(self) -> timedelta:
        return self.heartbeat_interval * self.missed_heartbeats


DEFAULT_THRESHOLDS = HealthThresholds()


@dataclass(frozen=True)
class HealthReason:
    """One thing wrong: its severity, the signal (``filesystem``, ``memory``, ``smart``,
    ``battery``, ``heartbeat``), what it is about (a mount point, a disk, a battery), a
    sentence for people, and the measured value where there is one."""

    state: HealthState
    signal: str
    subject: str
    message: str
    value: float | None = None


@dataclass(frozen=True)
class HealthAssessment:
    """A device's state and every reason for it, worst first."""

    state: HealthState
    reasons: tuple[HealthReason, ...]
    assessed_at: datetime


class MemoryReading(NamedTuple):
    """What the memory rule needs of one sample."""

    sample_time: datetime
    memory_percent: float


def assess_health(
    samples: Sequence[HealthSample],
    last_seen_at: datetime | None,
    now: datetime,
    thresholds: HealthThresholds = DEFAULT_THRESHOLDS,
) -> HealthAssessment:
    """The state of a device from its recent ``samples`` (any order) and last heartbeat."""
    ordered = sorted(samples, key=lambda sample: sample.sample_time)
    memory = [MemoryReading(sample.sample_time, sample.memory_percent) for sample in ordered]
    return assess_readings(ordered[-1] if ordered else None, memory, last_seen_at, now, thresholds)


def assess_readings(
    latest: HealthSample | None,
    memory: Sequence[MemoryReading],
    last_seen_at: datetime | None,
    now: datetime,
    thresholds: HealthThresholds = DEFAULT_THRESHOLDS,
) -> HealthAssessment:
    """Like ``assess_health``, from the ``latest`` sample and the memory readings of the
    recent samples, oldest first, ending with ``latest``'s."""
    reasons: list[HealthReason] = []
    if latest is not None:
        reasons += _filesystem_reasons(latest, thresholds)
        reasons += _memory_reasons(memory, thresholds)
        reasons += _smart_reasons(latest)
        reasons += _battery_reasons(latest, thresholds)
    offline = _offline_reason(last_seen_at, now, thresholds)
    if offline is not None:
        reasons.insert(0, offline)
    reasons.sort(key=lambda reason: reason.state, reverse=True)  # stable: rule order kept
    state = max((reason.state for reason in reasons), default=HealthState.OK)
    return HealthAssessment(state=state, reasons=tuple(reasons), assessed_at=now)


def _offline_reason(
    last_seen_at: datetime | None, now: datetime, thresholds: HealthThresholds
) -> HealthReason | None:
    if last_seen_at is None:
        return HealthReason(HealthState.OFFLINE, "heartbeat", "", "never seen")
    silent = now - last_seen_at
    if silent <= thresholds.offline_after:
        return None
    return HealthReason(
        HealthState.OFFLINE,
        "heartbeat",
        "",
        f"no heartbeat for {int(silent.total_seconds())} s "
        f"(offline after {int(thresholds.offline_after.total_seconds())} s)",
        silent.total_seconds(),
    )


def _filesystem_reasons(sample: HealthSample, thresholds: HealthThresholds) -> list[HealthReason]:
    reasons = []
    for filesystem in sample.filesystems:
        used = filesystem.percent
        if used > thresholds.filesystem_critical_percent:
            state = HealthState.CRITICAL
        elif used > thresholds.filesystem_warning_percent:
            state = HealthState.WARNING
        else:
            continue
        reasons.append(
            HealthReason(
                state,
                "filesystem",
                filesystem.mountpoint,
                f"{filesystem.mountpoint} is {used:.0f} % full",
                used,
            )
        )
    return reasons


def _memory_reasons(
    ordered: Sequence[MemoryReading], thresholds: HealthThresholds
) -> list[HealthReason]:
    """Warn when every sample of the last ``memory_warning_duration`` (or longer) was high."""
    if not ordered:
        return []
    latest = ordered[-1]
    start: datetime | None = None
    for sample in reversed(ordered):
        if sample.memory_percent <= thresholds.memory_warning_percent:
            break
        start = sample.sample_time
    if start is None or latest.sample_time - start < thresholds.memory_warning_duration:
        return []
    minutes = int((latest.sample_time - start).total_seconds() // 60)
    return [
        HealthReason(
            HealthState.WARNING,
            "memory",
            "",
            f"memory over {thresholds.memory_warning_percent:.0f} % for {minutes} minutes",
            latest.memory_percent,
        )
    ]


def _smart_reasons(sample: HealthSample) -> list[HealthReason]:
    return [
        HealthReason(
            HealthState.CRITICAL,
            "smart",
            disk.device,
            f"{disk.device} fails its SMART health check"
            + (f" ({disk.model})" if disk.model else ""),
        )
        for disk in sample.disks
        if disk.passed is False
    ]


def _battery_reasons(sample: HealthSample, thresholds: HealthThresholds) -> list[HealthReason]:
    return [
        HealthReason(
            HealthState.WARNING,
            "battery",
            battery.name,
            f"battery {battery.name} is {battery.wear_percent:.0f} % worn",
            battery.wear_percent,
        )
        for battery in sample.batteries
        if battery.wear_percent is not None
        and battery.wear_percent > thresholds.battery_wear_warning_percent
    ]
