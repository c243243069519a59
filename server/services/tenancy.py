"""Tenants (customer companies) and their sites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.clock import Clock, utc_now
from server.services.errors import AlreadyExists, InvalidArgument, NotFound
from server.services.records import Site, Tenant
from server.store.database import begin_write
from server.store.dialect import upsert_insert
from server.store.models import NAME_LENGTH, SiteRow, TenantRow


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

    async def create_tenant(self, name: str) -> Tenant:
        validate_name("tenant", name)
        async with self._sessions.begin() as session:
            await begin_write(session)
            tenant_id = await session.scalar(
                upsert_insert(session, TenantRow)
                .values(name=name, created_at=self._clock())
                .on_conflict_do_nothing(index_elements=[TenantRow.name])
                .returning(TenantRow.id)
            )
            if tenant_id is None:
                raise AlreadyExists(f"tenant {name!r} already exists")
            return Tenant(id=tenant_id, name=name)

    async def list_tenants(self) -> list[Tenant]:
        async with self._sessions() as session:
            rows = await session.scalars(select(TenantRow).order_by(TenantRow.name))
            return [Tenant(id=row.id, name=row.name) for row in rows]

    async def create_site(self, tenant: str, name: str) -> Site:
        validate_name("tenant", tenant)
        validate_name("site", name)
        async with self._sessions.begin() as session:
            await begin_write(session)
            tenant_id = await session.scalar(select(TenantRow.id).where(TenantRow.name == tenant))
            if tenant_id is None:
                raise NotFound(f"tenant {tenant!r} does not exist")
            site_id = await session.scalar(
                upsert_insert(session, SiteRow)
                .values(tenant_id=tenant_id, name=name, created_at=self._clock())
                .on_conflict_do_nothing(index_elements=[SiteRow.tenant_id, SiteRow.name])
                .returning(SiteRow.id)
            )
            if site_id is None:
                raise AlreadyExists(f"site {name!r} of tenant {tenant!r} already exists")
            return Site(id=site_id, tenant=tenant, name=name)

    async def ensure_site(self, tenant: str, site: str) -> Site:
        """The site ``site`` of ``tenant``, creating either or both on first use."""
        async with self._sessions.begin() as session:
            await begin_write(session)
            _, site_id = await ensure_site_in(session, tenant, site, self._clock())
            return Site(id=site_id, tenant=tenant, name=site)


async def ensure_site_in(
    session: AsyncSession, tenant: str, site: str, now: datetime
) -> tuple[int, int]:
    """Within ``session``, find or create tenant and site; return ``(tenant_id, site_id)``.

    Safe against a concurrent creator: inserts use ``ON CONFLICT DO NOTHING`` and re-read.
    """
    validate_name("tenant", tenant)
    validate_name("site", site)
    await session.execute(
        upsert_insert(session, TenantRow)
        .values(name=tenant, created_at=now)
        .on_conflict_do_nothing(index_elements=[TenantRow.name])
    )
    tenant_id = await session.scalar(select(TenantRow.id).where(TenantRow.name == tenant))
    if tenant_id is None:  # pragma: no cover - the row was just inserted or already there
        raise NotFound(f"tenant {tenant!r} does not exist")
    await session.execute(
        upsert_insert(session, SiteRow)
        .values(tenant_id=tenant_id, name=site, created_at=now)
        .on_conflict_do_nothing(index_elements=[SiteRow.tenant_id, SiteRow.name])
    )
    site_id = await session.scalar(
        select(SiteRow.id).where(SiteRow.tenant_id == tenant_id, SiteRow.name == site)
    )
    if site_id is None:  # pragma: no cover
        raise NotFound(f"site {site!r} does not exist")
    return tenant_id, site_id
