"""Timestamps become the same datetimes as protobuf's own conversion gives, or fail as it does."""

from __future__ import annotations

import random
from datetime import UTC

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from server.api.convert import to_datetime

FIRST, LAST = -62135596800, 253402300799  # 0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [
        (0, 0),
        (FIRST, 0),
        (LAST, 999_999_999),
        (-1, 999_999_999),
        (1_700_000_000, 1),
        (1_700_000_000, 999),
        (1_700_000_000, 1_000),
        (1_700_000_000, 123_456_789),
    ],
)
def test_a_timestamp_converts_as_protobuf_does(seconds: int, nanos: int) -> None:
    stamp = Timestamp(seconds=seconds, nanos=nanos)
    converted = to_datetime(stamp)
    assert converted == stamp.ToDatetime(tzinfo=UTC)
    assert converted.tzinfo is UTC
    assert converted.microsecond == nanos // 1000


def test_random_timestamps_convert_as_protobuf_does() -> None:
    rng = random.Random(6)
    for _ in range(2000):
        stamp = Timestamp(seconds=rng.randint(FIRST, LAST), nanos=rng.randrange(1_000_000_000))
        assert to_datetime(stamp) == stamp.ToDatetime(tzinfo=UTC)


def test_random_whole_second_timestamps_convert_as_protobuf_does() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        stamp = Timestamp(seconds=rng.randint(FIRST, LAST), nanos=rng.randrange(1000))
        converted = to_datetime(stamp)
        assert converted == stamp.ToDatetime(tzinfo=UTC)
        assert converted.tzinfo is UTC


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [(FIRST - 1, 0), (LAST + 1, 0), (0, -1), (0, 1_000_000_000)],
)
def test_a_timestamp_out_of_range_fails_as_with_protobuf(seconds: int, nanos: int) -> None:
    stamp = Timestamp(seconds=seconds, nanos=nanos)
    with pytest.raises(ValueError):
        stamp.ToDatetime(tzinfo=UTC)
    with pytest.raises(ValueError):
        to_datetime(stamp)
