"""A device's health over time, for charts: 24 h, 7 d or 30 d cut into at most 300 buckets.

A range is [now - span, now); bucket i covers [start + i·width, start + (i+1)·width).

The database does the work: one ``GROUP BY`` over the (device_id, sample_time) index gives
each bucket's average and peak CPU and memory and the id of its newest sample. Figures kept
in JSON (filesystems, temperatures, batteries) are read from those newest samples only, so a
chart never reads more than ``MAX_POINTS`` rows of JSON however many samples a month holds.
Lines per chart are capped (``MAX_LINES``): a machine with forty mounts shows its fullest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.clock import Clock, utc_now
from server.services.errors import InvalidArgument
from server.store.models import HealthSampleRow

CPU = "cpu"
MEMORY = "memory"
DISK = "disk"
TEMPERATURE = "temperature"
BATTERY_WEAR = "battery_wear"
METRICS = (CPU, MEMORY, DISK, TEMPERATURE, BATTERY_WEAR)
UNITS = {CPU: "%", MEMORY: "%", DISK: "%", TEMPERATURE: "°C", BATTERY_WEAR: "%"}
TITLES = {
    CPU: "CPU",
    MEMORY: "Memory",
    DISK: "Disk use",
    TEMPERATURE: "Temperatures",
    BATTERY_WEAR: "Battery wear",
}
RANGES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
MAX_POINTS = 300
MAX_LINES = 8
_JSON_COLUMNS = {
    DISK: HealthSampleRow.filesystems,
    TEMPERATURE: HealthSampleRow.temperatures,
    BATTERY_WEAR: HealthSampleRow.batteries,
}


@dataclass(frozen=True)
class SeriesLine:
    """One line of a chart: a value per point of ``Series.times`` (None: no figure there)."""

    label: str
    values: list[float | None]


@dataclass(frozen=True)
class Series:
    """A chart's data: bucket start times (Unix seconds) and the lines drawn over them."""

    metric: str
    range: str
    unit: str
    start: datetime
    end: datetime
    bucket_seconds: int
    times: list[int] = field(default_factory=list)
    lines: list[SeriesLine] = field(default_factory=list)


def parse_metric(text: str) -> str:
    if text not in METRICS:
        raise InvalidArgument(f"metric must be one of {', '.join(METRICS)}")
    return text


def parse_range(text: str) -> str:
    if text not in RANGES:
        raise InvalidArgument(f"range must be one of {', '.join(RANGES)}")
    return text


def bucket_seconds(span: timedelta, points: int = MAX_POINTS) -> int:
    """The bucket width that cuts ``span`` into at most ``points`` buckets."""
    return max(1, math.ceil(span.total_seconds() / points))


def _epoch(session: AsyncSession) -> ColumnElement[Any]:
    """``sample_time`` as Unix seconds, in the session's database's own spelling."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return func.extract("epoch", HealthSampleRow.sample_time)
    if name == "sqlite":  # stored as naive UTC text: strftime reads it as UTC
        return cast(func.strftime("%s", HealthSampleRow.sample_time), Integer)
    raise NotImplementedError(f"unsupported database {name!r}: use SQLite or PostgreSQL")


def _next_second(moment: datetime) -> datetime:
    """``moment`` rounded up to a whole second."""
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def _bucket(session: AsyncSession, start: datetime, width: int) -> ColumnElement[Any]:
    offset = _epoch(session) - literal(int(start.timestamp()))
    if session.get_bind().dialect.name == "postgresql":  # EXTRACT gives a numeric
        return cast(func.floor(offset / width), Integer)
    # SQLite: integers both, and ``//`` is integer division (``/`` would be true division,
    # giving every sample a bucket of its own).
    return offset // width


class DeviceSeries:
    """Reads chart data for one device at a time."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def series(self, device_id: str, metric: str, range_name: str) -> Series:
        """The ``metric`` of ``device_id`` over the range ending now."""
        metric, range_name = parse_metric(metric), parse_range(range_name)
        span = RANGES[range_name]
        # Whole seconds: buckets are counted from ``start`` in whole seconds (SQLite's
        # strftime('%s') drops the fraction), so a fractional start would put a sample of the
        # last second into a bucket past the end. Rounding ``end`` up keeps that sample.
        end = _next_second(self._clock())
        start = end - span
        width = bucket_seconds(span)
        result = Series(metric, range_name, UNITS[metric], start, end, width)
        async with self._sessions() as session:
            bucket = _bucket(session, start, width).label("bucket")
            query = (
                select(
                    bucket,
                    func.avg(cast(HealthSampleRow.cpu_percent, Float)),
                    func.max(HealthSampleRow.cpu_percent),
                    func.avg(cast(HealthSampleRow.memory_percent, Float)),
                    func.max(HealthSampleRow.memory_percent),
                    func.max(HealthSampleRow.id),
                )
                .where(
                    HealthSampleRow.device_id == device_id,
                    HealthSampleRow.sample_time >= start,
                    HealthSampleRow.sample_time < end,
                )
                .group_by(bucket)
                .order_by(bucket)
            )
            buckets = [row for row in (await session.execute(query)).all() if row[0] < MAX_POINTS]
            times = [int(start.timestamp()) + int(row[0]) * width for row in buckets]
            result.times.extend(times)
            if metric == CPU:
                result.lines.append(SeriesLine("average", [_round(row[1]) for row in buckets]))
                result.lines.append(SeriesLine("peak", [_round(row[2]) for row in buckets]))
            elif metric == MEMORY:
                result.lines.append(SeriesLine("average", [_round(row[3]) for row in buckets]))
                result.lines.append(SeriesLine("peak", [_round(row[4]) for row in buckets]))
            else:
                ids = [int(row[5]) for row in buckets]
                column = _JSON_COLUMNS[metric]
                rows = await session.execute(
                    select(HealthSampleRow.id, column).where(HealthSampleRow.id.in_(ids))
                )
                by_id: dict[int, Any] = {int(i): items for i, items in rows.all()}
                readings = [_READERS[metric](by_id.get(i) or ()) for i in ids]
                result.lines.extend(_lines(readings))
        return result


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _items(items: Any) -> Iterable[Mapping[str, Any]]:
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def _disks(items: Any) -> dict[str, float]:
    return {
        str(item.get("mountpoint", "")) or "?": value
        for item in _items(items)
        if (value := _number(item.get("percent"))) is not None
    }


def _temperatures(items: Any) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in _items(items):
        value = _number(item.get("celsius"))
        if value is None:
            continue
        label = (
            " ".join(str(part) for part in (item.get("sensor"), item.get("label")) if part)
            or "sensor"
        )
        found[label] = max(value, found.get(label, value))
    return found


def _batteries(items: Any) -> dict[str, float]:
    return {
        str(item.get("name", "")) or "battery": value
        for item in _items(items)
        if (value := _number(item.get("wear_percent"))) is not None
    }


_READERS: dict[str, Callable[[Any], dict[str, float]]] = {
    DISK: _disks,
    TEMPERATURE: _temperatures,
    BATTERY_WEAR: _batteries,
}


def _lines(readings: Sequence[Mapping[str, float]]) -> list[SeriesLine]:
    """One line per label seen, at most ``MAX_LINES``: those with the highest peaks."""
    peaks: dict[str, float] = {}
    for reading in readings:
        for label, value in reading.items():
            peaks[label] = max(value, peaks.get(label, value))
    chosen = sorted(peaks, key=lambda label: (-peaks[label], label))[:MAX_LINES]
    return [
        SeriesLine(label, [_round(reading.get(label)) for reading in readings])
        for label in sorted(chosen)
    ]
