"""Tenants and sites, enrolment tokens, "Add devices", and the collector's CA certificate.

A token's secret is shown once: on the page that answers its creation (``no-store``), never
on /tokens afterwards. Another tenant's token or tenant answers 404, like a missing one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from server.services import access
from server.services.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from server.services.records import IssuedToken, Principal, SiteSummary, TokenInfo
from server.services.tokens import parse_duration
from server.web.auth import Context, Csrf, PagePrincipal, client_address
from server.web.context import WebContext
from server.web.enrol_commands import CA_FILE, enrol_command, install_commands, public_address
from server.web.ids import RowId, parse_row_id
from server.web.templating import NO_STORE, render

router = APIRouter(include_in_schema=False)

NAME_MAX = 64
MAX_USES = 100_000
DEFAULT_EXPIRY = "24h"
EXPIRY_CHOICES = ("1h", "24h", "7d", "30d")
NOTICES = {
    "tenant-created": "Tenant created.",
    "site-created": "Site created.",
    "token-revoked": "Token revoked.",
}

# A form field that may be anything: checked here so a bad value re-shows the form.
FormText = Annotated[str, Form(max_length=1000)]


def check_name(kind: str, name: str) -> str:
    """The web's limit on tenant and site names (the store allows longer ones)."""
    if len(name) > NAME_MAX:
        raise InvalidArgument(f"{kind} name must be at most {NAME_MAX} characters")
    return name


def parse_uses(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_USES:
        raise InvalidArgument(f"uses must be a whole number from 1 to {MAX_USES}")
    return int(text)


def parse_id(kind: str, text: str) -> int:
    value = parse_row_id(text)
    if value is None:
        raise InvalidArgument(f"choose a {kind}")
    return value


def sees_tenant(ctx: WebContext, principal: Principal, tenant_id: int) -> bool:
    """Whether ``tenant_id`` is one of the tenants ``principal`` may see at all."""
    visible = ctx.access.visible_tenants(principal)
    return visible is None or tenant_id in visible


async def visible_token(ctx: WebContext, principal: Principal, token_id: int) -> TokenInfo:
    """The token, or NotFound when it does not exist or belongs to a tenant not visible."""
    token = await ctx.tokens.get(token_id)
    if not sees_tenant(ctx, principal, token.tenant_id):
        raise NotFound(f"enrolment token {token_id} does not exist")
    return token


async def writable_site(ctx: WebContext, principal: Principal, site_id: int) -> SiteSummary:
    """The site, if ``principal`` may create tokens for it (NotFound when not visible)."""
    site = await ctx.tenancy.get_site(site_id)
    if not sees_tenant(ctx, principal, site.tenant_id):
        raise NotFound(f"site {site_id} does not exist")
    ctx.access.require(principal, access.TOKENS_WRITE, site.tenant_id)
    return site


async def token_sites(ctx: WebContext, principal: Principal) -> list[SiteSummary]:
    """The sites ``principal`` may create tokens for."""
    sites = await ctx.tenancy.list_sites(ctx.access.visible_tenants(principal))
    return [s for s in sites if ctx.access.can(principal, access.TOKENS_WRITE, s.tenant_id)]


def token_form(
    sites: list[SiteSummary], *, site_id: str = "", uses: str = "1", expires: str = ""
) -> dict[str, Any]:
    return {
        "sites": sites,
        "form": {"site_id": site_id, "uses": uses, "expires": expires or DEFAULT_EXPIRY},
        "expiry_choices": EXPIRY_CHOICES,
        "max_uses": MAX_USES,
    }


async def issue_token(
    request: Request,
    ctx: WebContext,
    principal: Principal,
    site_id: str,
    uses: str,
    expires: str,
) -> IssuedToken:
    """Check the form, then create the token (raises InvalidArgument, NotFound, …)."""
    site = await writable_site(ctx, principal, parse_id("site", site_id))
    ttl = parse_duration(expires)
    return await ctx.tokens.create_for_site(
        site.id,
        parse_uses(uses),
        ttl,
        actor=principal.actor,
        address=client_address(request),
    )


def issued_values(request: Request, ctx: WebContext, issued: IssuedToken) -> dict[str, Any]:
    settings = ctx.settings
    host = request.url.hostname or ""
    return {
        "issued": issued,
        "enrol_command": enrol_command(
            settings.agent_address, settings.enroll_address, issued.secret, host
        ),
        "install_commands": install_commands(issued.secret),
        "ca_file": CA_FILE,
        "bundle_formats": BUNDLE_FORMATS,
    }


# --- tenants and sites ------------------------------------------------------------------------


async def _tenants_page(
    request: Request,
    ctx: WebContext,
    principal: Principal,
    *,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    ctx.access.require(principal, access.TENANTS_READ)
    tenants = await ctx.tenancy.overview(ctx.access.visible_tenants(principal))
    return render(
        request,
        "tenants.html",
        {
            "tenants": tenants,
            "can_write": ctx.access.can(principal, access.TENANTS_WRITE),
            "notice": NOTICES.get(notice, ""),
            "error": error,
            "name_max": NAME_MAX,
        },
        status_code=status_code,
    )


@router.get("/tenants")
async def tenants(
    request: Request, ctx: Context, principal: PagePrincipal, notice: str = ""
) -> Response:
    return await _tenants_page(request, ctx, principal, notice=notice)


@router.post("/tenants", dependencies=[Csrf])
async def create_tenant(
    request: Request, ctx: Context, principal: PagePrincipal, name: FormText = ""
) -> Response:
    ctx.access.require(principal, access.TENANTS_WRITE)
    try:
        await ctx.tenancy.create_tenant(
            check_name("tenant", name), actor=principal.actor, address=client_address(request)
        )
    except (InvalidArgument, AlreadyExists) as exc:
        status = 409 if isinstance(exc, AlreadyExists) else 400
        return await _tenants_page(request, ctx, principal, error=str(exc), status_code=status)
    return RedirectResponse("/tenants?notice=tenant-created", status_code=303)


@router.post("/tenants/{tenant_id}/sites", dependencies=[Csrf])
async def create_site(
    request: Request, ctx: Context, principal: PagePrincipal, tenant_id: RowId, name: FormText = ""
) -> Response:
    if not sees_tenant(ctx, principal, tenant_id):
        raise NotFound(f"tenant {tenant_id} does not exist")
    ctx.access.require(principal, access.TENANTS_WRITE, tenant_id)
    try:
        await ctx.tenancy.add_site(
            tenant_id,
            check_name("site", name),
            actor=principal.actor,
            address=client_address(request),
        )
    except (InvalidArgument, AlreadyExists) as exc:
        status = 409 if isinstance(exc, AlreadyExists) else 400
        return await _tenants_page(request, ctx, principal, error=str(exc), status_code=status)
    return RedirectResponse("/tenants?notice=site-created", status_code=303)


# --- enrolment tokens -------------------------------------------------------------------------


async def _tokens_page(
    request: Request,
    ctx: WebContext,
    principal: Principal,
    *,
    notice: str = "",
    error: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx.access.require(principal, access.TOKENS_READ)
    tokens = await ctx.tokens.list(ctx.access.visible_tenants(principal))
    values: dict[str, Any] = {
        "tokens": tokens,
        "can_write": ctx.access.can(principal, access.TOKENS_WRITE),
        "notice": NOTICES.get(notice, ""),
        "error": error,
        "writable": {
            t.token_id
            for t in tokens
            if ctx.access.can(principal, access.TOKENS_WRITE, t.tenant_id)
        },
    }
    values.update(token_form(await token_sites(ctx, principal), **(form or {})))
    return render(request, "tokens.html", values, status_code=status_code)


@router.get("/tokens")
async def tokens(
    request: Request, ctx: Context, principal: PagePrincipal, notice: str = ""
) -> Response:
    return await _tokens_page(request, ctx, principal, notice=notice)


@router.post("/tokens", dependencies=[Csrf])
async def create_token(
    request: Request,
    ctx: Context,
    principal: PagePrincipal,
    site_id: FormText = "",
    uses: FormText = "1",
    expires: FormText = DEFAULT_EXPIRY,
) -> Response:
    ctx.access.require(principal, access.TOKENS_WRITE)
    try:
        issued = await issue_token(request, ctx, principal, site_id, uses, expires)
    except InvalidArgument as exc:
        form = {"site_id": site_id, "uses": uses, "expires": expires}
        return await _tokens_page(
            request, ctx, principal, error=str(exc), form=form, status_code=400
        )
    response = render(request, "tokens.html", _created_values(request, ctx, issued))
    response.headers.update(NO_STORE)
    return response


def _created_values(request: Request, ctx: WebContext, issued: IssuedToken) -> dict[str, Any]:
    values = issued_values(request, ctx, issued)
    values.update({"tokens": [], "can_write": False, "notice": "", "error": "", "writable": set()})
    values.update(token_form([]))
    return values


@router.post("/tokens/{token_id}/revoke", dependencies=[Csrf])
async def revoke_token(
    request: Request, ctx: Context, principal: PagePrincipal, token_id: RowId
) -> Response:
    token = await visible_token(ctx, principal, token_id)
    ctx.access.require(principal, access.TOKENS_WRITE, token.tenant_id)
    await ctx.tokens.revoke(token.token_id, actor=principal.actor, address=client_address(request))
    return RedirectResponse("/tokens?notice=token-revoked", status_code=303)


# --- add devices ------------------------------------------------------------------------------


@router.get("/devices/add")
async def add_devices(request: Request, ctx: Context, principal: PagePrincipal) -> Response:
    ctx.access.require(principal, access.TOKENS_WRITE)
    values = token_form(await token_sites(ctx, principal))
    values["error"] = ""
    return render(request, "add_devices.html", values)


@router.post("/devices/add", dependencies=[Csrf])
async def add_devices_token(
    request: Request,
    ctx: Context,
    principal: PagePrincipal,
    site_id: FormText = "",
    uses: FormText = "1",
    expires: FormText = DEFAULT_EXPIRY,
) -> Response:
    ctx.access.require(principal, access.TOKENS_WRITE)
    try:
        issued = await issue_token(request, ctx, principal, site_id, uses, expires)
    except InvalidArgument as exc:
        values = token_form(
            await token_sites(ctx, principal), site_id=site_id, uses=uses, expires=expires
        )
        values["error"] = str(exc)
        return render(request, "add_devices.html", values, status_code=400)
    values = issued_values(request, ctx, issued)
    values.update(token_form([]))
    values["error"] = ""
    response = render(request, "add_devices.html", values)
    response.headers.update(NO_STORE)
    return response


# --- agent bundles ----------------------------------------------------------------------------

BUNDLE_FORMATS = {
    "deb": "Debian/Ubuntu (.deb)",
    "tar": "Linux (.tar.gz)",
    "windows": "Windows (.zip)",
    "macos": "macOS, Apple silicon (.tar.gz)",
}
BUNDLE_CACHE = "installer-bundles"


@router.get("/devices/add/bundle")
async def download_bundle(
    request: Request, ctx: Context, principal: PagePrincipal, format: str = ""
) -> Response:
    """An agent bundle for this collector, built (once) by the installer; never with a token.

    A token's secret is shown once, when it is created: the bundle carries the collector's
    address and CA only, and the install commands on the page pass the token at install time.
    """
    ctx.access.require(principal, access.TOKENS_WRITE)
    if format not in BUNDLE_FORMATS:
        raise InvalidArgument(f"format must be one of {', '.join(BUNDLE_FORMATS)}")
    settings = ctx.settings
    host = request.url.hostname or ""
    agent = public_address(settings.agent_address, host)
    enroll = public_address(settings.enroll_address, host)
    if agent is None or enroll is None or not settings.ca_certificate_pem or not settings.data_dir:
        raise NotFound("this collector has no address or CA certificate to build bundles for")

    from installer.bundle_cache import cached_bundle
    from installer.errors import InstallerError

    try:
        path = await asyncio.to_thread(
            cached_bundle,
            Path(settings.data_dir) / BUNDLE_CACHE,
            format,
            str(agent),
            str(enroll),
            settings.ca_certificate_pem.encode(),
        )
    except InstallerError as exc:
        raise FailedPrecondition(f"the {format} bundle cannot be built here: {exc}") from None
    await ctx.audit.record(
        principal.actor,
        "bundle.download",
        "bundle",
        format,
        details={"file": path.name, "server": str(agent)},
        address=client_address(request),
    )
    return FileResponse(path, filename=path.name, media_type="application/octet-stream")


# --- the CA certificate -----------------------------------------------------------------------


@router.get("/ca.crt")
async def ca_certificate(ctx: Context) -> Response:
    """Public: agents need it to trust the collector, and it holds no secret."""
    pem = ctx.settings.ca_certificate_pem
    if not pem:
        raise NotFound("this collector has no CA certificate to offer")
    return Response(
        pem,
        media_type="application/x-pem-file",
        headers={"Content-Disposition": f'attachment; filename="{CA_FILE}"'},
    )
