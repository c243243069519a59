"""Enrolment tokens: created by an admin for one tenant and site, with an expiry and uses.

Only the SHA-256 of a token's secret is stored; the secret is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.clock import Clock, utc_now
from server.services.errors import InvalidArgument, NotFound
from server.services.records import IssuedToken, TokenInfo
from server.services.tenancy import ensure_site_in
from server.store.database import begin_write
from server.store.models import EnrollmentTokenRow, SiteRow, TenantRow

TOKEN_PREFIX = "parc_"  # noqa: S105 - a public prefix, not a secret
MAX_USES = 1_000_000
MAX_TTL = timedelta(days=3650)

_DURATION = re.compile(r"([0-9]{1,9})([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


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


class TokenService:
    """Creates, lists and revokes enrolment tokens."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def create(self, tenant: str, site: str, uses: int, ttl: timedelta) -> IssuedToken:
        """Create a token for ``tenant``/``site`` (created on first use)."""
        if not 1 <= uses <= MAX_USES:
            raise InvalidArgument(f"uses must be between 1 and {MAX_USES}")
        if not timedelta(0) < ttl <= MAX_TTL:
            raise InvalidArgument("token lifetime must be positive and at most 10 years")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock()
        expires_at = now + ttl
        async with self._sessions.begin() as session:
            await begin_write(session)
            tenant_id, site_id = await ensure_site_in(session, tenant, site, now)
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
            token_id = row.id
        return IssuedToken(
            token_id=token_id,
            secret=secret,
            tenant=tenant,
            site=site,
            uses_allowed=uses,
            expires_at=expires_at,
        )

    async def revoke(self, token_id: int) -> None:
        """Revoke a token; revoking it again changes nothing."""
        async with self._sessions.begin() as session:
            await begin_write(session)
            exists = await session.scalar(
                select(EnrollmentTokenRow.id).where(EnrollmentTokenRow.id == token_id)
            )
            if exists is None:
                raise NotFound(f"enrolment token {token_id} does not exist")
            await session.execute(
                update(EnrollmentTokenRow)
                .where(EnrollmentTokenRow.id == token_id, EnrollmentTokenRow.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )

    async def list(self) -> list[TokenInfo]:
        """Every token, oldest first."""
        query = (
            select(EnrollmentTokenRow, TenantRow.name, SiteRow.name)
            .join(TenantRow, TenantRow.id == EnrollmentTokenRow.tenant_id)
            .join(SiteRow, SiteRow.id == EnrollmentTokenRow.site_id)
            .order_by(EnrollmentTokenRow.id)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            TokenInfo(
                token_id=token.id,
                tenant=tenant,
                site=site,
                uses_allowed=token.uses_allowed,
                uses_count=token.uses_count,
                expires_at=token.expires_at,
                revoked_at=token.revoked_at,
                created_at=token.created_at,
            )
            for token, tenant, site in rows
        ]
