"""Signing in and out, TOTP enrolment, changing one's password, logging out everywhere."""

from __future__ import annotations

import base64
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from server.services.errors import InvalidArgument, TotpRequired, Unauthenticated
from server.services.records import Principal
from server.web.auth import (
    Context,
    Csrf,
    PagePrincipal,
    any_session_principal,
    client_address,
    session_secret,
)
from server.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    cookie_name,
    new_login_csrf,
    tokens_match,
)
from server.web.templating import render

router = APIRouter(include_in_schema=False)

AnySession = Annotated[Principal, Depends(any_session_principal)]


def safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//host``, a scheme, or a backslash trick."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(
    request: Request,
    ctx: Context,
    *,
    error: str = "",
    username: str = "",
    ask_code: bool = False,
    next_path: str = "/",
    status_code: int = 200,
) -> Response:
    token = new_login_csrf()
    response = render(
        request,
        "login.html",
        {
            "error": error,
            "username": username,
            "ask_code": ask_code,
            "next": next_path,
            "login_csrf": token,
        },
        status_code=status_code,
    )
    response.set_cookie(
        cookie_name(LOGIN_CSRF_COOKIE, ctx.settings.secure_cookies),
        token,
        max_age=3600,
        path="/",
        secure=ctx.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/login")
async def login_form(request: Request, ctx: Context, next: str = "/") -> Response:
    return _login_page(request, ctx, next_path=safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    ctx: Context,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    next_path = safe_next(next)
    expected = request.cookies.get(cookie_name(LOGIN_CSRF_COOKIE, ctx.settings.secure_cookies))
    if expected is None or not tokens_match(expected, csrf_token):
        return _login_page(
            request,
            ctx,
            error="The sign-in form expired; please try again.",
            username=username,
            next_path=next_path,
            status_code=403,
        )
    try:
        issued = await ctx.accounts.sign_in(
            username,
            password,
            code or None,
            user_agent=request.headers.get("user-agent", ""),
            address=client_address(request),
        )
    except TotpRequired as exc:
        return _login_page(
            request, ctx, error=str(exc), username=username, ask_code=True, next_path=next_path
        )
    except Unauthenticated as exc:
        return _login_page(
            request,
            ctx,
            error=str(exc),
            username=username,
            ask_code=bool(code),
            next_path=next_path,
            status_code=401,
        )
    if issued.totp_pending:
        target = "/account/totp"
    elif issued.user.must_change_password:
        target = "/account/password"
    else:
        target = next_path
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        cookie_name(SESSION_COOKIE, ctx.settings.secure_cookies),
        issued.token,
        path="/",
        secure=ctx.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    response.delete_cookie(
        cookie_name(LOGIN_CSRF_COOKIE, ctx.settings.secure_cookies),
        path="/",
        secure=ctx.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response


def _signed_out(ctx: Context) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        cookie_name(SESSION_COOKIE, ctx.settings.secure_cookies),
        path="/",
        secure=ctx.settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/logout", dependencies=[Csrf])
async def logout(request: Request, ctx: Context, principal: AnySession) -> Response:
    secret = session_secret(request, ctx)
    if secret:
        await ctx.accounts.logout(secret, address=client_address(request))
    return _signed_out(ctx)


@router.post("/account/logout-everywhere", dependencies=[Csrf])
async def logout_everywhere(request: Request, ctx: Context, principal: AnySession) -> Response:
    await ctx.accounts.logout_everywhere(
        principal.user.id, actor=principal.actor, address=client_address(request)
    )
    return _signed_out(ctx)


def qr_data_uri(text: str) -> str:
    """A QR code of ``text`` as an SVG data URI (no external service ever sees the secret)."""
    svg = segno.make(text, error="m").svg_inline(scale=5, border=2, dark="#111", light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@router.get("/account/totp")
async def totp_form(request: Request, ctx: Context, principal: AnySession) -> Response:
    if principal.user.totp_enabled:
        return render(request, "totp_setup.html", {"enabled": True, "error": ""})
    enrolment = await ctx.accounts.begin_totp_enrolment(
        principal.user.id, address=client_address(request)
    )
    return render(
        request,
        "totp_setup.html",
        {
            "enabled": False,
            "secret": enrolment.secret,
            "qr": qr_data_uri(enrolment.uri),
            "error": "",
        },
    )


@router.post("/account/totp", dependencies=[Csrf])
async def totp_confirm(
    request: Request,
    ctx: Context,
    principal: AnySession,
    code: Annotated[str, Form(max_length=16)],
) -> Response:
    try:
        await ctx.accounts.confirm_totp_enrolment(
            principal.user.id,
            code,
            session_token=session_secret(request, ctx),
            address=client_address(request),
        )
    except InvalidArgument as exc:
        enrolment = await ctx.accounts.begin_totp_enrolment(
            principal.user.id, address=client_address(request)
        )
        return render(
            request,
            "totp_setup.html",
            {
                "enabled": False,
                "secret": enrolment.secret,
                "qr": qr_data_uri(enrolment.uri),
                "error": f"{exc} A new secret was made: scan this code again.",
            },
            status_code=400,
        )
    target = "/account/password" if principal.user.must_change_password else "/"
    return RedirectResponse(target, status_code=303)


@router.get("/account/password")
async def password_form(request: Request, principal: AnySession) -> Response:
    return render(request, "password.html", {"error": ""})


@router.post("/account/password", dependencies=[Csrf])
async def password_change(
    request: Request,
    ctx: Context,
    principal: AnySession,
    current: Annotated[str, Form(max_length=1024)],
    new: Annotated[str, Form(max_length=1024)],
    confirm: Annotated[str, Form(max_length=1024)],
) -> Response:
    error = ""
    if new != confirm:
        error = "the new passwords do not match"
    else:
        try:
            await ctx.accounts.change_password(
                principal.user.id,
                current,
                new,
                keep_session=session_secret(request, ctx),
                address=client_address(request),
            )
        except (InvalidArgument, Unauthenticated) as exc:
            error = str(exc)
    if error:
        return render(request, "password.html", {"error": error}, status_code=400)
    return RedirectResponse("/", status_code=303)


@router.get("/account")
async def account(request: Request, principal: PagePrincipal) -> Response:
    return render(request, "account.html")
