"""Durable commands for devices: queued here, delivered over the agent's stream, acknowledged.

A command's status goes ``queued`` -> ``delivered`` -> ``succeeded`` | ``failed`` |
``rejected``. A device that is offline gets its queued commands when it reconnects.

Fan-out to a whole fleet is set-based: ``queue_many`` stores one command per device with one
multi-row insert, and hands the new commands to ``on_queued`` (the collector pushes them onto
the devices' open streams at once, without reading them back). Delivery marks and
acknowledgements arrive one per stream; each is coalesced with the others waiting at the same
moment, so ten thousand of them are a handful of statements rather than ten thousand.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from sqlalchemy import Table, func, insert, select, update
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
# Ids per statement in IN lists and rows per multi-row insert: well under SQLite's 32,766 and
# PostgreSQL's 65,535 bound parameters.
CHUNK = 1000

QueuedListener = Callable[[Sequence[PendingCommand]], object]

T = TypeVar("T")
Item = TypeVar("Item")
R = TypeVar("R")


# A write job answers each item of its batch with a result or the exception that fails it.
Job = Callable[[AsyncSession], Awaitable[list[R | Exception]]]
Writes = Callable[[AsyncSession, list[Item]], Awaitable[list[R | Exception]]]
Runner = Callable[[Job[R]], Awaitable[list[R | Exception]]]

_COMMANDS = cast(Table, CommandRow.__table__)
_C = _COMMANDS.c


@dataclass(frozen=True)
class _Ack:
    device_id: str
    command_id: str
    status: str
    detail: str


class CommandService:
    """Queues commands and tracks their delivery and outcome."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock = utc_now,
        writer: BatchWriter | None = None,
        on_queued: QueuedListener | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._writer = writer
        self._on_queued = on_queued
        self._deliveries: _Coalesced[str, None] = _Coalesced(self._write, self._mark_delivered)
        self._acks: _Coalesced[_Ack, None] = _Coalesced(self._write, self._record_acks)

    async def _write(self, job: Job[None]) -> list[Exception | None]:
        return await run_write(self._writer, self._sessions, job)

    async def _mark_delivered(
        self, session: AsyncSession, command_ids: list[str]
    ) -> list[Exception | None]:
        now = self._clock()
        connection = await session.connection()
        for chunk in _chunks(sorted(set(command_ids))):
            await connection.execute(
                update(_COMMANDS)
                .where(_C.id.in_(chunk), _C.delivered_at.is_(None))
                .values(delivered_at=now, status=DELIVERED)
            )
        return [None] * len(command_ids)

    async def _record_acks(self, session: AsyncSession, acks: list[_Ack]) -> list[Exception | None]:
        """Store the answers with one UPDATE per outcome (nearly always one: "succeeded");
        one read first finds who owns each command, so an answer about another device's
        command (or none) fails alone with ``NotFound``. Not an executemany: in aiosqlite's
        thread that takes the GIL back once per row, waiting each time for the busy loop."""
        now = self._clock()
        connection = await session.connection()
        owners: dict[str, str] = {}
        for chunk in _chunks(sorted({ack.command_id for ack in acks})):
            rows = await connection.execute(select(_C.id, _C.device_id).where(_C.id.in_(chunk)))
            owners.update((row.id, row.device_id) for row in rows)
        outcomes: list[Exception | None] = []
        by_outcome: dict[tuple[str, str], list[str]] = {}
        for ack in acks:
            if owners.get(ack.command_id) != ack.device_id:
                outcomes.append(
                    NotFound(f"command {ack.command_id!r:.80} does not exist for this device")
                )
                continue
            outcomes.append(None)
            by_outcome.setdefault((ack.status, ack.detail), []).append(ack.command_id)
        for (status, detail), command_ids in by_outcome.items():
            for chunk in _chunks(command_ids):
                # A stored answer is never changed.
                await connection.execute(
                    update(_COMMANDS)
                    .where(_C.id.in_(chunk), _C.acked_at.is_(None))
                    .values(
                        acked_at=now,
                        delivered_at=func.coalesce(_C.delivered_at, now),
                        status=status,
                        detail=detail,
                    )
                )
        return outcomes

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
        (command,) = await self.queue_many([device_id], kind, payload, actor=actor, address=address)
        return command

    async def queue_many(
        self,
        device_ids: Collection[str],
        kind: str,
        payload: bytes = b"",
        *,
        actor: Actor | None = None,
        address: str = "",
    ) -> list[PendingCommand]:
        """Queue the same command for every device of ``device_ids``, in one transaction.

        All or nothing: an unknown device is ``NotFound``, a revoked one refused, and then
        nothing is queued. With ``actor`` each device's command is audited in the same
        transaction. Returns the commands in the order of ``device_ids`` (repeats dropped)."""
        if kind not in KNOWN_KINDS:
            known = ", ".join(sorted(KNOWN_KINDS))
            raise InvalidArgument(f"unknown command kind {kind!r:.80}: expected one of {known}")
        if len(payload) > MAX_PAYLOAD:
            raise InvalidArgument(f"command payload exceeds {MAX_PAYLOAD} bytes")
        targets = list(dict.fromkeys(device_ids))
        if not targets:
            return []
        now = self._clock()
        commands = [
            PendingCommand(
                command_id=str(uuid.uuid4()),
                device_id=device_id,
                kind=kind,
                payload=payload,
                created_at=now,
            )
            for device_id in targets
        ]
        async with self._sessions.begin() as session:
            await begin_write(session)
            tenants = await _check_devices(session, targets)
            connection = await session.connection()
            for chunk in _chunks(commands):
                await connection.execute(
                    insert(_COMMANDS).values(
                        [
                            {
                                "id": c.command_id,
                                "device_id": c.device_id,
                                "kind": kind,
                                "payload": payload,
                                "created_at": now,
                                "delivered_at": None,
                                "acked_at": None,
                                "status": QUEUED,
                                "detail": "",
                            }
                            for c in chunk
                        ]
                    )
                )
            if actor is not None:
                for command in commands:
                    await record_in(
                        session,
                        now,
                        actor,
                        "device.command",
                        "device",
                        command.device_id,
                        tenant_id=tenants[command.device_id],
                        details={"kind": kind, "command_id": command.command_id},
                        address=address,
                    )
        if self._on_queued is not None:
            self._on_queued(commands)
        return commands

    async def undelivered(self, device_ids: Collection[str]) -> list[PendingCommand]:
        """Commands not yet delivered to any of ``device_ids``, oldest first."""
        if not device_ids:
            return []
        columns = (_C.id, _C.device_id, _C.kind, _C.payload, _C.created_at)
        found: list[PendingCommand] = []
        async with self._sessions() as session:
            for chunk in _chunks(list(device_ids)):
                rows = await session.execute(
                    select(*columns).where(
                        _C.device_id.in_(chunk), _C.acked_at.is_(None), _C.delivered_at.is_(None)
                    )
                )
                found.extend(
                    PendingCommand(
                        command_id=row.id,
                        device_id=row.device_id,
                        kind=row.kind,
                        payload=row.payload,
                        created_at=row.created_at,
                    )
                    for row in rows
                )
        found.sort(key=lambda command: (command.created_at, command.command_id))
        return found

    async def mark_delivered(self, command_ids: Collection[str]) -> None:
        """Record that these commands were sent to their device.

        Returns once the mark is stored, together with every other mark waiting then."""
        ids = list(command_ids)
        if len(ids) == 1:
            await self._deliveries.submit(ids[0])
        elif ids:
            await asyncio.gather(*(self._deliveries.submit(command_id) for command_id in ids))

    async def acknowledge(
        self, identity: DeviceIdentity, command_id: str, status: str, detail: str
    ) -> None:
        """Record a device's answer to one of its commands. A repeated answer is ignored.

        Returns once the answer is stored, together with every other answer waiting then."""
        if status not in ACK_STATUSES:
            raise InvalidArgument(
                f"command status must be one of {', '.join(sorted(ACK_STATUSES))}"
            )
        stored_detail = detail[:MAX_DETAIL].replace("\x00", "")
        await self._acks.submit(_Ack(identity.device_id, command_id, status, stored_detail))


async def _check_devices(session: AsyncSession, device_ids: list[str]) -> dict[str, int | None]:
    """The tenant of each device; ``NotFound`` for an unknown one, refused for a revoked one."""
    tenants: dict[str, int | None] = {}
    revoked: set[str] = set()
    for chunk in _chunks(device_ids):
        rows = await session.execute(
            select(DeviceRow.id, DeviceRow.tenant_id, DeviceRow.revoked_at).where(
                DeviceRow.id.in_(chunk)
            )
        )
        for device_id, tenant_id, revoked_at in rows:
            tenants[device_id] = tenant_id
            if revoked_at is not None:
                revoked.add(device_id)
    for device_id in device_ids:
        if device_id not in tenants:
            raise NotFound(f"device {device_id!r:.80} does not exist")
        if device_id in revoked:
            raise FailedPrecondition(f"device {device_id} has been revoked")
    return tenants


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


class _Coalesced(Generic[Item, R]):
    """Items submitted by many callers, written together: one write job per flush.

    The first item starts a flush; items that arrive while it waits for the writer or writes
    go in the next one. Each caller gets its own item's outcome (a result, or an exception
    that fails it alone); a failed write fails every item of that flush.
    """

    def __init__(self, run: Runner[R], write: Writes[Item, R]) -> None:
        self._run = run
        self._write = write
        self._pending: list[tuple[Item, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._flush(), name="parc-commands-flush")
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                items = [item for item, _ in batch]

                async def job(
                    session: AsyncSession, items: list[Item] = items
                ) -> list[R | Exception]:
                    return await self._write(session, items)

                try:
                    outcomes = await self._run(job)
                except asyncio.CancelledError:
                    for _, future in batch:
                        future.cancel()
                    raise
                except Exception as error:
                    for _, future in batch:
                        _settle(future, error)
                    continue
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    _settle(future, outcome)
        finally:
            self._task = None
            for _, future in self._pending:
                future.cancel()


def _settle(future: asyncio.Future[R], outcome: R | Exception) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
        # The caller may have given up already: no "exception was never retrieved" warning.
        future.exception()
    else:
        future.set_result(outcome)
