"""Chart series: buckets computed by the database (SQLite and PostgreSQL), bounded, exact.

Samples are stored through ``ReportService`` as agents send them; the expected buckets are
computed here in Python from the same sample times and compared with what the SQL gave.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from server.services.device_series import (
    MAX_LINES,
    MAX_POINTS,
    METRICS,
    RANGES,
    DeviceSeries,
    bucket_seconds,
)
from server.services.errors import InvalidArgument
from server.services.records import (
    BatteryHealth,
    DeviceIdentity,
    FilesystemSample,
    TemperatureReading,
)
from tests.server.services.support import Collector, health


def cpu_at(n: int) -> float:
    return float((n * 37) % 100)


async def store_samples(
    collector: Collector, identity: DeviceIdentity, times: list[datetime], prefix: str = "s"
) -> None:
    samples = [
        dataclasses.replace(
            health(f"{prefix}-{n}", when, cpu=cpu_at(n)),
            memory_percent=float(n % 50),
            temperatures=(TemperatureReading("coretemp", "Package id 0", 40.0 + n % 30),),
            batteries=(BatteryHealth(name="BAT0", wear_percent=10.0 + n / 1000),),
        )
        for n, when in enumerate(times)
    ]
    for start in range(0, len(samples), 500):
        await collector.reports.store_health(identity, samples[start : start + 500])


def expected_buckets(
    times: list[datetime], start: datetime, end: datetime, width: int
) -> dict[int, list[int]]:
    """Sample indexes per bucket, as the series should group them."""
    buckets: dict[int, list[int]] = defaultdict(list)
    for n, when in enumerate(times):
        if start <= when < end:
            index = int((when - start).total_seconds() // width)
            if index < MAX_POINTS:
                buckets[index].append(n)
    return dict(sorted(buckets.items()))


def test_bucket_widths_keep_every_range_within_300_points() -> None:
    assert bucket_seconds(RANGES["24h"]) == 288
    assert bucket_seconds(RANGES["7d"]) == 2016
    assert bucket_seconds(RANGES["30d"]) == 8640
    for span in RANGES.values():
        assert span.total_seconds() / bucket_seconds(span) <= MAX_POINTS


async def test_a_month_of_samples_is_averaged_per_bucket_in_sql(collector: Collector) -> None:
    _, identity = await collector.enroll()
    now = collector.clock.now
    # 31 days of samples every 10 minutes, some just outside the range, one ahead of now
    times = [now - timedelta(days=31) + timedelta(minutes=10 * n) for n in range(31 * 144)]
    times.append(now + timedelta(minutes=5))
    await store_samples(collector, identity, times)
    series = DeviceSeries(collector.sessions, collector.clock)
    for range_name, span in RANGES.items():
        result = await series.series(identity.device_id, "cpu", range_name)
        width = bucket_seconds(span)
        assert result.bucket_seconds == width and result.end == now
        expected = expected_buckets(times, now - span, now, width)
        assert len(result.times) == len(expected) <= MAX_POINTS
        start = int((now - span).timestamp())
        assert result.times == [start + index * width for index in expected]
        average, peak = result.lines
        assert (average.label, peak.label) == ("average", "peak")
        for position, members in enumerate(expected.values()):
            values = [cpu_at(n) for n in members]
            assert average.values[position] == pytest.approx(sum(values) / len(values), abs=0.01)
            assert peak.values[position] == max(values)
    month = await series.series(identity.device_id, "memory", "30d")
    assert len(month.times) == MAX_POINTS  # every bucket of the month holds samples


async def test_json_figures_come_from_each_buckets_newest_sample(collector: Collector) -> None:
    _, identity = await collector.enroll()
    now = collector.clock.now
    times = [now - timedelta(hours=23) + timedelta(minutes=2 * n) for n in range(600)]
    await store_samples(collector, identity, times)
    series = DeviceSeries(collector.sessions, collector.clock)
    width = bucket_seconds(RANGES["24h"])
    expected = expected_buckets(times, now - RANGES["24h"], now, width)
    newest = [max(members) for members in expected.values()]
    temperatures = await series.series(identity.device_id, "temperature", "24h")
    assert [line.label for line in temperatures.lines] == ["coretemp Package id 0"]
    assert temperatures.lines[0].values == [40.0 + n % 30 for n in newest]
    wear = await series.series(identity.device_id, "battery_wear", "24h")
    assert wear.lines[0].label == "BAT0"
    assert wear.lines[0].values == [round(10.0 + n / 1000, 2) for n in newest]
    disks = await series.series(identity.device_id, "disk", "24h")
    assert {line.label: line.values[0] for line in disks.lines} == {"/": 40.0, "/boot": 9.8}


async def test_lines_are_capped_to_the_fullest_filesystems(collector: Collector) -> None:
    _, identity = await collector.enroll()
    now = collector.clock.now
    mounts = tuple(
        FilesystemSample(f"/m{n:02d}", f"/dev/x{n}", "ext4", 100, n, float(n)) for n in range(20)
    )
    sample = dataclasses.replace(health("many", now - timedelta(minutes=1)), filesystems=mounts)
    await collector.reports.store_health(identity, [sample])
    result = await DeviceSeries(collector.sessions, collector.clock).series(
        identity.device_id, "disk", "24h"
    )
    assert len(result.lines) == MAX_LINES
    assert [line.label for line in result.lines] == [f"/m{n:02d}" for n in range(12, 20)]


async def test_a_device_without_samples_and_other_devices_samples(collector: Collector) -> None:
    _, quiet = await collector.enroll()
    _, busy = await collector.enroll()
    await store_samples(collector, busy, [collector.clock.now - timedelta(minutes=1)])
    series = DeviceSeries(collector.sessions, collector.clock)
    for metric in METRICS:
        result = await series.series(quiet.device_id, metric, "7d")
        assert result.times == []
        assert all(line.values == [] for line in result.lines)
    assert len((await series.series(busy.device_id, "cpu", "7d")).times) == 1


@pytest.mark.parametrize(("metric", "range_name"), [("gpu", "24h"), ("cpu", "1y"), ("", "")])
async def test_unknown_metrics_and_ranges_are_refused(
    collector: Collector, metric: str, range_name: str
) -> None:
    with pytest.raises(InvalidArgument):
        await DeviceSeries(collector.sessions, collector.clock).series("x", metric, range_name)


async def test_a_sample_in_the_last_second_before_now_is_in_the_last_bucket(
    collector: Collector,
) -> None:
    """Buckets are counted in whole seconds from the start: a range ending at a fraction of a
    second must still place a sample of that same second in its last bucket, not past it."""
    _, identity = await collector.enroll()
    collector.clock.now = collector.clock.now.replace(microsecond=900_000)
    now = collector.clock.now
    latest = now - timedelta(microseconds=800_000)  # same whole second as now
    times = [now - timedelta(hours=h) for h in range(47, 0, -1)] + [latest]
    await store_samples(collector, identity, times)
    series = DeviceSeries(collector.sessions, collector.clock)
    for range_name in RANGES:
        result = await series.series(identity.device_id, "cpu", range_name)
        assert result.start <= latest < result.end
        assert result.end - now < timedelta(seconds=1)
        expected = expected_buckets(times, result.start, result.end, result.bucket_seconds)
        assert len(result.times) == len(expected), range_name
        last = expected[max(expected)]
        assert len(times) - 1 in last  # the latest sample is in the last bucket
        assert result.lines[1].values[-1] == max(cpu_at(n) for n in last)  # and drawn there
