"""The wrappers around signal sources: back-off after failures, and periodic slow reads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

from agent.collectors.health import (
    Guarded,
    Periodic,
    SignalUnavailable,
    Unavailable,
    UnavailableSignal,
)
from agent.collectors.health.signals import run_inline
from agent.platform.runner import CommandTimeout
from tests.agent.health.support import FakeClock


class Scripted:
    """A source that plays back a script of values and exceptions."""

    signal = "things"

    def __init__(self, *steps: int | Exception) -> None:
        self.steps = list(steps)
        self.reads = 0

    def read(self) -> int:
        self.reads += 1
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step


def test_guarded_passes_values_and_reasons_through() -> None:
    assert Guarded(Scripted(7)).read() == 7
    assert Guarded(Unavailable[int]("fans", "no fans")).read() == UnavailableSignal(
        "fans", "no fans"
    )


def test_guarded_backs_off_exponentially_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    source = Scripted(OSError("EIO"), OSError("EIO"), 5)
    guard = Guarded(source)
    with caplog.at_level(logging.WARNING):
        first = guard.read()
    assert isinstance(first, UnavailableSignal) and first.reason == "failed: EIO"
    assert "health signal things failed" in caplog.text
    skipped = guard.read()  # one read skipped after the first failure
    assert isinstance(skipped, UnavailableSignal) and "backing off" in skipped.reason
    assert source.reads == 1
    assert isinstance(guard.read(), UnavailableSignal)  # second failure
    assert guard.failures == 2
    assert [isinstance(guard.read(), UnavailableSignal) for _ in range(2)] == [True, True]
    assert source.reads == 2  # two reads skipped after the second failure
    assert guard.read() == 5
    assert guard.failures == 0


def test_guarded_absence_is_not_a_failure() -> None:
    guard = Guarded(Scripted(SignalUnavailable("no battery")))
    assert [guard.read() for _ in range(3)] == [UnavailableSignal("things", "no battery")] * 3
    assert guard.failures == 0


def test_guarded_reports_timeouts_and_permissions_plainly() -> None:
    timed_out = Guarded(Scripted(CommandTimeout("smartctl did not finish within 60 s"))).read()
    denied = Guarded(Scripted(PermissionError(13, "Permission denied"))).read()
    assert isinstance(timed_out, UnavailableSignal) and timed_out.reason.startswith("timed out")
    assert denied == UnavailableSignal("things", "permission denied")


def periodic(source: Scripted, clock: FakeClock, interval_s: float = 3600.0) -> Periodic[int]:
    return Periodic(source, interval_s, retry_s=60.0, clock=clock, start=run_inline)


def test_periodic_reads_once_per_interval() -> None:
    clock = FakeClock()
    source = Scripted(1, 2)
    slow = periodic(source, clock)
    assert [slow.read(), slow.read()] == [1, 1]
    clock.now += 3599
    assert slow.read() == 1
    assert source.reads == 1
    clock.now += 1
    assert slow.read() == 2
    assert source.reads == 2


def test_periodic_failure_is_reported_and_retried_sooner_doubling() -> None:
    clock = FakeClock()
    source = Scripted(OSError("boom"), OSError("boom"), 9)
    slow = periodic(source, clock)
    with pytest.raises(SignalUnavailable, match="failed: boom"):
        slow.read()
    clock.now += 59
    with pytest.raises(SignalUnavailable):
        slow.read()
    assert source.reads == 1
    clock.now += 1  # retry after 60 s
    with pytest.raises(SignalUnavailable):
        slow.read()
    assert source.reads == 2
    clock.now += 60  # the second retry waits 120 s
    with pytest.raises(SignalUnavailable):
        slow.read()
    assert source.reads == 2
    clock.now += 60
    assert slow.read() == 9


def test_periodic_absence_waits_a_whole_interval() -> None:
    clock = FakeClock()
    source = Scripted(SignalUnavailable("smartctl not installed"))
    slow = periodic(source, clock)
    for _ in range(3):
        with pytest.raises(SignalUnavailable, match="smartctl not installed"):
            slow.read()
        clock.now += 600
    assert source.reads == 1


def test_periodic_in_the_background_never_blocks_a_read() -> None:
    release = threading.Event()
    done = threading.Event()

    class Slow:
        signal = "slow"

        def read(self) -> int:
            release.wait(10)
            return 42

    started: list[threading.Thread] = []

    def start(work: Callable[[], None]) -> None:
        def run() -> None:
            work()
            done.set()

        thread = threading.Thread(target=run, daemon=True)
        started.append(thread)
        thread.start()

    slow = Periodic(Slow(), 3600.0, start=start)
    with pytest.raises(SignalUnavailable, match="not collected yet"):
        slow.read()
    with pytest.raises(SignalUnavailable, match="not collected yet"):
        slow.read()
    assert len(started) == 1  # one refresh at a time
    release.set()
    assert done.wait(10)
    assert slow.read() == 42


def test_periodic_rejects_a_non_positive_interval() -> None:
    with pytest.raises(ValueError):
        Periodic(Scripted(1), 0)
