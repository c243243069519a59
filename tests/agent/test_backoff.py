"""Full-jitter exponential backoff, with an injected random source."""

from __future__ import annotations

import random
from typing import cast

import grpc
import pytest

from agent.backoff import RECONNECT_BASE_S, RECONNECT_CAP_S, Backoff
from agent.channel import ChannelHolder
from agent.commands import CommandHandler


def test_ceilings_double_until_the_cap() -> None:
    seen: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        seen.append((low, high))
        return high

    backoff = Backoff(base=1.0, cap=300.0, uniform=uniform)
    delays = [backoff.next_delay() for _ in range(12)]
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert all(low == 0.0 for low, _ in seen)


def test_full_jitter_stays_within_bounds() -> None:
    rng = random.Random(1234)
    backoff = Backoff(base=1.0, cap=300.0, uniform=rng.uniform)
    for attempt in range(40):
        ceiling = min(300.0, 2.0**attempt)
        delay = backoff.next_delay()
        assert 0.0 <= delay <= ceiling


def test_lower_end_of_the_jitter() -> None:
    backoff = Backoff(base=1.0, cap=10.0, uniform=lambda low, high: low)
    assert [backoff.next_delay() for _ in range(3)] == [0.0, 0.0, 0.0]


def test_reset_starts_over() -> None:
    backoff = Backoff(base=2.0, cap=60.0, uniform=lambda low, high: high)
    for _ in range(5):
        backoff.next_delay()
    assert backoff.attempt == 5
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.next_delay() == 2.0


def test_many_failures_do_not_overflow() -> None:
    backoff = Backoff(base=1.0, cap=300.0, uniform=lambda low, high: high)
    for _ in range(5000):
        delay = backoff.next_delay()
    assert delay == 300.0


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError):
        Backoff(base=0)
    with pytest.raises(ValueError):
        Backoff(base=10, cap=5)


def test_the_reconnect_defaults_start_from_a_wider_window() -> None:
    # A fleet whose streams all end at once (a collector restart) first spreads over 5 s,
    # then 10 s, ..., never waiting more than a minute between attempts.
    backoff = Backoff(uniform=lambda low, high: high)
    assert [backoff.next_delay() for _ in range(7)] == [5, 10, 20, 40, 60, 60, 60]
    assert (backoff.base, backoff.cap) == (RECONNECT_BASE_S, RECONNECT_CAP_S)
    lowest = Backoff(uniform=lambda low, high: low)
    assert lowest.next_delay() == 0.0  # full jitter: some agents retry at once


def test_the_agent_reconnects_with_the_backoff_the_benchmarks_measure() -> None:
    # agent/app.py's production tuning, not only Backoff's defaults: the fleet benchmarks
    # (bench/loadgen.py) use these constants.
    from agent.app import Tuning

    assert (Tuning().backoff_base, Tuning().backoff_cap) == (RECONNECT_BASE_S, RECONNECT_CAP_S)


class NoChannels:
    """Enough of a ChannelHolder for a stream that never connects."""

    def on_rebuild(self, callback: object) -> None:
        pass


def refusal(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), "refused")


def test_a_refused_device_asks_again_after_five_minutes_not_at_the_backoff_cap() -> None:
    from agent.app import Tuning
    from agent.stream import REFUSED_RETRY_S, ConnectStream

    assert Tuning().refused_retry == REFUSED_RETRY_S == 300.0
    stream = ConnectStream(
        cast(ChannelHolder, NoChannels()),
        cast(CommandHandler, object()),
        backoff=Backoff(base=1.0, cap=2.0, uniform=lambda low, high: high),
        refused_retry=123.0,
    )
    assert stream._broken(refusal(grpc.StatusCode.UNAUTHENTICATED), 0.0) == 123.0
    assert stream._broken(refusal(grpc.StatusCode.PERMISSION_DENIED), 0.0) == 123.0
    # Anything else backs off as usual.
    assert stream._broken(refusal(grpc.StatusCode.UNAVAILABLE), 0.0) == 1.0
