"""The audit log: who did what, to what, when and from where.

A change and its audit record are written in the same transaction (``record_in``), so one
never exists without the other. Details are small JSON objects written by the services;
they never hold secrets (passwords, tokens, TOTP seeds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.clock import Clock, utc_now
from server.services.errors import InvalidArgument
from server.services.records import Actor, AuditEvent
from server.store.database import begin_write
from server.store.models import (
    ACTION_LENGTH,
    ACTOR_LENGTH,
    ADDRESS_LENGTH,
    NAME_LENGTH,
    USERNAME_LENGTH,
    AuditEventRow,
)

MAX_LIMIT = 1000


@dataclass(frozen=True)
class AuditFilter:
    """What ``AuditLog.list`` returns: every field set narrows the result.

    ``actor`` is a reference (``user:3``, ``cli``), ``actor_name`` what people read (a
    username). ``tenant_ids`` limits to events of those tenants (for a technician's view);
    None: all."""

    actor: str | None = None
    actor_name: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    tenant_ids: frozenset[int] | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    before_id: int | None = None


async def record_in(
    session: AsyncSession,
    when: datetime,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str | int = "",
    *,
    tenant_id: int | None = None,
    details: Mapping[str, Any] | None = None,
    address: str = "",
) -> None:
    """Add an audit record to ``session``'s transaction."""
    if not action or len(action) > ACTION_LENGTH:
        raise InvalidArgument("an audit action must be 1-64 characters")
    session.add(
        AuditEventRow(
            time=when,
            actor=actor.reference[:ACTOR_LENGTH],
            actor_name=actor.name[:USERNAME_LENGTH],
            action=action,
            target_type=target_type[:ACTION_LENGTH],
            target_id=str(target_id)[:NAME_LENGTH],
            tenant_id=tenant_id,
            details=dict(details or {}),
            address=address[:ADDRESS_LENGTH],
        )
    )


class AuditLog:
    """Writes and reads audit records."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def record(
        self,
        actor: Actor,
        action: str,
        target_type: str,
        target_id: str | int = "",
        *,
        tenant_id: int | None = None,
        details: Mapping[str, Any] | None = None,
        address: str = "",
    ) -> None:
        """Write one audit record in a transaction of its own."""
        async with self._sessions.begin() as session:
            await begin_write(session)
            await record_in(
                session,
                self._clock(),
                actor,
                action,
                target_type,
                target_id,
                tenant_id=tenant_id,
                details=details,
                address=address,
            )

    async def actions(self) -> list[str]:
        """Every action the log holds, sorted (for a filter's choices)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AuditEventRow.action).distinct().order_by(AuditEventRow.action)
            )
            return list(rows)

    async def list(self, where: AuditFilter | None = None) -> list[AuditEvent]:
        """Matching records, newest first (page with ``before_id``)."""
        where = where or AuditFilter()
        if not 1 <= where.limit <= MAX_LIMIT:
            raise InvalidArgument(f"limit must be between 1 and {MAX_LIMIT}")
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(where.limit)
        if where.actor is not None:
            query = query.where(AuditEventRow.actor == where.actor)
        if where.actor_name is not None:
            query = query.where(AuditEventRow.actor_name == where.actor_name)
        if where.action is not None:
            query = query.where(AuditEventRow.action == where.action)
        if where.target_type is not None:
            query = query.where(AuditEventRow.target_type == where.target_type)
        if where.target_id is not None:
            query = query.where(AuditEventRow.target_id == where.target_id)
        if where.tenant_ids is not None:
            query = query.where(AuditEventRow.tenant_id.in_(sorted(where.tenant_ids)))
        if where.since is not None:
            query = query.where(AuditEventRow.time >= where.since)
        if where.until is not None:
            query = query.where(AuditEventRow.time < where.until)
        if where.before_id is not None:
            query = query.where(AuditEventRow.id < where.before_id)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [
            AuditEvent(
                id=row.id,
                time=row.time,
                actor=row.actor,
                actor_name=row.actor_name,
                action=row.action,
                target_type=row.target_type,
                target_id=row.target_id,
                tenant_id=row.tenant_id,
                details=dict(row.details),
                address=row.address,
            )
            for row in rows
        ]
