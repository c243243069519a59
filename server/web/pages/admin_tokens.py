"""``/account/api-tokens``: each user's API tokens for integrations (admins see everyone's).

A token acts as its user within its scopes (a subset of what the role allows). Its secret is
shown once, on the page answering its creation (``no-store``); only its hash is kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from server.services import access
from server.services.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from server.services.records import IssuedApiToken, Principal
from server.web.admin_rules import (
    DEFAULT_TOKEN_EXPIRY_DAYS,
    TOKEN_EXPIRY_DAYS,
    allowed_scopes,
    check_new_token,
    revocable_api_token,
    token_lifetime,
)
from server.web.auth import Context, Csrf, PagePrincipal, client_address
from server.web.context import WebContext
from server.web.ids import RowId
from server.web.templating import NO_STORE, render

router = APIRouter(include_in_schema=False)

NOTICES = {"revoked": "API token revoked."}


async def _tokens_page(
    request: Request,
    ctx: WebContext,
    principal: Principal,
    *,
    issued: IssuedApiToken | None = None,
    notice: str = "",
    error: str = "",
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    mine = await ctx.accounts.list_api_tokens(principal.user.id)
    values: dict[str, Any] = {
        "tokens": mine,
        "now": ctx.clock(),
        "revocable": {t.token_id for t in mine},
        "scopes": allowed_scopes(principal),
        "expiry_days": TOKEN_EXPIRY_DAYS,
        "issued": issued,
        "notice": NOTICES.get(notice, ""),
        "error": error,
        "form": form or {"name": "", "scopes": [], "days": str(DEFAULT_TOKEN_EXPIRY_DAYS)},
        "all_tokens": [],
        "owners": {},
    }
    if ctx.access.can(principal, access.USERS_READ):
        everyone = await ctx.accounts.list_api_tokens()
        values["all_tokens"] = [t for t in everyone if t.user_id != principal.user.id]
        values["owners"] = {u.id: u.username for u in await ctx.accounts.list_users()}
        if ctx.access.can(principal, access.USERS_WRITE):
            values["revocable"] |= {t.token_id for t in values["all_tokens"]}
    response = render(request, "api_tokens.html", values, status_code=status_code)
    if issued is not None:
        response.headers.update(NO_STORE)
    return response


@router.get("/account/api-tokens")
async def api_tokens(
    request: Request, ctx: Context, principal: PagePrincipal, notice: str = ""
) -> Response:
    return await _tokens_page(request, ctx, principal, notice=notice)


@router.post("/account/api-tokens", dependencies=[Csrf])
async def create_api_token(
    request: Request,
    ctx: Context,
    principal: PagePrincipal,
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    chosen = [scope for scope in scopes or [] if scope]
    try:
        if not days.strip().isdigit():
            raise InvalidArgument("choose how many days the token lasts")
        ttl = token_lifetime(int(days))
        await check_new_token(ctx, principal, set(chosen), ttl)
        issued = await ctx.accounts.create_api_token(
            principal.user.id,
            name.strip(),
            chosen,
            actor=principal.actor,
            ttl=ttl,
            address=client_address(request),
        )
    except (InvalidArgument, FailedPrecondition, PermissionDenied) as exc:
        form = {"name": name, "scopes": chosen, "days": days}
        return await _tokens_page(
            request, ctx, principal, error=str(exc), form=form, status_code=400
        )
    return await _tokens_page(request, ctx, principal, issued=issued)


@router.post("/account/api-tokens/{token_id}/revoke", dependencies=[Csrf])
async def revoke_api_token(
    request: Request,
    ctx: Context,
    principal: PagePrincipal,
    token_id: RowId,
) -> Response:
    token = await revocable_api_token(ctx, principal, token_id)
    await ctx.accounts.revoke_api_token(
        token.token_id, actor=principal.actor, address=client_address(request)
    )
    return RedirectResponse("/account/api-tokens?notice=revoked", status_code=303)
