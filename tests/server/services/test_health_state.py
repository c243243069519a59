"""Health state from fixed samples: each default threshold, offline, and the worst wins."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from server.services.health_state import (
    DEFAULT_THRESHOLDS,
    HealthState,
    HealthThresholds,
    assess_health,
)
from server.services.records import BatteryHealth, DiskHealth, FilesystemSample, HealthSample
from tests.server.services.support import health

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def sample(
    minutes_ago: float = 0, memory: float = 25.0, root: float = 40.0, **extra: object
) -> HealthSample:
    base = health(f"r-{minutes_ago}", NOW - timedelta(minutes=minutes_ago), disk=root)
    return dataclasses.replace(base, memory_percent=memory, **extra)  # type: ignore[arg-type]


def test_quiet_device_is_ok_with_no_reasons() -> None:
    assessment = assess_health([sample()], NOW, NOW)
    assert assessment.state is HealthState.OK
    assert assessment.reasons == ()
    assert assessment.assessed_at == NOW


def test_no_samples_but_seen_is_ok() -> None:
    assert assess_health([], NOW - timedelta(seconds=10), NOW).state is HealthState.OK


def test_filesystem_thresholds() -> None:
    assert assess_health([sample(root=90.0)], NOW, NOW).state is HealthState.OK
    warning = assess_health([sample(root=90.5)], NOW, NOW)
    assert warning.state is HealthState.WARNING
    [reason] = warning.reasons
    assert (reason.signal, reason.subject, reason.value) == ("filesystem", "/", 90.5)
    assert assess_health([sample(root=98.0)], NOW, NOW).state is HealthState.WARNING
    assert assess_health([sample(root=98.5)], NOW, NOW).state is HealthState.CRITICAL


def test_only_the_latest_sample_counts_for_filesystems() -> None:
    samples = [sample(minutes_ago=5, root=99.0), sample(root=50.0)]
    assert assess_health(list(reversed(samples)), NOW, NOW).state is HealthState.OK


def test_memory_high_for_fifteen_minutes_is_a_warning() -> None:
    sustained = [sample(minutes_ago=m, memory=95.0) for m in range(16)]
    assessment = assess_health(sustained, NOW, NOW)
    assert assessment.state is HealthState.WARNING
    assert [r.signal for r in assessment.reasons] == ["memory"]


def test_memory_high_for_less_than_fifteen_minutes_is_not() -> None:
    short = [sample(minutes_ago=m, memory=95.0) for m in range(14)]
    assert assess_health(short, NOW, NOW).state is HealthState.OK


def test_memory_dip_restarts_the_fifteen_minutes() -> None:
    samples = [sample(minutes_ago=m, memory=95.0) for m in range(30)]
    samples[10] = sample(minutes_ago=10, memory=50.0)
    assert assess_health(samples, NOW, NOW).state is HealthState.OK


def test_failing_smart_is_critical() -> None:
    disks = (
        DiskHealth("/dev/nvme0", passed=True),
        DiskHealth("/dev/sda", model="WDC", passed=False),
        DiskHealth("/dev/sdb", unavailable_reason="USB bridge"),
    )
    assessment = assess_health([sample(disks=disks)], NOW, NOW)
    assert assessment.state is HealthState.CRITICAL
    assert [(r.signal, r.subject) for r in assessment.reasons] == [("smart", "/dev/sda")]


def test_battery_wear_over_forty_percent_is_a_warning() -> None:
    worn = (BatteryHealth("BAT0", wear_percent=41.0), BatteryHealth("BAT1", wear_percent=40.0))
    assessment = assess_health([sample(batteries=worn)], NOW, NOW)
    assert assessment.state is HealthState.WARNING
    assert [r.subject for r in assessment.reasons] == ["BAT0"]
    unknown = (BatteryHealth("BAT0", wear_percent=None),)
    assert assess_health([sample(batteries=unknown)], NOW, NOW).state is HealthState.OK


def test_three_missed_heartbeats_is_offline() -> None:
    assert DEFAULT_THRESHOLDS.offline_after == timedelta(seconds=90)
    at_limit = assess_health([sample()], NOW - timedelta(seconds=90), NOW)
    assert at_limit.state is HealthState.OK
    silent = assess_health([sample()], NOW - timedelta(seconds=91), NOW)
    assert silent.state is HealthState.OFFLINE
    assert silent.reasons[0].signal == "heartbeat"
    assert assess_health([], None, NOW).state is HealthState.OFFLINE


def test_offline_wins_and_reasons_are_worst_first() -> None:
    filesystems = (
        FilesystemSample("/", "/dev/sda1", "ext4", 100, 91, 91.0),
        FilesystemSample("/var", "/dev/sda3", "ext4", 100, 99, 99.0),
    )
    assessment = assess_health([sample(filesystems=filesystems)], NOW - timedelta(hours=1), NOW)
    assert assessment.state is HealthState.OFFLINE
    assert [(r.state, r.subject) for r in assessment.reasons] == [
        (HealthState.OFFLINE, ""),
        (HealthState.CRITICAL, "/var"),
        (HealthState.WARNING, "/"),
    ]


def test_thresholds_can_be_changed() -> None:
    strict = HealthThresholds(filesystem_warning_percent=30.0, heartbeat_interval=timedelta(5))
    assert assess_health([sample()], NOW, NOW, strict).state is HealthState.WARNING
    assert HealthState.WARNING.label == "warning"
