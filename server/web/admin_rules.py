"""Rules the administration pages and API share: whose API tokens a caller may see, which
scopes a new token may hold, and how an audit-log query is read.

- A user sees and revokes their own API tokens; an admin (``users:read`` / ``users:write``)
  everyone's. Anyone else's token answers "not found", like a missing one.
- A new token holds only scopes the role allows; one made with an API token, only scopes
  that token has, and it cannot outlive it: a token never mints a stronger or longer one.
- A technician reads only the audit records of their tenants; an admin reads them all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from server.services import access
from server.services.accounts import normalise_username
from server.services.audit import AuditFilter
from server.services.errors import InvalidArgument, NotFound, PermissionDenied
from server.services.records import ApiTokenInfo, Principal
from server.web.context import WebContext

TOKEN_EXPIRY_DAYS = (7, 30, 90, 365)
DEFAULT_TOKEN_EXPIRY_DAYS = 90
MAX_TOKEN_EXPIRY_DAYS = 3650
AUDIT_PAGE = 50
_ACTOR_REFERENCE = re.compile(r"(user|api-token):\d+|cli|anonymous")
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def token_state(token: ApiTokenInfo, now: datetime) -> str:
    """``revoked``, ``expired`` or ``active``."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def allowed_scopes(principal: Principal) -> tuple[str, ...]:
    """The scopes ``principal`` may put on a new API token, sorted."""
    scopes = access.ROLE_ACTIONS.get(principal.user.role, frozenset())
    if principal.scopes is not None:
        scopes = scopes & principal.scopes
    return tuple(sorted(scopes))


async def check_new_token(
    ctx: WebContext, principal: Principal, scopes: set[str], ttl: timedelta
) -> None:
    """Refuse (PermissionDenied) scopes the caller may not hand out: beyond the role, or, for a
    caller using an API token, beyond that token's scopes or past its expiry."""
    beyond = scopes - set(allowed_scopes(principal))
    if beyond & access.SCOPES:
        raise PermissionDenied(
            f"you cannot give a token scope(s) you do not hold: {', '.join(sorted(beyond))}"
        )
    if principal.via == "api-token":
        caller = await ctx.accounts.get_api_token(int(principal.credential_id))
        if caller.expires_at is not None and ctx.clock() + ttl > caller.expires_at:
            raise PermissionDenied("a token cannot create a token that outlives it")


def token_lifetime(days: int) -> timedelta:
    if not 1 <= days <= MAX_TOKEN_EXPIRY_DAYS:
        raise InvalidArgument(f"expiry must be from 1 to {MAX_TOKEN_EXPIRY_DAYS} days")
    return timedelta(days=days)


async def visible_api_token(ctx: WebContext, principal: Principal, token_id: int) -> ApiTokenInfo:
    """The token if it is the caller's, or the caller administers users; else NotFound."""
    token = await ctx.accounts.get_api_token(token_id)
    if token.user_id != principal.user.id and not ctx.access.can(principal, access.USERS_READ):
        raise NotFound(f"API token {token_id} does not exist")
    return token


async def revocable_api_token(ctx: WebContext, principal: Principal, token_id: int) -> ApiTokenInfo:
    """The token if the caller may revoke it (their own, or any for ``users:write``)."""
    token = await visible_api_token(ctx, principal, token_id)
    if token.user_id != principal.user.id:
        ctx.access.require(principal, access.USERS_WRITE)
    return token


def parse_time(label: str, text: str) -> datetime | None:
    """A time typed in a filter (UTC): ``2026-03-01``, ``2026-03-01T09:30`` or an ISO time
    with an offset. Empty: None."""
    text = text.strip()
    if not text:
        return None
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(
            f"{label}: cannot read {text[:40]!r} as a time (use e.g. 2026-03-01T09:30)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def audit_filter(
    ctx: WebContext,
    principal: Principal,
    *,
    actor: str = "",
    action: str = "",
    target_type: str = "",
    target_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = AUDIT_PAGE,
) -> AuditFilter:
    """What the caller asked for, narrowed to what they may read (raises PermissionDenied,
    InvalidArgument). ``actor`` is a reference (``user:3``, ``cli``) or a username."""
    ctx.access.require(principal, access.AUDIT_READ)
    actor = actor.strip()
    reference = actor if _ACTOR_REFERENCE.fullmatch(actor) else None
    name = normalise_username(actor) if actor and reference is None else None
    return AuditFilter(
        actor=reference,
        actor_name=name,
        action=action.strip() or None,
        target_type=target_type.strip() or None,
        target_id=target_id.strip() or None,
        tenant_ids=ctx.access.visible_tenants(principal),
        since=_utc(since),
        until=_utc(until),
        limit=limit,
        before_id=before_id,
    )
