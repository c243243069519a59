"""Keeping each device's stored health state and presence current, with an event per change.

``record_health_in`` runs in the transaction that stores a device's health samples: it judges
the recent samples with ``server.services.health_state`` (the one place the rules live) and
stores the state and its worst reason on the device row, so that fleet-wide pages filter and
count by state with an index instead of re-reading samples. Offline is never stored as a
health state: readers derive it from ``last_seen_at`` (``offline_cutoff``), which is exact at
the moment of the read. ``PresenceSweep`` notices devices crossing that line either way and
writes the online/offline events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BindParameter, Row, Select, Table, and_, case, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services import device_events
from server.services.clock import Clock, utc_now
from server.services.details import sample_from_row
from server.services.health_state import (
    DEFAULT_THRESHOLDS,
    HealthAssessment,
    HealthState,
    HealthThresholds,
    MemoryReading,
    assess_readings,
)
from server.services.records import HealthSample
from server.store.database import begin_write
from server.store.models import HEALTH_SUMMARY_LENGTH, DeviceRow, HealthSampleRow
from server.store.types import UTCDateTime

log = logging.getLogger(__name__)

# Samples older than the memory rule's window (plus slack for late or missed samples) cannot
# change the verdict, so they are not read.
_WINDOW_SLACK = timedelta(minutes=5)

# Core statements on the tables: no ORM objects on the health report path.
_DEVICE_TABLE = cast(Table, DeviceRow.__table__)
_DEVICES = _DEVICE_TABLE.c
_SAMPLES = cast(Table, HealthSampleRow.__table__).c


def offline_cutoff(now: datetime, thresholds: HealthThresholds = DEFAULT_THRESHOLDS) -> datetime:
    """A device last seen before this (or never) is offline."""
    return now - thresholds.offline_after


async def record_health_in(
    session: AsyncSession,
    device_id: str,
    stored: Sequence[HealthSample],
    now: datetime,
    thresholds: HealthThresholds = DEFAULT_THRESHOLDS,
) -> HealthAssessment | None:
    """After a health report: mark the device seen at ``now``, judge its recent samples,
    store the state; add an event when it changed. ``None``: no such device.

    ``stored`` are the report's samples this transaction stored (not those stored before
    under the same report id). Three statements whatever the history: read the device's
    state, read the time and memory use of the samples in the memory rule's window (not
    whole samples: only the newest is judged on everything, and it is normally one of
    ``stored``), update the device.
    """
    connection = await session.connection()
    device = (
        await connection.execute(
            select(_DEVICES.tenant_id, _DEVICES.health_state, _DEVICES.health_summary).where(
                _DEVICES.id == device_id
            )
        )
    ).one_or_none()
    if device is None:
        return None
    latest, memory = await _recent_readings(session, device_id, stored, thresholds)
    # Judged as if seen now: presence is not this function's business.
    assessment = assess_readings(latest, memory, now, now, thresholds)
    state = assessment.state
    summary = assessment.reasons[0].message[:HEALTH_SUMMARY_LENGTH] if assessment.reasons else ""
    before = HealthState(device.health_state)
    values: dict[str, object] = {
        # Never backwards (a heartbeat flush may have written a later time meanwhile).
        "last_seen_at": case(
            (or_(_DEVICES.last_seen_at.is_(None), _DEVICES.last_seen_at < _now_param(now)), now),
            else_=_DEVICES.last_seen_at,
        )
    }
    if state != before:
        device_events.record_event_in(
            session,
            now,
            device_id,
            device.tenant_id,
            device_events.HEALTH,
            f"health {before.label} → {state.label}" + (f": {summary}" if summary else ""),
            {
                "from": before.label,
                "to": state.label,
                "reasons": [reason.message for reason in assessment.reasons],
            },
        )
        values["health_changed_at"] = now
        values["health_state"] = int(state)
    if device.health_summary != summary:
        values["health_summary"] = summary
    await connection.execute(update(_DEVICE_TABLE).where(_DEVICES.id == device_id).values(values))
    return assessment


async def _recent_readings(
    session: AsyncSession,
    device_id: str,
    stored: Sequence[HealthSample],
    thresholds: HealthThresholds,
) -> tuple[HealthSample | None, list[MemoryReading]]:
    """The device's newest stored sample and the memory readings of its window, oldest first.

    The window ends at the newest stored sample, which is at least as new as the newest of
    ``stored``: reading from that one's window start on reads a superset of the window.
    """
    connection = await session.connection()
    rows: Sequence[Row[Any]] = []
    latest = None
    if stored:
        newest = max(sample.sample_time for sample in stored)
        rows = (await connection.execute(_readings_since(device_id, newest, thresholds))).all()
        latest = {sample.report_id: sample for sample in stored}.get(rows[-1].report_id)
    if latest is None:
        # Rare: a sample stored before is the newest (a late report came), or nothing new
        # was stored (a resent batch). Read the newest one as stored.
        row = await session.scalar(
            select(HealthSampleRow)
            .where(HealthSampleRow.device_id == device_id)
            .order_by(HealthSampleRow.sample_time.desc(), HealthSampleRow.id.desc())
            .limit(1)
        )
        if row is None:
            return None, []
        latest = sample_from_row(row)
        rows = (
            await connection.execute(_readings_since(device_id, latest.sample_time, thresholds))
        ).all()
    since = _window_start(latest.sample_time, thresholds)
    return latest, [
        MemoryReading(row.sample_time, row.memory_percent)
        for row in rows
        if row.sample_time >= since
    ]


def _window_start(latest: datetime, thresholds: HealthThresholds) -> datetime:
    return latest - thresholds.memory_warning_duration - _WINDOW_SLACK


def _readings_since(device_id: str, latest: datetime, thresholds: HealthThresholds) -> Select[Any]:
    """The time and memory use of the samples in the window of a sample taken at ``latest``
    and of every newer one, oldest first (ties in storage order)."""
    return (
        select(_SAMPLES.report_id, _SAMPLES.sample_time, _SAMPLES.memory_percent)
        .where(
            _SAMPLES.device_id == device_id,
            _SAMPLES.sample_time >= _window_start(latest, thresholds),
        )
        .order_by(_SAMPLES.sample_time, _SAMPLES.id)
    )


def _now_param(now: datetime) -> BindParameter[datetime]:
    return literal(now, UTCDateTime())


async def sweep_presence_in(
    session: AsyncSession, now: datetime, thresholds: HealthThresholds = DEFAULT_THRESHOLDS
) -> tuple[int, int]:
    """Flip ``online`` on devices that crossed the offline line; return (came back, went)."""
    cutoff = offline_cutoff(now, thresholds)
    seen_recently = and_(DeviceRow.last_seen_at.is_not(None), DeviceRow.last_seen_at >= cutoff)
    changed = await session.scalars(
        select(DeviceRow).where(
            DeviceRow.revoked_at.is_(None),
            or_(
                and_(DeviceRow.online.is_(False), seen_recently),
                and_(DeviceRow.online.is_(True), ~seen_recently),
            ),
        )
    )
    back = gone = 0
    for device in changed:
        device.online = not device.online
        if device.online:
            back += 1
            kind, message = device_events.ONLINE, "online"
        else:
            gone += 1
            kind = device_events.OFFLINE
            message = "offline: " + (
                "never seen" if device.last_seen_at is None else "no heartbeat since last seen"
            )
        details = {"last_seen_at": device.last_seen_at.isoformat() if device.last_seen_at else None}
        device_events.record_event_in(
            session, now, device.id, device.tenant_id, kind, message, details
        )
    return back, gone


class PresenceSweep:
    """Runs ``sweep_presence_in`` every ``interval_s`` seconds in the background."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock = utc_now,
        interval_s: float = 10.0,
        thresholds: HealthThresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._interval_s = interval_s
        self._thresholds = thresholds
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> tuple[int, int]:
        async with self._sessions.begin() as session:
            await begin_write(session)
            return await sweep_presence_in(session, self._clock(), self._thresholds)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="parc-presence-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("the presence sweep failed; will retry")
