"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real
collector process with a real agent enrolled to it.

``dashboard`` (one per session) starts ``parc-server run`` on a fresh data folder, enrols a
real ``parc-agent`` and runs it with short intervals, and creates the first admin with
``parc-server user create``; that admin's first sign-in (one-time password, TOTP enrolment
read from the page, a new password) is done in the browser and its cookies kept, so tests
open signed-in pages with ``admin_page``. ``accounts.create`` makes more users the same way.

TOTP codes are computed with the RFC 6238 function of ``server.services.totp``; an account
remembers the last time step it used, because the collector refuses a step used before.

Screenshots go to ``$PARC_SCREENSHOTS`` or ``test-results/screenshots``; the session's
terminal summary names the folder.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, sync_playwright

from server.services import totp
from server.services.clock import utc_now
from tests.e2e.processes import (
    Agent,
    Collector,
    enroll_agent,
    init_collector,
    start_collector,
    wait_for,
)

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
FAST = ("--heartbeat-interval", "1", "--health-interval", "1")
NEW_PASSWORD_SUFFIX = "-a long new passphrase"
TENANT = "Acme"
SITE = "HQ"
TIMEOUT_MS = 15_000

pytestmark = pytest.mark.e2e


def screenshot_dir() -> Path:
    return Path(os.environ.get("PARC_SCREENSHOTS") or REPO / "test-results" / "screenshots")


@dataclass
class Account:
    """A dashboard user as the tests know it: password, TOTP secret and last step used."""

    username: str
    password: str
    totp_secret: str | None = None
    last_step: int = -1

    def next_code(self) -> str:
        """A code for a time step the collector accepts now (now or now + 1) and that this
        account has not used yet; waits for the clock when both are spent."""
        assert self.totp_secret is not None, f"{self.username} has no TOTP"
        while True:
            now = totp.counter_at(utc_now())
            step = max(now, self.last_step + 1)
            if step <= now + 1:
                break
            time.sleep(totp.STEP_SECONDS - time.time() % totp.STEP_SECONDS + 0.05)
        self.last_step = step
        return totp.hotp(totp.secret_bytes(self.totp_secret), step)

    def code_for_step(self, step: int) -> str:
        assert self.totp_secret is not None
        return totp.hotp(totp.secret_bytes(self.totp_secret), step)


@dataclass
class Dashboard:
    """The running collector, its dashboard URL, the enrolled agent and the first admin."""

    collector: Collector
    url: str
    agent: Agent
    hostname: str
    admin: Account
    admin_state: Path
    work_dir: Path
    _users: int = 0

    @property
    def database(self) -> Path:
        return self.collector.data_dir / "parc.db"

    def sql(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        """Run one statement on the collector's SQLite store (seeding and session expiry)."""
        with sqlite3.connect(self.database, timeout=30) as db:
            rows = db.execute(statement, params).fetchall()
        return rows

    def unique(self, prefix: str) -> str:
        self._users += 1
        return f"{prefix}{self._users}"


@dataclass
class Screens:
    folder: Path
    taken: list[Path] = field(default_factory=list)

    def take(self, page: Page, name: str, *, full_page: bool = True) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.taken.append(path)
        return path


_SCREENS = Screens(screenshot_dir())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SCREENS.taken:
        terminalreporter.write_sep("-", "dashboard screenshots")
        terminalreporter.write_line(
            f"{len(_SCREENS.taken)} screenshot(s) of the dashboard in {_SCREENS.folder}"
        )


@pytest.fixture(scope="session")
def screens() -> Screens:
    return _SCREENS


# --- the browser ----------------------------------------------------------------------------


# Package scope, not session: sync Playwright keeps its event loop marked as running while it
# is open, and the async tests that run after this package need the main thread's loop free.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup-browser")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@dataclass
class Contexts:
    """Browser contexts (separate cookie jars) opened by one test, closed after it."""

    browser: Browser
    base_url: str
    opened: list[BrowserContext] = field(default_factory=list)

    def new(self, storage_state: Path | None = None) -> BrowserContext:
        context = self.browser.new_context(
            base_url=self.base_url,
            accept_downloads=True,
            storage_state=str(storage_state) if storage_state else None,
            viewport={"width": 1366, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.opened.append(context)
        return context

    def page(self, storage_state: Path | None = None) -> Page:
        return self.new(storage_state).new_page()


@pytest.fixture
def contexts(browser: Browser, dashboard: Dashboard) -> Iterator[Contexts]:
    opened = Contexts(browser, dashboard.url)
    yield opened
    for context in opened.opened:
        context.close()


@pytest.fixture
def admin_page(contexts: Contexts, dashboard: Dashboard) -> Page:
    """A page signed in as the first admin."""
    return contexts.page(dashboard.admin_state)


class DialogWatch:
    """Records every JavaScript dialog a page opens (and dismisses it)."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("dialog", self._seen)

    def _seen(self, dialog: Dialog) -> None:
        self.messages.append(dialog.message)
        dialog.dismiss()


# --- signing in -------------------------------------------------------------------------------


def sign_in(page: Page, account: Account, code: str | None = None) -> None:
    """Fill and send /login (with the next TOTP code when the account has TOTP)."""
    page.goto("/login")
    page.fill('input[name="username"]', account.username)
    page.fill('input[name="password"]', account.password)
    if code is None and account.totp_secret is not None:
        code = account.next_code()
    page.fill('input[name="code"]', code or "")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def first_sign_in(
    page: Page, username: str, one_time_password: str, *, enrol_totp: bool
) -> Account:
    """The first sign-in of a user made by the CLI: one-time password, TOTP enrolment (forced
    for admins), a new password. Ends signed in on the overview."""
    account = Account(username, one_time_password)
    sign_in(page, account)
    if enrol_totp:
        if not page.url.endswith("/account/totp"):
            page.goto("/account/totp")
        account.totp_secret = page.locator("#totp-secret").inner_text().strip()
        check_qr_code(page, account)
        page.fill('input[name="code"]', account.next_code())
        with page.expect_navigation():
            page.get_by_role("button", name="Turn on").click()
    page.goto("/account/password")
    new_password = one_time_password + NEW_PASSWORD_SUFFIX
    page.fill('input[name="current"]', one_time_password)
    page.fill('input[name="new"]', new_password)
    page.fill('input[name="confirm"]', new_password)
    with page.expect_navigation():
        page.get_by_role("button", name="Change password").click()
    assert path_of(page) == "/", f"the first sign-in of {username} ended on {page.url}"
    account.password = new_password
    return account


def path_of(page: Page) -> str:
    """The path of the page's URL (no query)."""
    return urlsplit(page.url).path


def check_qr_code(page: Page, account: Account) -> None:
    """The QR image encodes the otpauth URI of the secret shown as text: the same SVG as
    encoding that URI (segno is deterministic), so scanning it gives the same secret."""
    from server.web.pages.session import qr_data_uri

    assert account.totp_secret is not None
    shown = page.locator("img.qr").get_attribute("src")
    expected = qr_data_uri(totp.provisioning_uri(account.totp_secret, account.username))
    assert shown == expected, "the QR code does not encode the secret shown on the page"


@dataclass
class AccountFactory:
    dashboard: Dashboard
    contexts: Contexts

    def create(
        self, role: str, *, tenants: tuple[str, ...] = (), enrol_totp: bool = True
    ) -> Account:
        """A user made with `parc-server user create`, through their first sign-in."""
        username = self.dashboard.unique(role)
        args = ["user", "create", username, "--role", role]
        for tenant in tenants:
            args += ["--tenant", tenant]
        one_time = self.dashboard.collector.cli(*args).stdout.strip()
        assert one_time, "user create printed no one-time password"
        context = self.contexts.new()
        account = first_sign_in(
            context.new_page(), username, one_time, enrol_totp=enrol_totp or role == "admin"
        )
        context.close()
        self.contexts.opened.remove(context)
        return account


@pytest.fixture
def accounts(dashboard: Dashboard, contexts: Contexts) -> AccountFactory:
    return AccountFactory(dashboard, contexts)


# --- the collector, the agent and the first admin ---------------------------------------------


def _dashboard_url(collector: Collector) -> str:
    info: dict[str, Any] = json.loads((collector.data_dir / "run" / "collector.json").read_text())
    url = info.get("http_url")
    assert isinstance(url, str) and url, f"the collector serves no dashboard: {info}"
    return url.rstrip("/")


def _stored_hostname(collector: Collector, device_id: str) -> str | None:
    device = collector.device(device_id)
    return str(device["hostname"]) if device and device.get("hostname") else None


@pytest.fixture(scope="package")
def dashboard(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Dashboard]:
    work = tmp_path_factory.mktemp("browser")
    data_dir = work / "collector"
    init_collector(data_dir)
    collector = start_collector(data_dir)
    agent: Agent | None = None
    try:
        token = collector.create_token(TENANT, SITE)
        agent = enroll_agent(collector, work / "agent", token)
        agent.start(collector.agent_address, *FAST)
        device_id = agent.device_id
        hostname = wait_for(
            lambda: _stored_hostname(collector, device_id), 60, "the agent's device in the store"
        )
        wait_for(
            lambda: _agent_running(agent) and _health_samples(data_dir / "parc.db", device_id) >= 2,
            60,
            "health samples from the agent",
        )
        url = _dashboard_url(collector)
        one_time = collector.cli("user", "create", "admin0", "--role", "admin").stdout.strip()
        context = browser.new_context(base_url=url, viewport={"width": 1366, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        admin = first_sign_in(context.new_page(), "admin0", one_time, enrol_totp=True)
        state = work / "admin-state.json"
        context.storage_state(path=str(state))
        context.close()
        yield Dashboard(collector, url, agent, hostname, admin, state, work)
    finally:
        if agent is not None and agent.proc is not None:
            agent.stop()
        code = collector.stop()
        assert code == 0, collector.log()


def _agent_running(agent: Agent) -> bool:
    assert agent.proc is not None and agent.proc.poll() is None, f"agent exited: {agent.log()}"
    return True


def _health_samples(database: Path, device_id: str) -> int:
    with sqlite3.connect(database, timeout=30) as db:
        row = db.execute(
            "SELECT count(*) FROM health_samples WHERE device_id = ?", (device_id,)
        ).fetchone()
    return int(row[0])
