"""Tags: labels technicians put on devices ("kiosk", "finance", "loaner-pool").

A tag is 1-64 characters of lower-case letters, digits, ``.``, ``_`` and ``-`` (upper case is
folded). Adding and removing are audited against the device's tenant. A revoked device's tags
no longer change (FailedPrecondition): it stays on record as it was when revoked. Callers check
access (``devices:write`` on the device's tenant) before calling; a device outside
``visible_tenants`` reads as not found.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.audit import record_in
from server.services.clock import Clock, utc_now
from server.services.errors import FailedPrecondition, InvalidArgument, NotFound
from server.services.records import CLI_ACTOR, Actor
from server.store.database import begin_write
from server.store.models import TAG_LENGTH, DeviceRow, DeviceTagRow

_TAG = re.compile(rf"[a-z0-9][a-z0-9._-]{{0,{TAG_LENGTH - 1}}}")
MAX_TAGS_PER_DEVICE = 50


def normalise_tag(text: str) -> str:
    """The tag as stored; InvalidArgument when it is not a valid tag."""
    tag = text.strip().lower()
    if not _TAG.fullmatch(tag):
        raise InvalidArgument(
            "a tag is 1-64 characters: letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return tag


class TagService:
    """Reads and changes device tags."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def tags_of(self, device_id: str) -> list[str]:
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(DeviceTagRow.tag)
                    .where(DeviceTagRow.device_id == device_id)
                    .order_by(DeviceTagRow.tag)
                )
            )

    async def all_tags(self, tenant_ids: Collection[int] | None = None) -> list[str]:
        """Every tag in use on devices of ``tenant_ids`` (None: every tenant)."""
        query = select(DeviceTagRow.tag).distinct().order_by(DeviceTagRow.tag)
        if tenant_ids is not None:
            query = query.join(DeviceRow, DeviceRow.id == DeviceTagRow.device_id).where(
                DeviceRow.tenant_id.in_(sorted(tenant_ids))
            )
        async with self._sessions() as session:
            return list(await session.scalars(query))

    async def add(
        self,
        device_id: str,
        tag: str,
        *,
        actor: Actor = CLI_ACTOR,
        address: str = "",
        visible_tenants: Collection[int] | None = None,
    ) -> bool:
        """Tag the device; False when it already had the tag (nothing written then).
        FailedPrecondition if the device has been revoked."""
        tag = normalise_tag(tag)
        async with self._sessions.begin() as session:
            await begin_write(session)
            device = await _device(session, device_id, visible_tenants)
            existing = list(
                await session.scalars(
                    select(DeviceTagRow.tag).where(DeviceTagRow.device_id == device_id)
                )
            )
            if tag in existing:
                return False
            if len(existing) >= MAX_TAGS_PER_DEVICE:
                raise InvalidArgument(f"a device has at most {MAX_TAGS_PER_DEVICE} tags")
            now = self._clock()
            session.add(DeviceTagRow(device_id=device_id, tag=tag, created_at=now))
            await record_in(
                session,
                now,
                actor,
                "device.tag",
                "device",
                device_id,
                tenant_id=device.tenant_id,
                details={"tag": tag},
                address=address,
            )
        return True

    async def remove(
        self,
        device_id: str,
        tag: str,
        *,
        actor: Actor = CLI_ACTOR,
        address: str = "",
        visible_tenants: Collection[int] | None = None,
    ) -> bool:
        """Take the tag off the device; False when it did not have it. FailedPrecondition if
        the device has been revoked."""
        tag = normalise_tag(tag)
        async with self._sessions.begin() as session:
            await begin_write(session)
            device = await _device(session, device_id, visible_tenants)
            removed = await session.execute(
                delete(DeviceTagRow).where(
                    DeviceTagRow.device_id == device_id, DeviceTagRow.tag == tag
                )
            )
            if not removed.rowcount:  # type: ignore[attr-defined]
                return False
            await record_in(
                session,
                self._clock(),
                actor,
                "device.untag",
                "device",
                device_id,
                tenant_id=device.tenant_id,
                details={"tag": tag},
                address=address,
            )
        return True


async def _device(
    session: AsyncSession, device_id: str, visible_tenants: Collection[int] | None
) -> DeviceRow:
    """The device whose tags are about to change, read in the changing transaction (so a
    revocation committed meanwhile is seen)."""
    device = await session.get(DeviceRow, device_id)
    if device is None or (visible_tenants is not None and device.tenant_id not in visible_tenants):
        raise NotFound("no such device")
    if device.revoked_at is not None:
        raise FailedPrecondition(f"device {device_id} has been revoked: its tags cannot change")
    return device
