"""Durable commands for devices: queued here, delivered over the agent's stream, acknowledged.

A command's status goes ``queued`` -> ``delivered`` -> ``succeeded`` | ``failed`` |
``rejected``. A device that is offline gets its queued commands when it reconnects.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.audit import record_in
from server.services.clock import Clock, utc_now
from server.services.errors import FailedPrecondition, InvalidArgument, NotFound
from server.services.records import Actor, DeviceIdentity, PendingCommand
from server.store.batch import BatchWriter, run_write
from server.store.database import begin_write
from server.store.models import CommandRow, DeviceRow

KNOWN_KINDS = frozenset({"send_inventory"})
ACK_STATUSES = frozenset({"succeeded", "failed", "rejected"})
QUEUED = "queued"
DELIVERED = "delivered"
MAX_PAYLOAD = 64 * 1024
MAX_DETAIL = 4096


class CommandService:
    """Queues commands and tracks their delivery and outcome."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock = utc_now,
        writer: BatchWriter | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._writer = writer

    async def queue(
        self,
        device_id: str,
        kind: str,
        payload: bytes = b"",
        *,
        actor: Actor | None = None,
        address: str = "",
    ) -> PendingCommand:
        """Queue a command for a device (``NotFound`` if unknown, refused if revoked).

        With ``actor`` (the dashboard and the API) the request is audited in the same
        transaction."""
        if kind not in KNOWN_KINDS:
            known = ", ".join(sorted(KNOWN_KINDS))
            raise InvalidArgument(f"unknown command kind {kind!r:.80}: expected one of {known}")
        if len(payload) > MAX_PAYLOAD:
            raise InvalidArgument(f"command payload exceeds {MAX_PAYLOAD} bytes")
        now = self._clock()
        command_id = str(uuid.uuid4())
        async with self._sessions.begin() as session:
            await begin_write(session)
            device = await session.get(DeviceRow, device_id)
            if device is None:
                raise NotFound(f"device {device_id!r:.80} does not exist")
            if device.revoked_at is not None:
                raise FailedPrecondition(f"device {device_id} has been revoked")
            session.add(
                CommandRow(
                    id=command_id,
                    device_id=device_id,
                    kind=kind,
                    payload=payload,
                    created_at=now,
                    delivered_at=None,
                    acked_at=None,
                    status=QUEUED,
                    detail="",
                )
            )
            if actor is not None:
                await record_in(
                    session,
                    now,
                    actor,
                    "device.command",
                    "device",
                    device_id,
                    tenant_id=device.tenant_id,
                    details={"kind": kind, "command_id": command_id},
                    address=address,
                )
        return PendingCommand(
            command_id=command_id, device_id=device_id, kind=kind, payload=payload, created_at=now
        )

    async def undelivered(self, device_ids: Collection[str]) -> list[PendingCommand]:
        """Commands not yet delivered to any of ``device_ids``, oldest first."""
        if not device_ids:
            return []
        query = (
            select(CommandRow)
            .where(
                CommandRow.device_id.in_(list(device_ids)),
                CommandRow.acked_at.is_(None),
                CommandRow.delivered_at.is_(None),
            )
            .order_by(CommandRow.created_at, CommandRow.id)
        )
        async with self._sessions() as session:
            rows = await session.scalars(query)
            return [
                PendingCommand(
                    command_id=row.id,
                    device_id=row.device_id,
                    kind=row.kind,
                    payload=row.payload,
                    created_at=row.created_at,
                )
                for row in rows
            ]

    async def mark_delivered(self, command_ids: Collection[str]) -> None:
        """Record that these commands were sent to their device."""
        if not command_ids:
            return
        ids, now = list(command_ids), self._clock()

        async def mark(session: AsyncSession) -> None:
            await session.execute(
                update(CommandRow)
                .where(CommandRow.id.in_(ids), CommandRow.delivered_at.is_(None))
                .values(delivered_at=now, status=DELIVERED)
                .execution_options(synchronize_session=False)
            )

        await run_write(self._writer, self._sessions, mark)

    async def acknowledge(
        self, identity: DeviceIdentity, command_id: str, status: str, detail: str
    ) -> None:
        """Record a device's answer to one of its commands. A repeated answer is ignored."""
        if status not in ACK_STATUSES:
            raise InvalidArgument(
                f"command status must be one of {', '.join(sorted(ACK_STATUSES))}"
            )
        now = self._clock()
        stored_detail = detail[:MAX_DETAIL].replace("\x00", "")

        async def record(session: AsyncSession) -> None:
            # One UPDATE answers the usual case; a read explains why nothing matched.
            done = await session.execute(
                update(CommandRow)
                .where(
                    CommandRow.id == command_id,
                    CommandRow.device_id == identity.device_id,
                    CommandRow.acked_at.is_(None),
                )
                .values(
                    acked_at=now,
                    delivered_at=func.coalesce(CommandRow.delivered_at, now),
                    status=status,
                    detail=stored_detail,
                )
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], done).rowcount:
                return
            owner = await session.scalar(
                select(CommandRow.device_id).where(CommandRow.id == command_id)
            )
            if owner != identity.device_id:
                raise NotFound(f"command {command_id!r:.80} does not exist for this device")
            # Already answered: a repeated answer is ignored.

        await run_write(self._writer, self._sessions, record)
