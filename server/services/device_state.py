"""Keeping each device's stored health state and presence current, with an event per change.

``record_health_in`` runs in the transaction that stores health samples (a writer batch of
many devices' reports at once, set-based): it judges each device's recent samples with
``server.services.health_state`` (the one place the rules live) and stores the state and its
worst reason on the device row, so that fleet-wide pages filter and count by state with an
index instead of re-reading samples. Offline is never stored as a
health state: readers derive it from ``last_seen_at`` (``offline_cutoff``), which is exact at
the moment of the read. ``PresenceSweep`` notices devices crossing that line either way and
writes the online/offline events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, bindparam, or_, select, update
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
from server.services.presence import TOUCH_LAST_SEEN
from server.services.records import HealthSample
from server.store.database import begin_write
from server.store.models import HEALTH_SUMMARY_LENGTH, DeviceRow, HealthSampleRow

log = logging.getLogger(__name__)

# Samples older than the memory rule's window (plus slack for late or missed samples) cannot
# change the verdict, so they are not read.
_WINDOW_SLACK = timedelta(minutes=5)

# Core statements on the tables: no ORM objects on the health report path.
_DEVICE_TABLE = cast(Table, DeviceRow.__table__)
_DEVICES = _DEVICE_TABLE.c
_SAMPLES = cast(Table, HealthSampleRow.__table__).c
_SET_STATE = (
    update(_DEVICE_TABLE)
    .where(_DEVICES.id == bindparam("device_id"))
    .values(
        health_state=bindparam("state"),
        health_summary=bindparam("summary"),
        health_changed_at=bindparam("at"),
    )
)
_SET_SUMMARY = (
    update(_DEVICE_TABLE)
    .where(_DEVICES.id == bindparam("device_id"))
    .values(health_summary=bindparam("summary"))
)
# Devices per windows query: an OR of this many terms stays well inside SQLite's limits on
# expression depth and bound parameters.
_WINDOWS_PER_STATEMENT = 100


def offline_cutoff(now: datetime, thresholds: HealthThresholds = DEFAULT_THRESHOLDS) -> datetime:
    """A device last seen before this (or never) is offline."""
    return now - thresholds.offline_after


@dataclass(frozen=True)
class ReceivedHealth:
    """One health report of a device, as far as judging it goes: the samples of it that its
    transaction stored (not those stored before under the same report id), and when."""

    device_id: str
    stored: Sequence[HealthSample]
    received_at: datetime


async def record_health_in(
    session: AsyncSession,
    reports: Sequence[ReceivedHealth],
    thresholds: HealthThresholds = DEFAULT_THRESHOLDS,
) -> list[HealthAssessment | None]:
    """After health reports were stored (at most one per device): mark each device seen when
    its report came, judge its recent samples, store the state; add an event when it changed.
    One assessment per report, ``None`` for a device that does not exist.

    Set-based: a few statements for the whole list, whatever its length and the history:
    read the devices' states; read the time and memory use of the samples in each device's
    memory rule window (not whole samples: only the newest is judged on everything, and it
    is normally one just stored); update the devices.
    """
    if len({report.device_id for report in reports}) != len(reports):
        raise ValueError("at most one report per device")
    if not reports:
        return []
    connection = await session.connection()
    devices = {
        row.id: row
        for row in await connection.execute(
            select(
                _DEVICES.id, _DEVICES.tenant_id, _DEVICES.health_state, _DEVICES.health_summary
            ).where(_DEVICES.id.in_(sorted(report.device_id for report in reports)))
        )
    }
    windows = await _windows(
        session,
        [
            (report.device_id, max(sample.sample_time for sample in report.stored))
            for report in reports
            if report.stored and report.device_id in devices
        ],
        thresholds,
    )
    assessments: list[HealthAssessment | None] = []
    seen: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    for report in reports:
        device = devices.get(report.device_id)
        if device is None:
            assessments.append(None)
            continue
        now = report.received_at
        latest, memory = await _latest_and_memory(
            session, report, windows.get(report.device_id, []), thresholds
        )
        # Judged as if seen now: presence is not this function's business.
        assessment = assess_readings(latest, memory, now, now, thresholds)
        assessments.append(assessment)
        seen.append({"device_id": report.device_id, "when": now})
        state = assessment.state
        summary = (
            assessment.reasons[0].message[:HEALTH_SUMMARY_LENGTH] if assessment.reasons else ""
        )
        before = HealthState(device.health_state)
        if state != before:
            device_events.record_event_in(
                session,
                now,
                report.device_id,
                device.tenant_id,
                device_events.HEALTH,
                f"health {before.label} → {state.label}" + (f": {summary}" if summary else ""),
                {
                    "from": before.label,
                    "to": state.label,
                    "reasons": [reason.message for reason in assessment.reasons],
                },
            )
            states.append(
                {"device_id": report.device_id, "state": int(state), "summary": summary, "at": now}
            )
        elif device.health_summary != summary:
            summaries.append({"device_id": report.device_id, "summary": summary})
    # Executemany, each: one statement for every device.
    if seen:
        await connection.execute(TOUCH_LAST_SEEN, seen)
    if states:
        await connection.execute(_SET_STATE, states)
    if summaries:
        await connection.execute(_SET_SUMMARY, summaries)
    return assessments


class _Reading(NamedTuple):
    report_id: str
    sample_time: datetime
    memory_percent: float


async def _windows(
    session: AsyncSession, newest: list[tuple[str, datetime]], thresholds: HealthThresholds
) -> dict[str, list[_Reading]]:
    """Per device, the time and memory use of its samples in the window of a sample taken at
    the given time and of every newer one, oldest first (ties in storage order)."""
    connection = await session.connection()
    windows: dict[str, list[_Reading]] = {}
    for start in range(0, len(newest), _WINDOWS_PER_STATEMENT):
        chunk = newest[start : start + _WINDOWS_PER_STATEMENT]
        rows = await connection.execute(
            select(
                _SAMPLES.device_id,
                _SAMPLES.report_id,
                _SAMPLES.sample_time,
                _SAMPLES.memory_percent,
            )
            .where(
                or_(
                    *(
                        and_(
                            _SAMPLES.device_id == device_id,
                            _SAMPLES.sample_time >= _window_start(latest, thresholds),
                        )
                        for device_id, latest in chunk
                    )
                )
            )
            .order_by(_SAMPLES.device_id, _SAMPLES.sample_time, _SAMPLES.id)
        )
        for row in rows:
            windows.setdefault(row.device_id, []).append(
                _Reading(row.report_id, row.sample_time, row.memory_percent)
            )
    return windows


async def _latest_and_memory(
    session: AsyncSession,
    report: ReceivedHealth,
    window: list[_Reading],
    thresholds: HealthThresholds,
) -> tuple[HealthSample | None, list[MemoryReading]]:
    """The device's newest stored sample and the memory readings of its window, oldest first.

    ``window`` was read from the window start of the newest sample just stored on; the newest
    stored sample is at least as new, so ``window`` holds its window.
    """
    latest = (
        {sample.report_id: sample for sample in report.stored}.get(window[-1].report_id)
        if window
        else None
    )
    if latest is None:
        # Rare: a sample stored before is the newest (a late report came), or nothing new
        # was stored (a resent report). Read the newest one as stored.
        row = await session.scalar(
            select(HealthSampleRow)
            .where(HealthSampleRow.device_id == report.device_id)
            .order_by(HealthSampleRow.sample_time.desc(), HealthSampleRow.id.desc())
            .limit(1)
        )
        if row is None:
            return None, []
        latest = sample_from_row(row)
        window = (
            await _windows(session, [(report.device_id, latest.sample_time)], thresholds)
        ).get(report.device_id, [])
    since = _window_start(latest.sample_time, thresholds)
    return latest, [
        MemoryReading(row.sample_time, row.memory_percent)
        for row in window
        if row.sample_time >= since
    ]


def _window_start(latest: datetime, thresholds: HealthThresholds) -> datetime:
    return latest - thresholds.memory_warning_duration - _WINDOW_SLACK


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
