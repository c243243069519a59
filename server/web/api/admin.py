"""``/api/v1``: users, API tokens and the audit log, with the same checks as the pages.

A created user's one-time password and a created token's secret are in the answer to the
POST only (``no-store``); nothing else ever carries them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.services import access
from server.services.records import ApiTokenInfo, UserInfo
from server.web.admin_rules import (
    DEFAULT_TOKEN_EXPIRY_DAYS,
    MAX_TOKEN_EXPIRY_DAYS,
    audit_filter,
    check_new_token,
    revocable_api_token,
    token_lifetime,
    token_state,
    visible_api_token,
)
from server.web.api.v1 import ERROR_RESPONSES, NO_STORE
from server.web.auth import ApiPrincipal, Context, client_address
from server.web.context import WebContext
from server.web.ids import RowId

NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"description": "no such object"}}
CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"description": "taken, or it would leave no enabled admin"}
}
BAD_INPUT: dict[int | str, dict[str, object]] = {
    400: {"description": "bad input (a malformed username, an unprintable name)"}
}

router = APIRouter(prefix="/api/v1", responses={**ERROR_RESPONSES, **BAD_INPUT})

Role = Literal["admin", "technician", "read-only"]
TenantName = Annotated[str, Field(min_length=1, max_length=200)]
MAX_ID = 2**63 - 1  # audit ids are 64-bit
Username = Annotated[str, Path(min_length=1, max_length=200)]


# --- models ----------------------------------------------------------------------------------


class UserOut(BaseModel):
    """A user; never a password or TOTP secret. ``tenants``: the tenants granted (an admin
    sees every tenant whatever they are)."""

    username: str
    role: str
    tenants: list[str]
    enabled: bool
    totp_enabled: bool
    must_change_password: bool
    created_at: datetime
    disabled_at: datetime | None
    locked_until: datetime | None
    last_sign_in: datetime | None

    @classmethod
    def of(cls, user: UserInfo, names: dict[int, str], last_sign_in: datetime | None) -> UserOut:
        return cls(
            username=user.username,
            role=user.role,
            tenants=sorted(names[t] for t in user.tenant_ids if t in names),
            enabled=user.disabled_at is None,
            totp_enabled=user.totp_enabled,
            must_change_password=user.must_change_password,
            created_at=user.created_at,
            disabled_at=user.disabled_at,
            locked_until=user.locked_until,
            last_sign_in=last_sign_in,
        )


class UserIn(BaseModel):
    """A new user; a one-time password is made for them."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    role: Role
    tenants: list[TenantName] = Field(default_factory=list, max_length=1000)


class CreatedUserOut(BaseModel):
    """A user just created: ``one_time_password`` is given here once; they change it at
    first sign-in (and an admin sets up TOTP then)."""

    user: UserOut
    one_time_password: str


class UserPatch(BaseModel):
    """Changes to a user; a field left out is unchanged. ``tenants`` replaces the grants."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    enabled: bool | None = None
    tenants: list[TenantName] | None = Field(default=None, max_length=1000)


class SignedOutOut(BaseModel):
    """How many sessions were ended."""

    sessions: int


class ApiTokenOut(BaseModel):
    """An API token, never its secret. ``state``: active, expired or revoked."""

    id: int
    name: str
    username: str
    scopes: list[str]
    state: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiTokenInfo, owners: dict[int, str], now: datetime) -> ApiTokenOut:
        return cls(
            id=token.token_id,
            name=token.name,
            username=owners.get(token.user_id, ""),
            scopes=list(token.scopes),
            state=token_state(token, now),
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
        )


class ApiTokenIn(BaseModel):
    """A new token for the caller: its scopes (within the caller's) and lifetime in days."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    scopes: list[str] = Field(min_length=1, max_length=len(access.SCOPES))
    expires_in_days: int = Field(default=DEFAULT_TOKEN_EXPIRY_DAYS, ge=1, le=MAX_TOKEN_EXPIRY_DAYS)

    @field_validator("scopes")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - access.SCOPES)
        if unknown:
            raise ValueError(f"unknown scope(s): {', '.join(unknown)}")
        return value


class IssuedApiTokenOut(BaseModel):
    """A token just created: ``secret`` is given here once and can never be read again."""

    id: int
    name: str
    scopes: list[str]
    expires_at: datetime | None
    secret: str


class AuditOut(BaseModel):
    """One audit record: who (``actor`` reference and ``actor_name``), what, to what, when,
    from where. ``details`` never holds secrets."""

    model_config = ConfigDict(from_attributes=True)  # read from an AuditEvent

    id: int
    time: datetime
    actor: str
    actor_name: str
    action: str
    target_type: str
    target_id: str
    tenant_id: int | None
    address: str
    details: dict[str, object]


class AuditPage(BaseModel):
    """Records newest first; pass ``next_before_id`` as ``before_id`` for the next page."""

    events: list[AuditOut]
    next_before_id: int | None


# --- users -----------------------------------------------------------------------------------


async def _user_out(ctx: WebContext, user: UserInfo) -> UserOut:
    names = {t.id: t.name for t in await ctx.tenancy.list_tenants()}
    return UserOut.of(user, names, (await ctx.accounts.last_sign_ins()).get(user.id))


@router.get("/users", tags=["users"])
async def list_users(ctx: Context, principal: ApiPrincipal) -> list[UserOut]:
    """Every user, by username (admins)."""
    ctx.access.require(principal, access.USERS_READ)
    names = {t.id: t.name for t in await ctx.tenancy.list_tenants()}
    seen = await ctx.accounts.last_sign_ins()
    return [UserOut.of(u, names, seen.get(u.id)) for u in await ctx.accounts.list_users()]


@router.post("/users", tags=["users"], status_code=201, responses={**NOT_FOUND, **CONFLICT})
async def create_user(
    request: Request, response: Response, body: UserIn, ctx: Context, principal: ApiPrincipal
) -> CreatedUserOut:
    """Create a user with a one-time password (in this answer only)."""
    ctx.access.require(principal, access.USERS_WRITE)
    created = await ctx.accounts.create_user(
        body.username,
        body.role,
        actor=principal.actor,
        tenants=body.tenants,
        address=client_address(request),
    )
    response.headers["Cache-Control"] = NO_STORE
    assert created.password is not None  # generated: none was given
    return CreatedUserOut(
        user=await _user_out(ctx, created.user), one_time_password=created.password
    )


@router.get("/users/{username}", tags=["users"], responses=NOT_FOUND)
async def get_user(username: Username, ctx: Context, principal: ApiPrincipal) -> UserOut:
    """One user (admins)."""
    ctx.access.require(principal, access.USERS_READ)
    return await _user_out(ctx, await ctx.accounts.get_user(username))


@router.patch("/users/{username}", tags=["users"], responses={**NOT_FOUND, **CONFLICT})
async def update_user(
    request: Request, username: Username, body: UserPatch, ctx: Context, principal: ApiPrincipal
) -> UserOut:
    """Change role, enabled state or tenants, all or nothing. Disabling signs the user out
    everywhere and revokes their API tokens; the last enabled admin stays one."""
    ctx.access.require(principal, access.USERS_WRITE)
    updated = await ctx.accounts.update_user(
        username,
        actor=principal.actor,
        role=body.role,
        enabled=body.enabled,
        tenants=body.tenants,
        address=client_address(request),
    )
    return await _user_out(ctx, updated)


@router.post("/users/{username}/reset-totp", tags=["users"], responses=NOT_FOUND)
async def reset_totp(
    request: Request, username: Username, ctx: Context, principal: ApiPrincipal
) -> UserOut:
    """Forget the user's TOTP (a lost phone) and sign them out; they enrol again."""
    ctx.access.require(principal, access.USERS_WRITE)
    user = await ctx.accounts.reset_totp(
        username, actor=principal.actor, address=client_address(request)
    )
    return await _user_out(ctx, user)


@router.post("/users/{username}/sign-out", tags=["users"], responses=NOT_FOUND)
async def sign_out(
    request: Request, username: Username, ctx: Context, principal: ApiPrincipal
) -> SignedOutOut:
    """End every session of the user."""
    ctx.access.require(principal, access.USERS_WRITE)
    user = await ctx.accounts.get_user(username)
    count = await ctx.accounts.logout_everywhere(
        user.id, actor=principal.actor, address=client_address(request)
    )
    return SignedOutOut(sessions=count)


# --- API tokens ------------------------------------------------------------------------------


async def _owners(ctx: WebContext) -> dict[int, str]:
    return {u.id: u.username for u in await ctx.accounts.list_users()}


@router.get("/api-tokens", tags=["api tokens"])
async def list_api_tokens(ctx: Context, principal: ApiPrincipal) -> list[ApiTokenOut]:
    """The caller's API tokens; an admin's answer holds everyone's. Oldest first."""
    everyone = ctx.access.can(principal, access.USERS_READ)
    tokens = await ctx.accounts.list_api_tokens(None if everyone else principal.user.id)
    owners, now = await _owners(ctx), ctx.clock()
    return [ApiTokenOut.of(token, owners, now) for token in tokens]


@router.get("/api-tokens/{token_id}", tags=["api tokens"], responses=NOT_FOUND)
async def get_api_token(token_id: RowId, ctx: Context, principal: ApiPrincipal) -> ApiTokenOut:
    """One API token (the caller's own, or any for an admin)."""
    token = await visible_api_token(ctx, principal, token_id)
    return ApiTokenOut.of(token, await _owners(ctx), ctx.clock())


@router.post("/api-tokens", tags=["api tokens"], status_code=201)
async def create_api_token(
    request: Request,
    response: Response,
    body: ApiTokenIn,
    ctx: Context,
    principal: ApiPrincipal,
) -> IssuedApiTokenOut:
    """Create a token acting as the caller within ``scopes``; its secret is in this answer
    only. With an API token, only its own scopes, and no longer than it lives."""
    ttl = token_lifetime(body.expires_in_days)
    await check_new_token(ctx, principal, set(body.scopes), ttl)
    issued = await ctx.accounts.create_api_token(
        principal.user.id,
        body.name,
        body.scopes,
        actor=principal.actor,
        ttl=ttl,
        address=client_address(request),
    )
    response.headers["Cache-Control"] = NO_STORE
    return IssuedApiTokenOut(
        id=issued.token_id,
        name=issued.name,
        scopes=list(issued.scopes),
        expires_at=issued.expires_at,
        secret=issued.secret,
    )


@router.delete("/api-tokens/{token_id}", tags=["api tokens"], responses=NOT_FOUND)
async def revoke_api_token(
    request: Request, token_id: RowId, ctx: Context, principal: ApiPrincipal
) -> ApiTokenOut:
    """Revoke a token (the caller's own, or any for an admin); revoking twice is harmless."""
    token = await revocable_api_token(ctx, principal, token_id)
    await ctx.accounts.revoke_api_token(
        token.token_id, actor=principal.actor, address=client_address(request)
    )
    return ApiTokenOut.of(
        await ctx.accounts.get_api_token(token_id), await _owners(ctx), ctx.clock()
    )


# --- the audit log ---------------------------------------------------------------------------

AuditText = Annotated[str, Query(max_length=100)]


@router.get("/audit", tags=["audit"])
async def list_audit(
    ctx: Context,
    principal: ApiPrincipal,
    actor: AuditText = "",
    action: AuditText = "",
    target_type: AuditText = "",
    target_id: AuditText = "",
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Audit records, newest first (a technician: those of their tenants). ``actor`` is a
    username or a reference (``user:3``, ``api-token:7``, ``cli``); times are ISO 8601,
    UTC when no offset is given."""
    where = audit_filter(
        ctx,
        principal,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        before_id=before_id,
        limit=limit,
    )
    events = await ctx.audit.list(where)
    more = len(events) == limit
    return AuditPage(
        events=[AuditOut.model_validate(event) for event in events],
        next_before_id=events[-1].id if more and events else None,
    )
