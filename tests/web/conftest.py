"""A real collector serving the dashboard on a loopback port, and signed-in HTTP clients.

``web`` starts the whole collector in-process (gRPC ports and HTTP) on a fresh data folder;
``WebHarness.user`` creates accounts straight through the service (as ``parc-server user
create`` does) and ``WebHarness.signed_in`` signs in through the real /login form.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.app import RunningCollector, serve
from server.services import totp
from server.services.accounts import AccountService
from server.services.clock import utc_now
from server.services.records import CLI_ACTOR
from server.services.secrets import SecretBox
from server.services.tenancy import TenancyService
from server.settings import Address, CollectorSettings
from server.store.database import create_engine, resolve_database_url, session_factory
from tests.server.api.conftest import LOOPBACK, prepare_data_dir

PASSWORD = "correct horse battery staple"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


@dataclass
class Account:
    username: str
    password: str
    totp_secret: str | None = None
    totp_uses: int = 0

    def next_code(self) -> str:
        """A TOTP code not used before (the next time step each time: replay is refused)."""
        assert self.totp_secret is not None
        self.totp_uses += 1
        when = utc_now() + timedelta(seconds=totp.STEP_SECONDS * (self.totp_uses - 1))
        return totp.code_at(self.totp_secret, when)


@dataclass
class WebHarness:
    collector: RunningCollector
    data_dir: Path
    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    accounts: AccountService
    tenancy: TenancyService
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.base_url, follow_redirects=False, timeout=30)
        self._clients.append(client)
        return client

    async def user(
        self, username: str, role: str, tenants: tuple[str, ...] = (), *, with_totp: bool = False
    ) -> Account:
        for tenant in tenants:
            await self.tenancy.ensure_site(tenant, "HQ")
        created = await self.accounts.create_user(
            username, role, actor=CLI_ACTOR, password=PASSWORD, tenants=tenants
        )
        account = Account(username, PASSWORD)
        if with_totp or role == "admin":
            enrolment = await self.accounts.begin_totp_enrolment(created.user.id)
            earlier = utc_now() - timedelta(seconds=totp.STEP_SECONDS)
            await self.accounts.confirm_totp_enrolment(
                created.user.id, totp.code_at(enrolment.secret, earlier)
            )
            account.totp_secret = enrolment.secret
        return account

    async def signed_in(self, account: Account) -> SignedIn:
        client = self.client()
        form = await client.get("/login")
        assert form.status_code == 200
        response = await client.post(
            "/login",
            data={
                "username": account.username,
                "password": account.password,
                "code": account.next_code() if account.totp_secret else "",
                "csrf_token": csrf_from(form.text),
            },
        )
        assert response.status_code == 303, response.text
        home = await client.get("/")
        assert home.status_code == 200, home.text
        return SignedIn(client, csrf_meta(home.text))


@dataclass
class SignedIn:
    client: httpx.AsyncClient
    csrf: str


def csrf_from(html: str) -> str:
    found = _CSRF_FIELD.search(html)
    assert found is not None, "no csrf_token field on the page"
    return found.group(1)


def csrf_meta(html: str) -> str:
    found = _CSRF_META.search(html)
    assert found is not None, "no csrf-token meta on the page"
    return found.group(1)


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[WebHarness]:
    data_dir = tmp_path / "collector"
    prepare_data_dir(data_dir)
    settings = CollectorSettings(
        data_dir=data_dir,
        listen=Address(LOOPBACK, 0),
        enroll_listen=Address(LOOPBACK, 0),
        http_listen=Address(LOOPBACK, 0),
        watch_interval_s=0.2,
    )
    collector = await serve(settings)
    engine: AsyncEngine = create_engine(resolve_database_url(data_dir, None))
    sessions = session_factory(engine)
    harness = WebHarness(
        collector=collector,
        data_dir=data_dir,
        base_url=collector.http_url or "",
        sessions=sessions,
        accounts=AccountService(sessions, SecretBox.for_data_dir(data_dir)),
        tenancy=TenancyService(sessions),
    )
    try:
        yield harness
    finally:
        for client in harness._clients:
            await client.aclose()
        await collector.stop(0)
        await engine.dispose()
