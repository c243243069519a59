"""The Linux health sources on this machine: they run and return well-formed data.

Structure only, never values: whatever this machine has, every signal is either present or
listed as unavailable with a reason, and the report serialises.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from agent.collectors.health import (
    HealthCollector,
    HealthSignals,
    SlowSchedule,
    linux_sources,
)
from agent.collectors.system import PsutilProbe
from agent.platform.runner import SubprocessRunner
from agent.wire.health import health_report
from parc.v1 import agent_service_pb2 as pb
from tests.agent.support import fixture_platform

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

SIGNALS: dict[str, Callable[[HealthSignals], bool]] = {
    "temperatures": lambda s: bool(s.temperatures),
    "fans": lambda s: bool(s.fans),
    "memory_pressure": lambda s: s.memory_pressure is not None,
    "oom_kills": lambda s: s.oom_kills is not None,
    "reboot_pending": lambda s: s.reboot is not None,
    "pending_updates": lambda s: s.updates is not None,
    "battery": lambda s: bool(s.batteries),
    "smart": lambda s: bool(s.disks),
}


def test_linux_sources_on_this_machine() -> None:
    sources = linux_sources(
        SubprocessRunner(), lambda: False, schedule=SlowSchedule(background=False)
    )
    health = HealthCollector(fixture_platform("desktop"), PsutilProbe(), sources=sources)
    sample = health.collect()
    signals = sample.signals
    unavailable = {u.signal: u.reason for u in signals.unavailable}
    for name, present in SIGNALS.items():
        assert present(signals) != (name in unavailable), name
    assert all(reason.strip() for reason in unavailable.values())
    assert all(-100.0 <= t.celsius <= 300.0 for t in signals.temperatures)
    assert all(f.rpm >= 0 for f in signals.fans)
    if signals.memory_pressure is not None:
        assert 0.0 <= signals.memory_pressure.some_avg10 <= 100.0
    if signals.oom_kills is not None:
        assert signals.oom_kills >= 0
    if signals.updates is not None:
        assert signals.updates.security is None or signals.updates.security >= 0
        assert signals.updates.total >= (signals.updates.security or 0)
    for battery in signals.batteries:
        assert battery.capacity_unit in ("mWh", "mAh", "")
    for disk in signals.disks:
        assert disk.device and (disk.smart_available or disk.unavailable_reason)
    if sample.load_per_core is not None:
        assert all(value >= 0 for value in sample.load_per_core)
    report = pb.HealthReport.FromString(health_report(sample, "live").SerializeToString())
    assert {u.signal for u in report.unavailable} == set(unavailable)
