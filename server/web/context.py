"""What every route may use: the services, the access policy and the web settings.

Built once per process by ``server.app`` and kept on ``app.state.parc``; routes get it with
the ``context`` dependency. Routes stay thin: they check access, call a service, render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.access import AccessPolicy
from server.services.accounts import AccountService
from server.services.audit import AuditLog
from server.services.clock import Clock
from server.services.commands import CommandService
from server.services.devices import DeviceService
from server.services.health_state import HealthThresholds
from server.services.tags import TagService
from server.services.tenancy import TenancyService
from server.services.tokens import TokenService


@dataclass(frozen=True)
class WebSettings:
    """How the web tier presents itself.

    ``secure_cookies``: cookies carry ``Secure`` (and the ``__Host-`` prefix), i.e. HTTPS.
    ``csrf_key``: the key CSRF tokens are made with (derived from the collector's secrets key).
    ``agent_address``/``enroll_address``: what the enrolment command shown to admins names.
    The rest is shown on /settings: ``database_url`` is already masked (never a password),
    ``http_listen`` the dashboard's listen address, ``certificate_lifetime`` that of agents'
    certificates.
    """

    secure_cookies: bool
    csrf_key: bytes
    agent_address: str = ""
    enroll_address: str = ""
    ca_certificate_pem: str = ""
    data_dir: str = ""
    database_url: str = ""
    http_listen: str = ""
    hostnames: tuple[str, ...] = ()
    certificate_lifetime: timedelta | None = None

    def __repr__(self) -> str:
        return f"WebSettings(secure_cookies={self.secure_cookies}, csrf_key=<hidden>)"


@dataclass(frozen=True)
class WebContext:
    """The services behind the pages and the API."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    settings: WebSettings
    access: AccessPolicy
    accounts: AccountService
    audit: AuditLog
    tenancy: TenancyService
    tokens: TokenService
    devices: DeviceService
    commands: CommandService
    tags: TagService
    thresholds: HealthThresholds


def context(request: Request) -> WebContext:
    """FastAPI dependency: the process's ``WebContext``."""
    ctx: WebContext = request.app.state.parc
    return ctx
