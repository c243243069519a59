"""Paths and recorded runners for the health tests."""

from __future__ import annotations

from pathlib import Path

from agent.collectors.health.sources import SlowSchedule

FIXTURES = Path(__file__).parent.parent / "fixtures" / "health"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def inline_schedule(clock: FakeClock | None = None, interval_s: float = 3600.0) -> SlowSchedule:
    """Slow sources refreshed inline (no thread) on a clock the test controls."""
    return SlowSchedule(
        interval_s=interval_s,
        battery_interval_s=interval_s / 4,
        retry_s=60.0,
        background=False,
        clock=clock or FakeClock(),
    )
