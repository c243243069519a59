"""Enrolled devices: authenticating their certificates, revoking them, listing the fleet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Select, Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services import details, device_events
from server.services.clock import Clock, utc_now
from server.services.errors import NotFound, Unauthenticated
from server.services.records import DeviceDetails, DeviceIdentity, DeviceSummary
from server.store.database import begin_write
from server.store.models import (
    CertificateRow,
    DeviceInventoryRow,
    DeviceRow,
    HealthSampleRow,
    SiteRow,
    TenantRow,
    serial_hex,
)


class DeviceService:
    """Answers who a certificate belongs to, and what the fleet looks like."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock = utc_now,
        offline_after: timedelta = timedelta(seconds=90),
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._offline_after = offline_after

    async def authenticate(self, serial: int, device_id: str) -> DeviceIdentity:
        """The identity behind a client certificate, or ``Unauthenticated``.

        Refuses serials the collector never issued, a CN that is not the serial's device,
        revoked devices and expired certificates.
        """
        try:
            stored_serial = serial_hex(serial)
        except ValueError as error:
            raise Unauthenticated("client certificate not recognised") from error
        query = (
            select(CertificateRow, DeviceRow)
            .join(DeviceRow, DeviceRow.id == CertificateRow.device_id)
            .where(CertificateRow.serial == stored_serial)
        )
        async with self._sessions() as session:
            row = (await session.execute(query)).one_or_none()
        if row is None:
            raise Unauthenticated("client certificate not recognised")
        certificate, device = row
        if device.id != device_id:
            raise Unauthenticated("client certificate does not belong to this device")
        if device.revoked_at is not None:
            raise Unauthenticated("device has been revoked")
        if certificate.not_after <= self._clock():
            raise Unauthenticated("client certificate has expired")
        return DeviceIdentity(
            device_id=device.id, tenant_id=device.tenant_id, site_id=device.site_id, serial=serial
        )

    async def revoke(self, device_id: str) -> None:
        """Revoke a device: its certificates stop working. Revoking again changes nothing."""
        async with self._sessions.begin() as session:
            await begin_write(session)
            device = await session.get(DeviceRow, device_id)
            if device is None:
                raise NotFound(f"device {device_id!r} does not exist")
            if device.revoked_at is None:
                now = self._clock()
                device.revoked_at = now
                device_events.record_event_in(
                    session, now, device.id, device.tenant_id, device_events.REVOKED, "revoked"
                )

    async def revoked_since(self, cursor: datetime | None) -> tuple[list[str], datetime | None]:
        """Devices revoked after ``cursor`` (all, when None) and the cursor to pass next."""
        query = select(DeviceRow.id, DeviceRow.revoked_at).where(DeviceRow.revoked_at.is_not(None))
        if cursor is not None:
            query = query.where(DeviceRow.revoked_at > cursor)
        async with self._sessions() as session:
            rows = (await session.execute(query.order_by(DeviceRow.revoked_at))).all()
        new_cursor = cursor
        for _, revoked_at in rows:
            if revoked_at is not None and (new_cursor is None or revoked_at > new_cursor):
                new_cursor = revoked_at
        return [device_id for device_id, _ in rows], new_cursor

    async def touch(self, device_id: str, when: datetime) -> None:
        """Record that the device was seen at ``when`` (never moves last-seen backwards)."""
        async with self._sessions.begin() as session:
            await begin_write(session)
            await touch_in(session, device_id, when)

    async def touch_many(self, marks: Mapping[str, datetime]) -> None:
        """Record many last-seen times in one statement (see ``server.services.presence``)."""
        if not marks:
            return
        table = cast(Table, DeviceRow.__table__)
        devices = table.c
        # Core executemany (one statement, many parameter sets): the ORM's bulk UPDATE by
        # primary key cannot carry the "never move backwards" condition.
        statement = (
            update(table)
            .where(
                devices.id == bindparam("device_id"),
                or_(devices.last_seen_at.is_(None), devices.last_seen_at < bindparam("when")),
            )
            .values(last_seen_at=bindparam("when"))
        )
        async with self._sessions.begin() as session:
            await begin_write(session)
            connection = await session.connection()
            await connection.execute(
                statement, [{"device_id": d, "when": w} for d, w in sorted(marks.items())]
            )

    async def list_devices(self) -> list[DeviceSummary]:
        """Every device with its tenant, site, state and latest health figures."""
        async with self._sessions() as session:
            rows = (await session.execute(_summary_query().order_by(DeviceRow.enrolled_at))).all()
        now = self._clock()
        return [self._summary(row, now) for row in rows]

    async def get(self, device_id: str) -> DeviceSummary:
        """One device's summary, or ``NotFound``."""
        async with self._sessions() as session:
            row = (
                await session.execute(_summary_query().where(DeviceRow.id == device_id))
            ).one_or_none()
        if row is None:
            raise NotFound(f"device {device_id!r} does not exist")
        return self._summary(row, self._clock())

    async def details(self, device_id: str) -> DeviceDetails:
        """Everything held about one device: identity, hardware, latest health, software,
        licences and the inventory sections; or ``NotFound``."""
        async with self._sessions() as session:
            row = (
                await session.execute(_summary_query().where(DeviceRow.id == device_id))
            ).one_or_none()
            if row is None:
                raise NotFound(f"device {device_id!r} does not exist")
            return DeviceDetails(
                summary=self._summary(row, self._clock()),
                inventory=await details.load_inventory(session, device_id),
                health=await details.load_latest_health(session, device_id),
                software=await details.load_software(session, device_id),
                licences=await details.load_licences(session, device_id),
                sections=await details.load_sections(session, device_id),
            )

    def _summary(self, row: Row[Any], now: datetime) -> DeviceSummary:
        device: DeviceRow = row.DeviceRow
        last_seen = device.last_seen_at
        revoked = device.revoked_at is not None
        online = not revoked and last_seen is not None and now - last_seen <= self._offline_after
        filesystems: Sequence[dict[str, Any]] | None = row.filesystems
        return DeviceSummary(
            device_id=device.id,
            hostname=device.hostname,
            tenant=row.tenant,
            site=row.site,
            os_name=row.os_name or device.os_family,
            enrolled_at=device.enrolled_at,
            last_seen_at=last_seen,
            online=online,
            revoked=revoked,
            cpu_percent=row.cpu_percent,
            memory_percent=row.memory_percent,
            disk_percent_max=_max_percent(filesystems),
            load1=row.load1,
            uptime_seconds=row.uptime_seconds,
            health_time=row.sample_time,
            os_version=row.os_version,
            form_factor=row.form_factor,
        )


async def touch_in(session: AsyncSession, device_id: str, when: datetime) -> None:
    """Within ``session``, move the device's last-seen time forward to ``when``."""
    await session.execute(
        update(DeviceRow)
        .where(
            DeviceRow.id == device_id,
            or_(DeviceRow.last_seen_at.is_(None), DeviceRow.last_seen_at < when),
        )
        .values(last_seen_at=when)
        .execution_options(synchronize_session=False)
    )


def _summary_query() -> Select[Any]:
    # One query: each device joined to its newest sample, found through the
    # (device_id, sample_time) index by a correlated subquery rather than a scan.
    latest_sample_id = (
        select(HealthSampleRow.id)
        .where(HealthSampleRow.device_id == DeviceRow.id)
        .order_by(HealthSampleRow.sample_time.desc(), HealthSampleRow.id.desc())
        .limit(1)
        .correlate(DeviceRow)
        .scalar_subquery()
    )
    query = (
        select(
            DeviceRow,
            TenantRow.name.label("tenant"),
            SiteRow.name.label("site"),
            DeviceInventoryRow.os_name.label("os_name"),
            DeviceInventoryRow.os_version.label("os_version"),
            DeviceInventoryRow.form_factor.label("form_factor"),
            HealthSampleRow.sample_time,
            HealthSampleRow.cpu_percent,
            HealthSampleRow.memory_percent,
            HealthSampleRow.load1,
            HealthSampleRow.uptime_seconds,
            HealthSampleRow.filesystems,
        )
        .join(TenantRow, TenantRow.id == DeviceRow.tenant_id)
        .join(SiteRow, SiteRow.id == DeviceRow.site_id)
        .outerjoin(DeviceInventoryRow, DeviceInventoryRow.device_id == DeviceRow.id)
        .outerjoin(HealthSampleRow, HealthSampleRow.id == latest_sample_id)
    )
    return cast("Select[Any]", query)


def _max_percent(filesystems: Sequence[dict[str, Any]] | None) -> float | None:
    percents = [
        float(item["percent"])
        for item in filesystems or ()
        if isinstance(item.get("percent"), int | float)
    ]
    return max(percents) if percents else None
