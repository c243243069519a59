"""Cookies, CSRF tokens and the security headers every response carries.

- The session cookie holds the session secret (only its hash is stored); it is HttpOnly,
  SameSite=Strict, and on HTTPS ``Secure`` with the ``__Host-`` prefix (no Domain, Path=/).
- CSRF: every form carries ``csrf_token`` and every script request the ``X-CSRF-Token``
  header; for a signed-in user the token is an HMAC of the session id, so it needs no storage
  and dies with the session. The sign-in form, before any session exists, uses a random
  double-submit cookie instead.
- Headers: a strict Content-Security-Policy (scripts and styles only from our own static
  folder: no inline script, no CDN), no framing, no sniffing, no referrer, no caching of
  pages; HSTS on HTTPS.
- Request bodies over ``MAX_BODY_BYTES`` are refused before anything reads them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "parc_session"
LOGIN_CSRF_COOKIE = "parc_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_BODY_BYTES = 1024 * 1024

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def cookie_name(base: str, secure: bool) -> str:
    """``__Host-`` prefixed on HTTPS: the browser then insists on Secure, Path=/, no Domain."""
    return f"__Host-{base}" if secure else base


def csrf_token_for(key: bytes, session_id: str) -> str:
    """The CSRF token of a session (its id is already the SHA-256 of the secret cookie)."""
    return hmac.new(key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


class SecurityHeaders:
    """ASGI middleware: security headers on every response; oversized bodies refused (413)."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self._app = app
        self._https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > MAX_BODY_BYTES:
            await _too_large(send)
            return

        received = 0
        started = False
        static = str(scope.get("path", "")).startswith("/static/")

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise BodyTooLarge
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", CONTENT_SECURITY_POLICY)
                headers["x-content-type-options"] = "nosniff"
                headers["x-frame-options"] = "DENY"
                headers["referrer-policy"] = "no-referrer"
                headers["cross-origin-opener-policy"] = "same-origin"
                if static:  # static URLs carry a content digest: cache them for good
                    headers["cache-control"] = "public, max-age=31536000, immutable"
                else:
                    headers.setdefault("cache-control", "no-store")
                if self._https:
                    headers["strict-transport-security"] = "max-age=31536000"
            await send(message)

        try:
            await self._app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(send)


class BodyTooLarge(Exception):
    """A request body grew past ``MAX_BODY_BYTES`` while being read."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send) -> None:
    body = b'{"error":{"code":"too_large","message":"the request body is too large"}}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
