"""Memory PSI and OOM kills from procfs fixtures."""

from __future__ import annotations

import pytest

from agent.collectors.health import ParseError, PressureStall, SignalUnavailable
from agent.collectors.health.pressure import MemoryPressure, OomKills, parse_oom_kills, parse_psi
from tests.agent.health.support import FIXTURES


def test_memory_pressure_some_and_full() -> None:
    stall = MemoryPressure(FIXTURES / "laptop" / "proc").read()
    assert stall == PressureStall(1.25, 0.5, 0.1, 0.4, 0.2, 0.05)


def test_psi_without_full_line_reports_zero_full() -> None:
    stall = parse_psi("some avg10=2.00 avg60=1.00 avg300=0.50 total=10\n")
    assert (stall.some_avg10, stall.full_avg10) == (2.0, 0.0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
        "some avg10=x avg60=0.00 avg300=0.00 total=0\n",
        "some avg10=0.00 avg300=0.00\n",
        "many avg10=0.00 avg60=0.00 avg300=0.00\n",
        "some avg10=nan avg60=0.00 avg300=0.00\n",
    ],
)
def test_malformed_psi_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_psi(text)


def test_kernel_without_psi_is_unavailable() -> None:
    with pytest.raises(SignalUnavailable, match="pressure stall"):
        MemoryPressure(FIXTURES / "server" / "proc").read()


def test_oom_kills_counter() -> None:
    assert OomKills(FIXTURES / "laptop" / "proc").read() == 3


def test_kernel_without_oom_kill_counter_is_unavailable() -> None:
    with pytest.raises(SignalUnavailable, match=r"4\.13"):
        OomKills(FIXTURES / "server" / "proc").read()


def test_oom_kill_not_a_number_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_oom_kills("oom_kill many\n")
    assert parse_oom_kills("oom_kill_extra 4\n") is None
