"""``/users`` and ``/users/{username}``: accounts, roles, tenant grants (admins).

A new user's one-time password is shown once, on the page answering its creation
(``no-store``); the user changes it at first sign-in (and an admin enrols TOTP then).
At least one enabled admin always remains (the service refuses otherwise).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from server.services import access
from server.services.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from server.services.records import NewUser, Principal, UserInfo
from server.web.auth import Context, Csrf, PagePrincipal, client_address
from server.web.context import WebContext
from server.web.templating import NO_STORE, render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "role": "Role changed.",
    "tenants": "Tenants saved.",
    "disabled": "User disabled: signed out everywhere, API tokens revoked.",
    "enabled": "User enabled.",
    "totp-reset": "Two-factor sign-in reset: the user sets it up again at next sign-in.",
    "signed-out": "User signed out everywhere.",
}
FormText = Annotated[str, Form(max_length=200)]
FormList = Annotated[list[str] | None, Form()]


async def tenant_names(ctx: WebContext) -> dict[int, str]:
    return {tenant.id: tenant.name for tenant in await ctx.tenancy.list_tenants()}


async def _users_page(
    request: Request,
    ctx: WebContext,
    principal: Principal,
    *,
    created: NewUser | None = None,
    error: str = "",
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    ctx.access.require(principal, access.USERS_READ)
    users = await ctx.accounts.list_users()
    response = render(
        request,
        "users.html",
        {
            "users": users,
            "tenant_names": await tenant_names(ctx),
            "last_sign_ins": await ctx.accounts.last_sign_ins(),
            "roles": access.ROLES,
            "can_write": ctx.access.can(principal, access.USERS_WRITE),
            "created": created,
            "error": error,
            "form": form or {"username": "", "role": access.TECHNICIAN, "tenants": []},
        },
        status_code=status_code,
    )
    if created is not None:
        response.headers.update(NO_STORE)
    return response


@router.get("/users")
async def users(request: Request, ctx: Context, principal: PagePrincipal) -> Response:
    return await _users_page(request, ctx, principal)


@router.post("/users", dependencies=[Csrf])
async def create_user(
    request: Request,
    ctx: Context,
    principal: PagePrincipal,
    username: FormText = "",
    role: FormText = "",
    tenants: FormList = None,
) -> Response:
    ctx.access.require(principal, access.USERS_WRITE)
    chosen = [t for t in tenants or [] if t]
    try:
        created = await ctx.accounts.create_user(
            username,
            role,
            actor=principal.actor,
            tenants=chosen,
            address=client_address(request),
        )
    except (InvalidArgument, NotFound, AlreadyExists) as exc:
        form = {"username": username, "role": role, "tenants": chosen}
        status = 409 if isinstance(exc, AlreadyExists) else 400
        return await _users_page(
            request, ctx, principal, error=str(exc), form=form, status_code=status
        )
    return await _users_page(request, ctx, principal, created=created)


async def _user_page(
    request: Request,
    ctx: WebContext,
    principal: Principal,
    user: UserInfo,
    *,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> Response:
    tokens = await ctx.accounts.list_api_tokens(user.id)
    names = await tenant_names(ctx)
    return render(
        request,
        "user.html",
        {
            "target": user,
            "tenant_names": names,
            "chosen_tenants": [names[t] for t in sorted(user.tenant_ids) if t in names],
            "last_sign_in": (await ctx.accounts.last_sign_ins()).get(user.id),
            "tokens": tokens,
            "now": ctx.clock(),
            "roles": access.ROLES,
            "can_write": ctx.access.can(principal, access.USERS_WRITE),
            "notice": NOTICES.get(notice, ""),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/users/{username}")
async def user(
    request: Request, ctx: Context, principal: PagePrincipal, username: str, notice: str = ""
) -> Response:
    ctx.access.require(principal, access.USERS_READ)
    found = await ctx.accounts.get_user(username)
    return await _user_page(request, ctx, principal, found, notice=notice)


async def _change(
    request: Request,
    ctx: WebContext,
    principal: Principal,
    username: str,
    notice: str,
    **change: Any,
) -> Response:
    """Apply one change through ``update_user``; a refusal re-shows the page with why."""
    ctx.access.require(principal, access.USERS_WRITE)
    target = await ctx.accounts.get_user(username)
    try:
        await ctx.accounts.update_user(
            target.username, actor=principal.actor, address=client_address(request), **change
        )
    except (InvalidArgument, NotFound, FailedPrecondition) as exc:
        status = 409 if isinstance(exc, FailedPrecondition) else 400
        return await _user_page(request, ctx, principal, target, error=str(exc), status_code=status)
    return _back(target.username, notice)


def _back(username: str, notice: str) -> Response:
    return RedirectResponse(f"/users/{username}?notice={notice}", status_code=303)


@router.post("/users/{username}/role", dependencies=[Csrf])
async def change_role(
    request: Request, ctx: Context, principal: PagePrincipal, username: str, role: FormText = ""
) -> Response:
    return await _change(request, ctx, principal, username, "role", role=role)


@router.post("/users/{username}/tenants", dependencies=[Csrf])
async def change_tenants(
    request: Request,
    ctx: Context,
    principal: PagePrincipal,
    username: str,
    tenants: FormList = None,
) -> Response:
    chosen = [t for t in tenants or [] if t]
    return await _change(request, ctx, principal, username, "tenants", tenants=chosen)


@router.post("/users/{username}/disable", dependencies=[Csrf])
async def disable(
    request: Request, ctx: Context, principal: PagePrincipal, username: str
) -> Response:
    return await _change(request, ctx, principal, username, "disabled", enabled=False)


@router.post("/users/{username}/enable", dependencies=[Csrf])
async def enable(
    request: Request, ctx: Context, principal: PagePrincipal, username: str
) -> Response:
    return await _change(request, ctx, principal, username, "enabled", enabled=True)


@router.post("/users/{username}/reset-totp", dependencies=[Csrf])
async def reset_totp(
    request: Request, ctx: Context, principal: PagePrincipal, username: str
) -> Response:
    ctx.access.require(principal, access.USERS_WRITE)
    target = await ctx.accounts.reset_totp(
        username, actor=principal.actor, address=client_address(request)
    )
    return _back(target.username, "totp-reset")


@router.post("/users/{username}/sign-out", dependencies=[Csrf])
async def sign_out_everywhere(
    request: Request, ctx: Context, principal: PagePrincipal, username: str
) -> Response:
    ctx.access.require(principal, access.USERS_WRITE)
    target = await ctx.accounts.get_user(username)
    await ctx.accounts.logout_everywhere(
        target.id, actor=principal.actor, address=client_address(request)
    )
    return _back(target.username, "signed-out")
