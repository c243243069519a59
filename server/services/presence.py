"""Last-seen marks from heartbeats, coalesced and written in one statement per flush.

A heartbeat must be cheap: at ten thousand agents every 30 s that is hundreds a second, and a
database write for each would serialise them on SQLite's single writer. Heartbeats only note
"device X seen at T" in memory (O(1), newest mark wins); a background task writes all marks
in one executemany UPDATE every ``interval_s`` (1 s by default), and on shutdown. At most one
interval of last-seen times can be lost if the process dies, which moves no device's
online/offline state (that threshold is minutes). ``stop`` lets a flush in progress finish
(it is never cancelled half-way through its transaction) and then writes what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.store.batch import BatchWriter
from server.store.models import DeviceRow

log = logging.getLogger(__name__)


class LastSeenStore(Protocol):
    async def touch_many(self, marks: Mapping[str, datetime]) -> None: ...


class PresenceRecorder:
    """Collects last-seen marks and flushes them periodically."""

    def __init__(self, store: LastSeenStore, interval_s: float = 1.0) -> None:
        self._store = store
        self._interval_s = interval_s
        self._marks: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def seen(self, device_id: str, when: datetime) -> None:
        """Note that the device was seen at ``when``; written at the next flush."""
        current = self._marks.get(device_id)
        if current is None or when > current:
            self._marks[device_id] = when

    @property
    def pending(self) -> int:
        return len(self._marks)

    async def flush(self) -> int:
        """Write every pending mark; return how many. Marks survive a failed write."""
        if not self._marks:
            return 0
        marks, self._marks = self._marks, {}
        try:
            await self._store.touch_many(marks)
        except BaseException:
            for device_id, when in marks.items():
                self.seen(device_id, when)
            raise
        return len(marks)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="parc-presence")

    async def stop(self) -> None:
        """Stop the background task (after its flush in progress) and write what is left."""
        self._stop.set()
        if self._task is not None:
            try:
                await self._task
            finally:
                self._task = None
        await self.flush()

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval_s)
            if self._stop.is_set():
                return
            try:
                await self.flush()
            except Exception:
                log.exception("writing last-seen times failed; will retry")


class BatchedLastSeen:
    """Writes last-seen marks through the collector's ``BatchWriter``."""

    def __init__(self, writer: BatchWriter) -> None:
        self._writer = writer

    async def touch_many(self, marks: Mapping[str, datetime]) -> None:
        if not marks:
            return
        params = [{"device_id": d, "when": w} for d, w in sorted(marks.items())]

        async def touch(session: AsyncSession) -> None:
            connection = await session.connection()
            await connection.execute(TOUCH_LAST_SEEN, params)

        await self._writer.submit(touch)


_DEVICES = cast(Table, DeviceRow.__table__).c
# Core executemany (one statement, many parameter sets: ``device_id``, ``when``), never moving
# last-seen backwards.
TOUCH_LAST_SEEN = (
    update(cast(Table, DeviceRow.__table__))
    .where(
        _DEVICES.id == bindparam("device_id"),
        or_(_DEVICES.last_seen_at.is_(None), _DEVICES.last_seen_at < bindparam("when")),
    )
    .values(last_seen_at=bindparam("when"))
)
