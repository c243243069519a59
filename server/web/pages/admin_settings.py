"""``/settings``: what this collector runs with (admins), shown read-only.

Nothing secret reaches the browser: the database URL comes masked (``server.web.masking``),
and of the CA only its public certificate's fingerprint and validity are shown. The values
come from the command line, the environment and ``server.toml`` at start-up and hold for the
whole process (several collectors may share one database), so changing them is a matter of
configuration and a restart, not of this page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.services import access
from server.web.auth import Context, PagePrincipal
from server.web.templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class CaSummary:
    """The public facts of the collector's CA certificate."""

    subject: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime


def ca_summary(pem: str) -> CaSummary | None:
    if not pem:
        return None
    certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    digest = certificate.fingerprint(hashes.SHA256()).hex().upper()
    return CaSummary(
        subject=certificate.subject.rfc4514_string(),
        fingerprint_sha256=":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def describe(delta: timedelta | None) -> str:
    """``30 days``, ``90 seconds``, ``15 minutes``; ``—`` when unknown."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


@router.get("/settings")
async def settings(request: Request, ctx: Context, principal: PagePrincipal) -> Response:
    ctx.access.require(principal, access.SETTINGS_WRITE)
    web, limits = ctx.settings, ctx.thresholds
    return render(
        request,
        "settings.html",
        {
            "web": web,
            "dashboard_url": str(request.base_url).rstrip("/"),
            "https": web.secure_cookies,
            "certificate_lifetime": describe(web.certificate_lifetime),
            "ca": ca_summary(web.ca_certificate_pem),
            "limits": limits,
            "offline_after": describe(limits.offline_after),
            "heartbeat_interval": describe(limits.heartbeat_interval),
            "memory_duration": describe(limits.memory_warning_duration),
        },
    )
