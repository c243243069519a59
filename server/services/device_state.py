"""Keeping each device's stored health state and presence current, with an event per change.

``refresh_health_in`` runs in the transaction that stores a device's health samples: it judges
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
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services import device_events
from server.services.clock import Clock, utc_now
from server.services.details import sample_from_row
from server.services.health_state import (
    DEFAULT_THRESHOLDS,
    HealthAssessment,
    HealthState,
    HealthThresholds,
    assess_health,
)
from server.store.database import begin_write
from server.store.models import HEALTH_SUMMARY_LENGTH, DeviceRow, HealthSampleRow

log = logging.getLogger(__name__)

# Samples older than the memory rule's window (plus slack for late or missed samples) cannot
# change the verdict, so they are not read.
_WINDOW_SLACK = timedelta(minutes=5)


def offline_cutoff(now: datetime, thresholds: HealthThresholds = DEFAULT_THRESHOLDS) -> datetime:
    """A device last seen before this (or never) is offline."""
    return now - thresholds.offline_after


async def refresh_health_in(
    session: AsyncSession,
    device: DeviceRow,
    now: datetime,
    thresholds: HealthThresholds = DEFAULT_THRESHOLDS,
) -> HealthAssessment:
    """Judge ``device``'s recent samples; store the state; add an event when it changed."""
    latest = await session.scalar(
        select(HealthSampleRow.sample_time)
        .where(HealthSampleRow.device_id == device.id)
        .order_by(HealthSampleRow.sample_time.desc())
        .limit(1)
    )
    samples = []
    if latest is not None:
        since = latest - thresholds.memory_warning_duration - _WINDOW_SLACK
        rows = await session.scalars(
            select(HealthSampleRow)
            .where(HealthSampleRow.device_id == device.id, HealthSampleRow.sample_time >= since)
            .order_by(HealthSampleRow.sample_time)
        )
        samples = [sample_from_row(row) for row in rows]
    # Judged as if seen now: presence is not this function's business.
    assessment = assess_health(samples, now, now, thresholds)
    state = assessment.state
    summary = assessment.reasons[0].message[:HEALTH_SUMMARY_LENGTH] if assessment.reasons else ""
    before = HealthState(device.health_state)
    if state != before:
        device_events.record_event_in(
            session,
            now,
            device.id,
            device.tenant_id,
            device_events.HEALTH,
            f"health {before.label} → {state.label}" + (f": {summary}" if summary else ""),
            {
                "from": before.label,
                "to": state.label,
                "reasons": [reason.message for reason in assessment.reasons],
            },
        )
        device.health_changed_at = now
        device.health_state = int(state)
    if device.health_summary != summary:
        device.health_summary = summary
    return assessment


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
