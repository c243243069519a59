"""Signing in and out in the browser: TOTP, replay, lockout, CSRF, session expiry, logout."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from server.web.security import SESSION_COOKIE
from tests.browser.conftest import (
    Account,
    AccountFactory,
    Contexts,
    Dashboard,
    path_of,
    sign_in,
)

pytestmark = pytest.mark.e2e


def session_cookie(context: BrowserContext) -> str:
    found = [c["value"] for c in context.cookies() if c["name"] == SESSION_COOKIE]
    assert len(found) == 1, f"expected one session cookie, got {context.cookies()}"
    return found[0]


def signed_in_page(contexts: Contexts, account: Account) -> Page:
    page = contexts.page()
    sign_in(page, account)
    assert path_of(page) == "/", f"{account.username} not signed in: {page.url}"
    return page


def expect_sign_in_refused(page: Page) -> None:
    assert path_of(page) == "/login", page.url
    expect(page.locator("p.error[role=alert]")).to_be_visible()
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}


def test_admin_signs_in_with_a_totp_code(accounts: AccountFactory, contexts: Contexts) -> None:
    admin = accounts.create("admin")  # first sign-in: one-time password, QR/secret, new password
    page = contexts.page()

    # The password alone is not enough: the page asks for the code.
    page.goto("/login")
    page.fill('input[name="username"]', admin.username)
    page.fill('input[name="password"]', admin.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("p.error[role=alert]")).to_contain_text("code")
    assert path_of(page) == "/login"

    sign_in(page, admin)
    assert path_of(page) == "/"
    expect(page.locator("header .who")).to_contain_text(admin.username)
    cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"


def test_a_used_totp_code_is_refused(accounts: AccountFactory, contexts: Contexts) -> None:
    admin = accounts.create("admin")
    first = contexts.page()
    sign_in(first, admin)
    assert path_of(first) == "/"
    used = admin.code_for_step(admin.last_step)

    replay = contexts.page()
    sign_in(replay, admin, code=used)
    expect_sign_in_refused(replay)

    # A fresh code still works: the refusal was the replay, not the account.
    sign_in(replay, admin)
    assert path_of(replay) == "/"


def test_repeated_failures_lock_the_account(
    accounts: AccountFactory, contexts: Contexts, dashboard: Dashboard
) -> None:
    tech = accounts.create("technician", tenants=("Acme",), enrol_totp=False)
    page = contexts.page()
    wrong = Account(tech.username, "not the password at all")
    for _ in range(5):
        sign_in(page, wrong)
        expect_sign_in_refused(page)

    # The right password is refused now, with the same message as a wrong one.
    sign_in(page, tech)
    expect_sign_in_refused(page)
    [(locked_until,)] = dashboard.sql(
        "SELECT locked_until FROM users WHERE username = ?", tech.username
    )
    assert locked_until is not None
    events = json.loads(
        dashboard.collector.cli("audit", "list", "--action", "user.sign_in_failed", "--json").stdout
    )
    reasons = [
        e["details"].get("reason") for e in events if e["details"].get("username") == tech.username
    ]
    assert sorted(reasons) == ["locked"] + ["wrong password"] * 5


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_form_posted_without_its_csrf_token_is_refused(
    admin_page: Page, token: str | None
) -> None:
    page = admin_page
    page.goto("/tenants")
    name = f"CSRF probe {token or 'none'}"
    with page.expect_navigation() as answer:
        page.evaluate(
            """([name, token]) => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = "/tenants";
                const field = (n, v) => {
                    const input = document.createElement("input");
                    input.type = "hidden"; input.name = n; input.value = v;
                    form.appendChild(input);
                };
                field("name", name);
                if (token !== null) field("csrf_token", token);
                document.body.appendChild(form);
                form.submit();
            }""",
            [name, token],
        )
    refused = answer.value
    assert refused is not None and refused.request.method == "POST"
    assert refused.status == 403
    page.wait_for_load_state()
    page.goto("/tenants")
    expect(page.locator("section.tenant h2", has_text=name)).to_have_count(0)

    # The same form with the page's token works: the refusal was the token.
    page.fill('form[action="/tenants"] input[name="name"]', name)
    page.get_by_role("button", name="Create tenant").click()
    expect(page.locator("section.tenant h2", has_text=name)).to_have_count(1)


def test_an_expired_session_is_sent_to_sign_in(
    accounts: AccountFactory, contexts: Contexts, dashboard: Dashboard
) -> None:
    tech = accounts.create("technician", tenants=("Acme",), enrol_totp=False)
    page = signed_in_page(contexts, tech)
    page.goto("/devices")
    assert path_of(page) == "/devices"

    session_id = hashlib.sha256(session_cookie(page.context).encode()).hexdigest()
    with sqlite3.connect(dashboard.database, timeout=30) as db:
        changed = db.execute(
            "UPDATE sessions SET expires_at = '2000-01-01 00:00:00.000000' WHERE id = ?",
            (session_id,),
        ).rowcount
    assert changed == 1

    page.goto("/devices")
    assert path_of(page) == "/login"
    assert "next=%2Fdevices" in page.url


def test_sign_out_ends_the_session(accounts: AccountFactory, contexts: Contexts) -> None:
    tech = accounts.create("technician", tenants=("Acme",), enrol_totp=False)
    page = signed_in_page(contexts, tech)
    saved = page.context.cookies()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert path_of(page) == "/login"

    # The old cookie, put back, no longer opens anything.
    page.context.add_cookies(saved)  # type: ignore[arg-type]
    page.goto("/tokens")
    assert path_of(page) == "/login"


def test_logout_everywhere_ends_every_session(accounts: AccountFactory, contexts: Contexts) -> None:
    tech = accounts.create("technician", tenants=("Acme",), enrol_totp=False)
    laptop = signed_in_page(contexts, tech)
    phone = signed_in_page(contexts, tech)
    other = accounts.create("technician", tenants=("Acme",), enrol_totp=False)
    bystander = signed_in_page(contexts, other)

    laptop.goto("/account")
    laptop.once("dialog", lambda dialog: dialog.accept())
    with laptop.expect_navigation():
        laptop.get_by_role("button", name="Sign out everywhere").click()
    assert path_of(laptop) == "/login"

    phone.goto("/devices")
    assert path_of(phone) == "/login"
    # Only that user's sessions ended.
    bystander.goto("/devices")
    assert path_of(bystander) == "/devices"
