"""Rendering pages: one Jinja2 environment, autoescaping always on.

``render`` gives every template the request, the signed-in principal (if any), its CSRF
token, the navigation it may see, and ``static(path)`` for cache-busted static URLs.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from server.services import access
from server.services.records import Principal
from server.web.context import WebContext
from server.web.security import CSRF_FIELD, csrf_token_for

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# A page that shows a secret once (a new token, a one-time password) is never stored: neither
# by the browser (back button) nor by anything in between.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# (path, label, action the principal needs to see it)
NAVIGATION: tuple[tuple[str, str, str], ...] = (
    ("/", "Fleet", access.DEVICES_READ),
    ("/devices", "Devices", access.DEVICES_READ),
    ("/tenants", "Tenants", access.TENANTS_READ),
    ("/tokens", "Enrolment", access.TOKENS_READ),
    ("/users", "Users", access.USERS_READ),
    ("/audit", "Audit log", access.AUDIT_READ),
    ("/settings", "Settings", access.SETTINGS_WRITE),
)


def format_time(value: datetime | None) -> str:
    """A UTC time as people read it; ``—`` when unknown."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_bytes(value: int | float | None) -> str:
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} PB"


def format_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


@cache
def _static_digest(path: str) -> str:
    return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    """``/static/PATH?v=DIGEST``: long-cacheable, yet never stale."""
    return f"/static/{path}?v={_static_digest(path)}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = format_time
    env.filters["bytes"] = format_bytes
    env.filters["percent"] = format_percent
    env.globals["static"] = static_url
    env.globals["csrf_field"] = CSRF_FIELD
    return env


def navigation(ctx: WebContext, principal: Principal | None) -> list[tuple[str, str]]:
    if principal is None:
        return []
    return [
        (path, label) for path, label, action in NAVIGATION if ctx.access.can(principal, action)
    ]


def render(
    request: Request,
    name: str,
    values: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    principal: Principal | None = None,
) -> HTMLResponse:
    """Render ``name`` with ``values`` and what every page needs."""
    ctx: WebContext = request.app.state.parc
    who = principal if principal is not None else getattr(request.state, "principal", None)
    page: dict[str, Any] = {
        "request": request,
        "principal": who,
        "user": who.user if who is not None else None,
        "csrf_token": csrf_token_for(ctx.settings.csrf_key, who.credential_id)
        if who is not None and who.via == "session"
        else "",
        "nav": navigation(ctx, who),
        "path": request.url.path,
        "is_admin": who is not None and who.user.role == access.ADMIN,
    }
    page.update(values or {})
    html = environment().get_template(name).render(page)
    return HTMLResponse(html, status_code=status_code)
