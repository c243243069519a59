"""Enrolment tokens: created by an admin for one tenant and site, with an expiry and uses.

Only the SHA-256 of a token's secret is stored; the secret is shown once, at creation.
Creating and revoking are audited in the same transaction (``token.create``,
``token.revoke``); the audit details never hold the secret.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.audit import record_in
from server.services.clock import Clock, utc_now
from server.services.errors import InvalidArgument, NotFound
from server.services.records import CLI_ACTOR, Actor, IssuedToken, TokenInfo
from server.services.tenancy import ensure_site_in, is_row_id
from server.store.database import begin_write
from server.store.models import EnrollmentTokenRow, SiteRow, TenantRow

TOKEN_PREFIX = "parc_"  # noqa: S105 - a public prefix, not a secret
MAX_USES = 1_000_000
MAX_TTL = timedelta(days=3650)

_DURATION = re.compile(r"([0-9]{1,9})([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

ACTIVE = "active"
EXPIRED = "expired"
USED_UP = "used up"
REVOKED = "revoked"
STATES = (ACTIVE, EXPIRED, USED_UP, REVOKED)

TOKEN_CREATE = "token.create"  # noqa: S105 - an audit action, not a secret
TOKEN_REVOKE = "token.revoke"  # noqa: S105


def hash_token(secret: str) -> str:
    """The stored form of a token secret: SHA-256, lowercase hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_duration(text: str) -> timedelta:
    """Parse ``"90s"``, ``"30m"``, ``"24h"`` or ``"7d"`` into a timedelta."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise InvalidArgument(
            f"cannot read duration {text!r}: use a number and s, m, h or d (e.g. 24h)"
        )
    amount, unit = match.groups()
    return timedelta(**{_UNITS[unit]: int(amount)})


def token_state(
    *,
    revoked_at: datetime | None,
    uses_count: int,
    uses_allowed: int,
    expires_at: datetime,
    now: datetime,
) -> str:
    """What a token is at ``now``: revoked wins over used up, which wins over expired."""
    if revoked_at is not None:
        return REVOKED
    if uses_count >= uses_allowed:
        return USED_UP
    if expires_at <= now:
        return EXPIRED
    return ACTIVE


class TokenService:
    """Creates, lists and revokes enrolment tokens."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def create(
        self,
        tenant: str,
        site: str,
        uses: int,
        ttl: timedelta,
        *,
        actor: Actor = CLI_ACTOR,
        address: str = "",
    ) -> IssuedToken:
        """Create a token for ``tenant``/``site`` (created on first use)."""
        _check_limits(uses, ttl)
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            tenant_id, site_id = await ensure_site_in(
                session, tenant, site, now, actor=actor, address=address
            )
            return await self._create_in(
                session, now, tenant_id, tenant, site_id, site, uses, ttl, actor, address
            )

    async def create_for_site(
        self,
        site_id: int,
        uses: int,
        ttl: timedelta,
        *,
        actor: Actor = CLI_ACTOR,
        address: str = "",
    ) -> IssuedToken:
        """Create a token for the existing site ``site_id`` (NotFound if there is none)."""
        _check_limits(uses, ttl)
        if not is_row_id(site_id):
            raise NotFound(f"site {site_id} does not exist")
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = (
                await session.execute(
                    select(SiteRow.tenant_id, TenantRow.name, SiteRow.name)
                    .join(TenantRow, TenantRow.id == SiteRow.tenant_id)
                    .where(SiteRow.id == site_id)
                )
            ).first()
            if row is None:
                raise NotFound(f"site {site_id} does not exist")
            tenant_id, tenant, site = row
            return await self._create_in(
                session, now, tenant_id, tenant, site_id, site, uses, ttl, actor, address
            )

    async def _create_in(
        self,
        session: AsyncSession,
        now: datetime,
        tenant_id: int,
        tenant: str,
        site_id: int,
        site: str,
        uses: int,
        ttl: timedelta,
        actor: Actor,
        address: str,
    ) -> IssuedToken:
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = now + ttl
        row = EnrollmentTokenRow(
            token_hash=hash_token(secret),
            tenant_id=tenant_id,
            site_id=site_id,
            uses_allowed=uses,
            uses_count=0,
            expires_at=expires_at,
            revoked_at=None,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        await record_in(
            session,
            now,
            actor,
            TOKEN_CREATE,
            "enrolment-token",
            row.id,
            tenant_id=tenant_id,
            details={
                "tenant": tenant,
                "site": site,
                "uses": uses,
                "expires": expires_at.isoformat(),
            },
            address=address,
        )
        return IssuedToken(
            token_id=row.id,
            secret=secret,
            tenant=tenant,
            site=site,
            uses_allowed=uses,
            expires_at=expires_at,
        )

    async def revoke(self, token_id: int, *, actor: Actor = CLI_ACTOR, address: str = "") -> bool:
        """Revoke a token; revoking it again changes nothing (and returns False)."""
        if not is_row_id(token_id):
            raise NotFound(f"enrolment token {token_id} does not exist")
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = (
                await session.execute(
                    select(EnrollmentTokenRow.tenant_id, TenantRow.name, SiteRow.name)
                    .join(TenantRow, TenantRow.id == EnrollmentTokenRow.tenant_id)
                    .join(SiteRow, SiteRow.id == EnrollmentTokenRow.site_id)
                    .where(EnrollmentTokenRow.id == token_id)
                )
            ).first()
            if row is None:
                raise NotFound(f"enrolment token {token_id} does not exist")
            tenant_id, tenant, site = row
            result = await session.execute(
                update(EnrollmentTokenRow)
                .where(EnrollmentTokenRow.id == token_id, EnrollmentTokenRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            changed = bool(getattr(result, "rowcount", 0))
            if changed:
                await record_in(
                    session,
                    now,
                    actor,
                    TOKEN_REVOKE,
                    "enrolment-token",
                    token_id,
                    tenant_id=tenant_id,
                    details={"tenant": tenant, "site": site},
                    address=address,
                )
            return changed

    async def list(self, tenant_ids: frozenset[int] | None = None) -> list[TokenInfo]:
        """Every token, oldest first; ``tenant_ids`` narrows to those tenants (None: all)."""
        query = _listing()
        if tenant_ids is not None:
            query = query.where(EnrollmentTokenRow.tenant_id.in_(sorted(tenant_ids)))
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        now = self._clock()
        return [_info(token, tenant, site, now) for token, tenant, site in rows]

    async def get(self, token_id: int) -> TokenInfo:
        """One token (NotFound if there is none with that id); never its secret."""
        if not is_row_id(token_id):
            raise NotFound(f"enrolment token {token_id} does not exist")
        async with self._sessions() as session:
            row = (
                await session.execute(_listing().where(EnrollmentTokenRow.id == token_id))
            ).first()
        if row is None:
            raise NotFound(f"enrolment token {token_id} does not exist")
        token, tenant, site = row
        return _info(token, tenant, site, self._clock())


def _check_limits(uses: int, ttl: timedelta) -> None:
    if not 1 <= uses <= MAX_USES:
        raise InvalidArgument(f"uses must be between 1 and {MAX_USES}")
    if not timedelta(0) < ttl <= MAX_TTL:
        raise InvalidArgument("token lifetime must be positive and at most 10 years")


def _listing() -> Select[EnrollmentTokenRow, str, str]:
    return (
        select(EnrollmentTokenRow, TenantRow.name, SiteRow.name)
        .join(TenantRow, TenantRow.id == EnrollmentTokenRow.tenant_id)
        .join(SiteRow, SiteRow.id == EnrollmentTokenRow.site_id)
        .order_by(EnrollmentTokenRow.id)
    )


def _info(token: EnrollmentTokenRow, tenant: str, site: str, now: datetime) -> TokenInfo:
    return TokenInfo(
        token_id=token.id,
        tenant=tenant,
        site=site,
        uses_allowed=token.uses_allowed,
        uses_count=token.uses_count,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        created_at=token.created_at,
        tenant_id=token.tenant_id,
        site_id=token.site_id,
        state=token_state(
            revoked_at=token.revoked_at,
            uses_count=token.uses_count,
            uses_allowed=token.uses_allowed,
            expires_at=token.expires_at,
            now=now,
        ),
    )
