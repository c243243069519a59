"""The background task that applies database changes to this process's open streams.

Every tick (1 s by default): devices revoked since the last tick — by this process or any
other sharing the database — have their open stream ended UNAUTHENTICATED; undelivered
commands for the devices connected here are queued on their streams (the servicer marks each
delivered once it is written). Commands queued by this process are pushed onto the streams
when queued (``ConnectionRegistry.offer``); the poll finds those queued by other processes,
and those a stream could not take at the time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Protocol

import grpc

from server.api.streams import ConnectionRegistry
from server.services.records import PendingCommand

log = logging.getLogger(__name__)

REVOKED_MESSAGE = "device revoked"

# Each poll looks this far behind the newest revocation seen, so a revocation committed late
# or stamped by a collector whose clock lags is still caught. Seeing one twice is harmless.
REVOCATION_OVERLAP = timedelta(seconds=30)


class RevocationFeed(Protocol):
    async def revoked_since(self, cursor: datetime | None) -> tuple[list[str], datetime | None]: ...


class CommandFeed(Protocol):
    async def undelivered(self, device_ids: Collection[str]) -> list[PendingCommand]: ...


class Watcher:
    """Polls the database for revocations and commands, and acts on the open streams."""

    def __init__(
        self,
        registry: ConnectionRegistry,
        revocations: RevocationFeed,
        commands: CommandFeed,
        interval_s: float = 1.0,
    ) -> None:
        self._registry = registry
        self._revocations = revocations
        self._commands = commands
        self._interval_s = interval_s
        self._cursor: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Take the revocation cursor now, then tick in the background."""
        _, newest = await self._revocations.revoked_since(None)
        self._advance(newest)
        self._task = asyncio.create_task(self._run(), name="parc-watcher")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.tick()
            except Exception:
                log.exception("watcher tick failed; retrying")

    def _advance(self, newest: datetime | None) -> None:
        if newest is not None:
            candidate = newest - REVOCATION_OVERLAP
            if self._cursor is None or candidate > self._cursor:
                self._cursor = candidate

    async def tick(self) -> None:
        revoked, newest = await self._revocations.revoked_since(self._cursor)
        self._advance(newest)
        for device_id in revoked:
            if self._registry.end_device(
                device_id, grpc.StatusCode.UNAUTHENTICATED, REVOKED_MESSAGE
            ):
                log.info("closed the stream of revoked device %s", device_id)
        connected = self._registry.connected()
        if not connected:
            return
        # Deliveries stored while the read runs may not show in the rows it returns.
        settled = self._registry.in_flight.track_settled()
        pending = await self._commands.undelivered(connected)
        self._registry.offer(pending, skip=settled)
