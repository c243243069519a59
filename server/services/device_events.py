"""What happened to a device, for people: enrolled, revoked, offline and back, health changed.

Written by the services in the same transaction as the change (``record_event_in``); read
newest first by the device page and the API. Separate from the audit log: that says who did
something, this says what became of the device (most of it nobody did).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.store.models import DeviceEventRow

ENROLLED = "enrolled"
REVOKED = "revoked"
ONLINE = "online"
OFFLINE = "offline"
HEALTH = "health"
RENEWED = "certificate"


@dataclass(frozen=True)
class DeviceEvent:
    id: int
    device_id: str
    time: datetime
    kind: str
    message: str
    details: Mapping[str, Any]


def record_event_in(
    session: AsyncSession,
    when: datetime,
    device_id: str,
    tenant_id: int,
    kind: str,
    message: str,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Add a device event to ``session``'s transaction."""
    session.add(
        DeviceEventRow(
            device_id=device_id,
            tenant_id=tenant_id,
            time=when,
            kind=kind,
            message=message,
            details=dict(details or {}),
        )
    )


async def recent_events(
    session: AsyncSession, device_id: str, limit: int = 50
) -> list[DeviceEvent]:
    """The device's newest ``limit`` events, newest first."""
    rows = await session.scalars(
        select(DeviceEventRow)
        .where(DeviceEventRow.device_id == device_id)
        .order_by(DeviceEventRow.id.desc())
        .limit(limit)
    )
    return [
        DeviceEvent(row.id, row.device_id, row.time, row.kind, row.message, row.details)
        for row in rows
    ]
