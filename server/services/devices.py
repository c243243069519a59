"""Enrolled devices: authenticating their certificates, revoking them, listing the fleet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Select, Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services import details, device_events
from server.services.audit import record_in
from server.services.certificate_cache import CertificateCache, CertificateFacts
from server.services.clock import Clock, utc_now
from server.services.errors import InvalidArgument, NotFound, Unauthenticated
from server.services.health_state import HealthState
from server.services.records import (
    Actor,
    DeviceDetails,
    DeviceIdentity,
    DeviceSummary,
    LicenceFacts,
    SoftwarePackage,
)
from server.store.database import begin_write
from server.store.models import (
    CertificateRow,
    DeviceInventoryRow,
    DeviceRow,
    DeviceSoftwareRow,
    HealthSampleRow,
    SiteRow,
    SoftwareTitleRow,
    TenantRow,
    serial_hex,
)

SOFTWARE_PER_PAGE = 50
MAX_SOFTWARE_PAGE = 10_000
MAX_SOFTWARE_SEARCH = 200
MAX_EVENTS = 200


@dataclass(frozen=True)
class DeviceStatus:
    """Where a device belongs and how it stands: for access checks and the device page.

    ``state`` is ok / warning / critical / offline / revoked (offline follows the presence
    sweep's ``online`` flag, as on the devices list)."""

    device_id: str
    hostname: str
    tenant_id: int
    site_id: int
    state: str
    health_summary: str
    health_changed_at: datetime | None
    revoked_at: datetime | None
    agent_version: str

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class SoftwarePage:
    """One page of a device's installed software, matching ``search`` (empty: all)."""

    packages: tuple[SoftwarePackage, ...]
    total: int
    page: int
    per_page: int
    search: str

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def state_label(revoked: bool, online: bool, health_state: int) -> str:
    """What a device's state is called on the pages and in the API."""
    if revoked:
        return "revoked"
    if not online:
        return HealthState.OFFLINE.label
    return HealthState(min(health_state, HealthState.CRITICAL)).label


# The columns authentication needs, without loading ORM objects (it runs on every call).
_CERTIFICATE_FACTS = (
    select(
        CertificateRow.device_id,
        DeviceRow.tenant_id,
        DeviceRow.site_id,
        CertificateRow.not_after,
        DeviceRow.revoked_at,
    )
    .join(DeviceRow, DeviceRow.id == CertificateRow.device_id)
    .where(CertificateRow.serial == bindparam("serial"))
)
_REVOCATION_MARK = select(func.count(DeviceRow.id), func.max(DeviceRow.revoked_at)).where(
    DeviceRow.revoked_at.is_not(None)
)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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
        self._certificates = CertificateCache()

    async def authenticate(self, serial: int, device_id: str) -> DeviceIdentity:
        """The identity behind a client certificate, or ``Unauthenticated``.

        Refuses serials the collector never issued, a CN that is not the serial's device,
        revoked devices and expired certificates. What a serial stands for is remembered
        (``server.services.certificate_cache``): a revocation by this process is honoured
        at once, one by another process within 2 s (1 s with the collector's watcher); expiry
        is checked on every call.
        """
        now = self._clock()
        certificates = self._certificates
        if certificates.check_due(now):
            await self._check_revocations(now)
        facts = certificates.get(serial, now)
        if facts is None:
            facts = await self._certificate_facts(serial, now)
        if facts.device_id != device_id:
            raise Unauthenticated("client certificate does not belong to this device")
        if facts.revoked:
            raise Unauthenticated("device has been revoked")
        if facts.not_after <= now:
            raise Unauthenticated("client certificate has expired")
        return DeviceIdentity(
            device_id=facts.device_id,
            tenant_id=facts.tenant_id,
            site_id=facts.site_id,
            serial=serial,
        )

    async def _certificate_facts(self, serial: int, now: datetime) -> CertificateFacts:
        """Read what ``serial`` stands for (and remember it unless revoked meanwhile)."""
        try:
            stored_serial = serial_hex(serial)
        except ValueError as error:
            raise Unauthenticated("client certificate not recognised") from error
        generation = self._certificates.generation
        async with self._sessions() as session:
            row = (await session.execute(_CERTIFICATE_FACTS, {"serial": stored_serial})).first()
        if row is None:
            raise Unauthenticated("client certificate not recognised")
        device_id, tenant_id, site_id, not_after, revoked_at = row
        facts = CertificateFacts(
            device_id=device_id,
            tenant_id=tenant_id,
            site_id=site_id,
            not_after=not_after,
            revoked=revoked_at is not None,
            read_at=now,
        )
        self._certificates.put(serial, facts, generation)
        return facts

    async def _check_revocations(self, now: datetime) -> None:
        """Read the revocations again (one query for every caller waiting on it)."""
        certificates = self._certificates
        async with certificates.check_lock:
            if not certificates.check_due(now):
                return
            async with self._sessions() as session:
                count, newest = (await session.execute(_REVOCATION_MARK)).one()
            certificates.observe((int(count), newest), now)

    async def revoke(
        self, device_id: str, *, actor: Actor | None = None, address: str = ""
    ) -> bool:
        """Revoke a device: its certificates stop working. Revoking again changes nothing.

        With ``actor`` (the dashboard and the API), the revocation is audited in the same
        transaction. True when this call revoked it, False when it already was."""
        async with self._sessions.begin() as session:
            await begin_write(session)
            device = await session.get(DeviceRow, device_id)
            if device is None:
                raise NotFound(f"device {device_id!r} does not exist")
            if device.revoked_at is not None:
                self._certificates.forget_devices([device_id])  # if another process revoked it
                return False
            now = self._clock()
            device.revoked_at = now
            device_events.record_event_in(
                session, now, device.id, device.tenant_id, device_events.REVOKED, "revoked"
            )
            if actor is not None:
                await record_in(
                    session,
                    now,
                    actor,
                    "device.revoke",
                    "device",
                    device.id,
                    tenant_id=device.tenant_id,
                    details={"hostname": device.hostname[:255]},
                    address=address,
                )
        # Committed: this device's next call is refused, even if its certificate was cached.
        self._certificates.forget_devices([device_id])
        return True

    async def status(self, device_id: str) -> DeviceStatus:
        """Where the device belongs and its state, or ``NotFound``."""
        async with self._sessions() as session:
            device = await session.get(DeviceRow, device_id)
        if device is None:
            raise NotFound(f"device {device_id!r:.80} does not exist")
        return DeviceStatus(
            device_id=device.id,
            hostname=device.hostname,
            tenant_id=device.tenant_id,
            site_id=device.site_id,
            state=state_label(device.revoked_at is not None, device.online, device.health_state),
            health_summary=device.health_summary,
            health_changed_at=device.health_changed_at,
            revoked_at=device.revoked_at,
            agent_version=device.agent_version,
        )

    async def software_page(
        self, device_id: str, search: str = "", page: int = 1, per_page: int = SOFTWARE_PER_PAGE
    ) -> SoftwarePage:
        """Installed software by name, ``per_page`` at a time; ``search`` matches name or
        publisher (case-insensitive substring)."""
        search = search.strip()
        if len(search) > MAX_SOFTWARE_SEARCH or "\x00" in search:
            raise InvalidArgument(
                f"a software search is at most {MAX_SOFTWARE_SEARCH} characters of text"
            )
        if not 1 <= page <= MAX_SOFTWARE_PAGE:
            raise InvalidArgument(f"page must be from 1 to {MAX_SOFTWARE_PAGE}")
        if not 1 <= per_page <= 500:
            raise InvalidArgument("per_page must be from 1 to 500")
        conditions = [DeviceSoftwareRow.device_id == device_id]
        if search:
            pattern = _like(search.lower())
            conditions.append(
                or_(
                    func.lower(SoftwareTitleRow.name).like(pattern, escape="\\"),
                    func.lower(SoftwareTitleRow.publisher).like(pattern, escape="\\"),
                )
            )
        base = (
            select(DeviceSoftwareRow.id)
            .join(SoftwareTitleRow, SoftwareTitleRow.id == DeviceSoftwareRow.title_id)
            .where(*conditions)
        )
        query = (
            select(
                SoftwareTitleRow.name,
                DeviceSoftwareRow.version,
                SoftwareTitleRow.publisher,
                SoftwareTitleRow.source,
                DeviceSoftwareRow.architecture,
                DeviceSoftwareRow.install_time,
                DeviceSoftwareRow.identifier,
            )
            .join(SoftwareTitleRow, SoftwareTitleRow.id == DeviceSoftwareRow.title_id)
            .where(*conditions)
            .order_by(SoftwareTitleRow.name, DeviceSoftwareRow.version, DeviceSoftwareRow.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(base.subquery()))
            rows = (await session.execute(query)).all()
        return SoftwarePage(
            packages=tuple(SoftwarePackage(*row) for row in rows),
            total=int(total or 0),
            page=page,
            per_page=per_page,
            search=search,
        )

    async def licences(self, device_id: str) -> LicenceFacts:
        """The device's Windows/Office activations and package licences."""
        async with self._sessions() as session:
            return await details.load_licences(session, device_id)

    async def events(self, device_id: str, limit: int = 50) -> list[device_events.DeviceEvent]:
        """The device's newest events, newest first."""
        if not 1 <= limit <= MAX_EVENTS:
            raise InvalidArgument(f"limit must be from 1 to {MAX_EVENTS}")
        async with self._sessions() as session:
            return await device_events.recent_events(session, device_id, limit)

    async def revoked_since(self, cursor: datetime | None) -> tuple[list[str], datetime | None]:
        """Devices revoked after ``cursor`` (all, when None) and the cursor to pass next."""
        query = select(DeviceRow.id, DeviceRow.revoked_at).where(DeviceRow.revoked_at.is_not(None))
        if cursor is not None:
            query = query.where(DeviceRow.revoked_at > cursor)
        async with self._sessions() as session:
            rows = (await session.execute(query.order_by(DeviceRow.revoked_at))).all()
        # The watcher closes these devices' streams: their next call must be refused too.
        self._certificates.forget_devices(device_id for device_id, _ in rows)
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

    async def details(self, device_id: str, *, with_software: bool = True) -> DeviceDetails:
        """Everything held about one device: identity, hardware, latest health, software,
        licences and the inventory sections; or ``NotFound``. ``with_software=False`` leaves
        the software out (the device page reads it a page at a time)."""
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
                software=await details.load_software(session, device_id) if with_software else (),
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
