"""Who is calling: FastAPI dependencies that turn a cookie or a bearer token into a Principal.

Pages use ``page_principal`` (a signed-in session; otherwise the browser is sent to
``/login``), forms add ``require_csrf``. The API uses ``api_principal``: an API token in
``Authorization: Bearer …``, or the dashboard's own session cookie, which for anything but
GET/HEAD must come with the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from server.services.errors import Unauthenticated
from server.services.records import Principal
from server.web.context import WebContext, context
from server.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    cookie_name,
    csrf_token_for,
    tokens_match,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER = "bearer "


class SignInRequired(Exception):
    """A page was asked for without a valid session: the handler redirects to /login."""


class PasswordChangeRequired(Exception):
    """The user must set a new password before anything else."""


class TotpEnrolmentRequired(Exception):
    """An admin must set up TOTP before anything else."""


class CsrfRejected(Exception):
    """A state-changing request without the right CSRF token."""


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def session_secret(request: Request, ctx: WebContext) -> str | None:
    return request.cookies.get(cookie_name(SESSION_COOKIE, ctx.settings.secure_cookies))


async def _session_principal(
    request: Request, ctx: WebContext, *, allow_totp_pending: bool
) -> Principal:
    secret = session_secret(request, ctx)
    if not secret:
        raise SignInRequired
    try:
        principal = await ctx.accounts.validate_session(
            secret, allow_totp_pending=allow_totp_pending
        )
    except Unauthenticated as exc:
        raise SignInRequired from exc
    request.state.principal = principal
    return principal


async def page_principal(
    request: Request, ctx: Annotated[WebContext, Depends(context)]
) -> Principal:
    """A fully signed-in user (TOTP done, password not due for change)."""
    try:
        principal = await _session_principal(request, ctx, allow_totp_pending=False)
    except SignInRequired:
        # A pending admin session may only enrol TOTP.
        await _session_principal(request, ctx, allow_totp_pending=True)
        raise TotpEnrolmentRequired from None
    if principal.user.must_change_password:
        raise PasswordChangeRequired
    return principal


async def any_session_principal(
    request: Request, ctx: Annotated[WebContext, Depends(context)]
) -> Principal:
    """A session, even one that must still enrol TOTP or change its password."""
    return await _session_principal(request, ctx, allow_totp_pending=True)


def expected_csrf(principal: Principal, ctx: WebContext) -> str:
    return csrf_token_for(ctx.settings.csrf_key, principal.credential_id)


async def require_csrf(
    request: Request,
    ctx: Annotated[WebContext, Depends(context)],
    principal: Annotated[Principal, Depends(any_session_principal)],
) -> None:
    """A form post (or script request) carries the session's CSRF token."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not tokens_match(expected_csrf(principal, ctx), given):
        raise CsrfRejected


async def api_principal(
    request: Request, ctx: Annotated[WebContext, Depends(context)]
) -> Principal:
    """An API token, or the dashboard's session (with the CSRF header when not a read)."""
    authorization = request.headers.get("authorization", "")
    if authorization:
        if not authorization.lower().startswith(BEARER):
            raise Unauthenticated("use 'Authorization: Bearer <API token>'")
        principal = await ctx.accounts.authenticate_api_token(authorization[len(BEARER) :].strip())
        request.state.principal = principal
        return principal
    secret = session_secret(request, ctx)
    if not secret:
        raise Unauthenticated("sign in, or send an API token")
    principal = await ctx.accounts.validate_session(secret)
    if principal.user.must_change_password:
        raise Unauthenticated("change your password in the dashboard first")
    if request.method not in SAFE_METHODS and not tokens_match(
        expected_csrf(principal, ctx), request.headers.get(CSRF_HEADER)
    ):
        raise CsrfRejected
    request.state.principal = principal
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]
ApiPrincipal = Annotated[Principal, Depends(api_principal)]
Csrf = Depends(require_csrf)
Context = Annotated[WebContext, Depends(context)]
