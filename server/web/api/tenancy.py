"""``/api/v1/tenants`` and ``/api/v1/enrolment-tokens``: the same checks as the pages.

A created token's secret is in the answer to its POST only; listings never carry it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from server.services import access
from server.services.errors import InvalidArgument, NotFound
from server.services.records import IssuedToken
from server.services.tokens import parse_duration
from server.web.api.v1 import ERROR_RESPONSES, NO_STORE
from server.web.auth import ApiPrincipal, Context, client_address
from server.web.enrol_commands import enrol_command
from server.web.ids import RowId
from server.web.pages.tenancy import (
    MAX_USES,
    NAME_MAX,
    sees_tenant,
    visible_token,
    writable_site,
)

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"description": "no such object"}}
NAME_REFUSED: dict[int | str, dict[str, object]] = {
    400: {"description": "a name that is blank or not printable text"}
}
TAKEN: dict[int | str, dict[str, object]] = {409: {"description": "the name is taken"}}

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]


class SiteOut(BaseModel):
    """A site and how many enrolled (not revoked) devices it has."""

    model_config = ConfigDict(from_attributes=True)  # read from a SiteSummary

    id: int
    tenant_id: int
    tenant: str
    name: str
    device_count: int
    created_at: datetime


class TenantOut(BaseModel):
    """A tenant with its sites."""

    model_config = ConfigDict(from_attributes=True)  # read from a TenantSummary

    id: int
    name: str
    device_count: int
    created_at: datetime
    sites: list[SiteOut]


class NameIn(BaseModel):
    """A new tenant or site."""

    model_config = ConfigDict(extra="forbid")

    name: Name


class TokenOut(BaseModel):
    """An enrolment token, never its secret. ``state``: active, expired, used up, revoked."""

    model_config = ConfigDict(from_attributes=True)  # read from a TokenInfo

    id: int = Field(validation_alias="token_id")
    tenant_id: int
    tenant: str
    site_id: int
    site: str
    state: str
    uses_allowed: int
    uses_count: int
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime


class TokenIn(BaseModel):
    """A new token: for which site (and, if given, the tenant it must belong to), how many
    machines may enrol with it, and for how long (``90s``, ``30m``, ``24h``, ``7d``)."""

    model_config = ConfigDict(extra="forbid")

    site_id: RowId
    tenant_id: RowId | None = None
    uses: int = Field(default=1, ge=1, le=MAX_USES)
    expires: str = Field(default="24h", min_length=2, max_length=12)

    @field_validator("expires")
    @classmethod
    def _duration(cls, value: str) -> str:
        try:
            parse_duration(value)
        except InvalidArgument as exc:
            raise ValueError(str(exc)) from exc
        return value

    @property
    def ttl(self) -> timedelta:
        return parse_duration(self.expires)


class IssuedTokenOut(BaseModel):
    """A token just created: ``secret`` is given here once and can never be read again."""

    id: int
    tenant: str
    site: str
    uses_allowed: int
    expires_at: datetime
    secret: str
    enrol_command: str

    @classmethod
    def of(cls, issued: IssuedToken, command: str) -> IssuedTokenOut:
        return cls(
            id=issued.token_id,
            tenant=issued.tenant,
            site=issued.site,
            uses_allowed=issued.uses_allowed,
            expires_at=issued.expires_at,
            secret=issued.secret,
            enrol_command=command,
        )


# --- tenants and sites ------------------------------------------------------------------------


@router.get("/tenants", tags=["tenants"])
async def list_tenants(ctx: Context, principal: ApiPrincipal) -> list[TenantOut]:
    """The tenants the caller may see, with their sites and device counts."""
    ctx.access.require(principal, access.TENANTS_READ)
    tenants = await ctx.tenancy.overview(ctx.access.visible_tenants(principal))
    return [TenantOut.model_validate(tenant) for tenant in tenants]


@router.post("/tenants", tags=["tenants"], status_code=201, responses={**NAME_REFUSED, **TAKEN})
async def create_tenant(
    request: Request, body: NameIn, ctx: Context, principal: ApiPrincipal
) -> TenantOut:
    """Create a tenant (admins)."""
    ctx.access.require(principal, access.TENANTS_WRITE)
    tenant = await ctx.tenancy.create_tenant(
        body.name, actor=principal.actor, address=client_address(request)
    )
    [created] = await ctx.tenancy.overview(frozenset({tenant.id}))
    return TenantOut.model_validate(created)


async def _visible_tenant(ctx: Context, principal: ApiPrincipal, tenant_id: int) -> None:
    if not sees_tenant(ctx, principal, tenant_id):
        raise NotFound(f"tenant {tenant_id} does not exist")
    await ctx.tenancy.get_tenant(tenant_id)


@router.get("/tenants/{tenant_id}/sites", tags=["tenants"], responses=NOT_FOUND)
async def list_sites(tenant_id: RowId, ctx: Context, principal: ApiPrincipal) -> list[SiteOut]:
    """The sites of one tenant."""
    ctx.access.require(principal, access.TENANTS_READ)
    await _visible_tenant(ctx, principal, tenant_id)
    return [
        SiteOut.model_validate(site)
        for site in await ctx.tenancy.list_sites(frozenset({tenant_id}))
    ]


@router.post(
    "/tenants/{tenant_id}/sites",
    tags=["tenants"],
    status_code=201,
    responses={**NOT_FOUND, **NAME_REFUSED, **TAKEN},
)
async def create_site(
    request: Request, tenant_id: RowId, body: NameIn, ctx: Context, principal: ApiPrincipal
) -> SiteOut:
    """Add a site to a tenant (admins)."""
    await _visible_tenant(ctx, principal, tenant_id)
    ctx.access.require(principal, access.TENANTS_WRITE, tenant_id)
    site = await ctx.tenancy.add_site(
        tenant_id, body.name, actor=principal.actor, address=client_address(request)
    )
    return SiteOut.model_validate(await ctx.tenancy.get_site(site.id))


# --- enrolment tokens -------------------------------------------------------------------------


@router.get("/enrolment-tokens", tags=["enrolment"])
async def list_tokens(ctx: Context, principal: ApiPrincipal) -> list[TokenOut]:
    """Enrolment tokens of the tenants the caller may see, oldest first."""
    ctx.access.require(principal, access.TOKENS_READ)
    tokens = await ctx.tokens.list(ctx.access.visible_tenants(principal))
    return [TokenOut.model_validate(token) for token in tokens]


@router.get("/enrolment-tokens/{token_id}", tags=["enrolment"], responses=NOT_FOUND)
async def get_token(token_id: RowId, ctx: Context, principal: ApiPrincipal) -> TokenOut:
    """One enrolment token (never its secret)."""
    ctx.access.require(principal, access.TOKENS_READ)
    return TokenOut.model_validate(await visible_token(ctx, principal, token_id))


@router.post("/enrolment-tokens", tags=["enrolment"], status_code=201, responses=NOT_FOUND)
async def create_token(
    request: Request, response: Response, body: TokenIn, ctx: Context, principal: ApiPrincipal
) -> IssuedTokenOut:
    """Create a token; its secret is in this answer only."""
    ctx.access.require(principal, access.TOKENS_WRITE)
    site = await writable_site(ctx, principal, body.site_id)
    if body.tenant_id is not None and body.tenant_id != site.tenant_id:
        raise NotFound(f"site {body.site_id} does not exist in tenant {body.tenant_id}")
    issued = await ctx.tokens.create_for_site(
        site.id, body.uses, body.ttl, actor=principal.actor, address=client_address(request)
    )
    response.headers["Cache-Control"] = NO_STORE
    command = enrol_command(
        ctx.settings.agent_address,
        ctx.settings.enroll_address,
        issued.secret,
        request.url.hostname or "",
    )
    return IssuedTokenOut.of(issued, command)


@router.post("/enrolment-tokens/{token_id}/revoke", tags=["enrolment"], responses=NOT_FOUND)
async def revoke_token(
    request: Request, token_id: RowId, ctx: Context, principal: ApiPrincipal
) -> TokenOut:
    """Revoke a token: machines not yet enrolled with it are refused. Revoking twice is
    harmless."""
    token = await visible_token(ctx, principal, token_id)
    ctx.access.require(principal, access.TOKENS_WRITE, token.tenant_id)
    await ctx.tokens.revoke(token_id, actor=principal.actor, address=client_address(request))
    return TokenOut.model_validate(await ctx.tokens.get(token_id))
