"""Tenants (customer companies) and their sites.

Every creation is audited in the same transaction (``tenant.create``, ``site.create``),
including tenants and sites made on first use by ``ensure_site`` or a token's creation.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.audit import record_in
from server.services.clock import Clock, utc_now
from server.services.errors import AlreadyExists, InvalidArgument, NotFound
from server.services.records import CLI_ACTOR, Actor, Site, SiteSummary, Tenant, TenantSummary
from server.services.validation import MAX_INT32
from server.store.database import begin_write
from server.store.dialect import upsert_insert
from server.store.models import NAME_LENGTH, DeviceRow, SiteRow, TenantRow

TENANT_CREATE = "tenant.create"
SITE_CREATE = "site.create"


def is_row_id(value: int) -> bool:
    """Whether ``value`` can be the id of a tenant, site or token (32-bit integer columns);
    any other value names nothing, and is not sent to the database (which may overflow)."""
    return 1 <= value <= MAX_INT32


def validate_name(kind: str, name: str) -> str:
    """Check a tenant or site name: 1-100 printable characters, not only spaces."""
    if not name or not name.strip():
        raise InvalidArgument(f"{kind} name must not be empty")
    if len(name) > NAME_LENGTH:
        raise InvalidArgument(f"{kind} name must be at most {NAME_LENGTH} characters")
    if not name.isprintable():
        raise InvalidArgument(f"{kind} name must contain only printable characters")
    return name


class TenancyService:
    """Creates and lists tenants and sites."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def create_tenant(
        self, name: str, *, actor: Actor = CLI_ACTOR, address: str = ""
    ) -> Tenant:
        validate_name("tenant", name)
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            tenant_id = await session.scalar(
                upsert_insert(session, TenantRow)
                .values(name=name, created_at=now)
                .on_conflict_do_nothing(index_elements=[TenantRow.name])
                .returning(TenantRow.id)
            )
            if tenant_id is None:
                raise AlreadyExists(f"tenant {name!r} already exists")
            await _audit_tenant(session, now, actor, address, tenant_id, name)
            return Tenant(id=tenant_id, name=name)

    async def list_tenants(self, tenant_ids: frozenset[int] | None = None) -> list[Tenant]:
        """Tenants by name; ``tenant_ids`` narrows to those (None: every tenant)."""
        query = select(TenantRow).order_by(TenantRow.name)
        if tenant_ids is not None:
            query = query.where(TenantRow.id.in_(sorted(tenant_ids)))
        async with self._sessions() as session:
            rows = await session.scalars(query)
            return [Tenant(id=row.id, name=row.name) for row in rows]

    async def get_tenant(self, tenant_id: int) -> Tenant:
        if not is_row_id(tenant_id):
            raise NotFound(f"tenant {tenant_id} does not exist")
        async with self._sessions() as session:
            name = await session.scalar(select(TenantRow.name).where(TenantRow.id == tenant_id))
        if name is None:
            raise NotFound(f"tenant {tenant_id} does not exist")
        return Tenant(id=tenant_id, name=name)

    async def create_site(
        self, tenant: str, name: str, *, actor: Actor = CLI_ACTOR, address: str = ""
    ) -> Site:
        """Create site ``name`` of the tenant named ``tenant``."""
        validate_name("tenant", tenant)
        validate_name("site", name)
        async with self._sessions.begin() as session:
            await begin_write(session)
            tenant_id = await session.scalar(select(TenantRow.id).where(TenantRow.name == tenant))
            if tenant_id is None:
                raise NotFound(f"tenant {tenant!r} does not exist")
            return await self._create_site_in(session, tenant_id, tenant, name, actor, address)

    async def add_site(
        self, tenant_id: int, name: str, *, actor: Actor = CLI_ACTOR, address: str = ""
    ) -> Site:
        """Create site ``name`` of the tenant with id ``tenant_id``."""
        validate_name("site", name)
        if not is_row_id(tenant_id):
            raise NotFound(f"tenant {tenant_id} does not exist")
        async with self._sessions.begin() as session:
            await begin_write(session)
            tenant = await session.scalar(select(TenantRow.name).where(TenantRow.id == tenant_id))
            if tenant is None:
                raise NotFound(f"tenant {tenant_id} does not exist")
            return await self._create_site_in(session, tenant_id, tenant, name, actor, address)

    async def _create_site_in(
        self,
        session: AsyncSession,
        tenant_id: int,
        tenant: str,
        name: str,
        actor: Actor,
        address: str,
    ) -> Site:
        now = self._clock()
        site_id = await session.scalar(
            upsert_insert(session, SiteRow)
            .values(tenant_id=tenant_id, name=name, created_at=now)
            .on_conflict_do_nothing(index_elements=[SiteRow.tenant_id, SiteRow.name])
            .returning(SiteRow.id)
        )
        if site_id is None:
            raise AlreadyExists(f"site {name!r} of tenant {tenant!r} already exists")
        await _audit_site(session, now, actor, address, tenant_id, tenant, site_id, name)
        return Site(id=site_id, tenant=tenant, name=name)

    async def ensure_site(
        self, tenant: str, site: str, *, actor: Actor = CLI_ACTOR, address: str = ""
    ) -> Site:
        """The site ``site`` of ``tenant``, creating either or both on first use."""
        async with self._sessions.begin() as session:
            await begin_write(session)
            _, site_id = await ensure_site_in(
                session, tenant, site, self._clock(), actor=actor, address=address
            )
            return Site(id=site_id, tenant=tenant, name=site)

    async def list_sites(self, tenant_ids: frozenset[int] | None = None) -> list[SiteSummary]:
        """Sites by tenant name then site name, with their device counts; ``tenant_ids``
        narrows to those tenants (None: every tenant)."""
        devices = (
            select(DeviceRow.site_id, func.count().label("devices"))
            .where(DeviceRow.revoked_at.is_(None))
            .group_by(DeviceRow.site_id)
            .subquery()
        )
        query = (
            select(SiteRow, TenantRow.name, func.coalesce(devices.c.devices, 0))
            .join(TenantRow, TenantRow.id == SiteRow.tenant_id)
            .outerjoin(devices, devices.c.site_id == SiteRow.id)
            .order_by(TenantRow.name, SiteRow.name)
        )
        if tenant_ids is not None:
            query = query.where(SiteRow.tenant_id.in_(sorted(tenant_ids)))
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            SiteSummary(
                id=site.id,
                tenant_id=site.tenant_id,
                tenant=tenant,
                name=site.name,
                device_count=int(count),
                created_at=site.created_at,
            )
            for site, tenant, count in rows
        ]

    async def get_site(self, site_id: int) -> SiteSummary:
        """One site (NotFound if there is none with that id)."""
        if not is_row_id(site_id):
            raise NotFound(f"site {site_id} does not exist")
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(SiteRow, TenantRow.name)
                    .join(TenantRow, TenantRow.id == SiteRow.tenant_id)
                    .where(SiteRow.id == site_id)
                )
            ).first()
            if row is None:
                raise NotFound(f"site {site_id} does not exist")
            site, tenant = row
            count = await session.scalar(
                select(func.count())
                .select_from(DeviceRow)
                .where(DeviceRow.site_id == site_id, DeviceRow.revoked_at.is_(None))
            )
        return SiteSummary(
            id=site.id,
            tenant_id=site.tenant_id,
            tenant=tenant,
            name=site.name,
            device_count=count or 0,
            created_at=site.created_at,
        )

    async def overview(self, tenant_ids: frozenset[int] | None = None) -> list[TenantSummary]:
        """Tenants by name with their sites and device counts (narrowed like ``list_sites``)."""
        query = select(TenantRow).order_by(TenantRow.name)
        if tenant_ids is not None:
            query = query.where(TenantRow.id.in_(sorted(tenant_ids)))
        async with self._sessions() as session:
            tenants = (await session.scalars(query)).all()
        sites = await self.list_sites(tenant_ids)
        return [
            TenantSummary(
                id=tenant.id,
                name=tenant.name,
                created_at=tenant.created_at,
                sites=tuple(site for site in sites if site.tenant_id == tenant.id),
            )
            for tenant in tenants
        ]


async def _audit_tenant(
    session: AsyncSession, now: datetime, actor: Actor, address: str, tenant_id: int, name: str
) -> None:
    await record_in(
        session,
        now,
        actor,
        TENANT_CREATE,
        "tenant",
        tenant_id,
        tenant_id=tenant_id,
        details={"name": name},
        address=address,
    )


async def _audit_site(
    session: AsyncSession,
    now: datetime,
    actor: Actor,
    address: str,
    tenant_id: int,
    tenant: str,
    site_id: int,
    name: str,
) -> None:
    await record_in(
        session,
        now,
        actor,
        SITE_CREATE,
        "site",
        site_id,
        tenant_id=tenant_id,
        details={"tenant": tenant, "name": name},
        address=address,
    )


async def ensure_site_in(
    session: AsyncSession,
    tenant: str,
    site: str,
    now: datetime,
    *,
    actor: Actor = CLI_ACTOR,
    address: str = "",
) -> tuple[int, int]:
    """Within ``session``, find or create tenant and site; return ``(tenant_id, site_id)``.

    What is created is audited as ``actor``. Safe against a concurrent creator: inserts use
    ``ON CONFLICT DO NOTHING`` and re-read.
    """
    validate_name("tenant", tenant)
    validate_name("site", site)
    created_tenant = await session.scalar(
        upsert_insert(session, TenantRow)
        .values(name=tenant, created_at=now)
        .on_conflict_do_nothing(index_elements=[TenantRow.name])
        .returning(TenantRow.id)
    )
    tenant_id = await session.scalar(select(TenantRow.id).where(TenantRow.name == tenant))
    if tenant_id is None:  # pragma: no cover - the row was just inserted or already there
        raise NotFound(f"tenant {tenant!r} does not exist")
    if created_tenant is not None:
        await _audit_tenant(session, now, actor, address, tenant_id, tenant)
    created_site = await session.scalar(
        upsert_insert(session, SiteRow)
        .values(tenant_id=tenant_id, name=site, created_at=now)
        .on_conflict_do_nothing(index_elements=[SiteRow.tenant_id, SiteRow.name])
        .returning(SiteRow.id)
    )
    site_id = await session.scalar(
        select(SiteRow.id).where(SiteRow.tenant_id == tenant_id, SiteRow.name == site)
    )
    if site_id is None:  # pragma: no cover
        raise NotFound(f"site {site!r} does not exist")
    if created_site is not None:
        await _audit_site(session, now, actor, address, tenant_id, tenant, site_id, site)
    return tenant_id, site_id
