"""The dashboard's pages in the browser: find the real agent's device, export CSV, enrolment
tokens (and a revoked one refused to a real agent), names with markup shown as text,
screenshots of the main pages."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    SITE,
    TENANT,
    Contexts,
    Dashboard,
    DialogWatch,
    Screens,
    first_sign_in,
    path_of,
)
from tests.e2e.processes import agent_cli, enroll_agent

pytestmark = pytest.mark.e2e

HOSTILE_TENANT = "<img src=x onerror=alert('tenant')>&amp; Co"
HOSTILE_HOSTNAME = '<script>alert("host")</script><b>bold</b>'
HOSTILE_SOFTWARE = "<img src=y onerror=alert('software')>Suite"
HOSTILE_PUBLISHER = "<i>Evil</i> Corp"


def search_devices(page: Page, text: str) -> None:
    page.goto("/devices")
    page.fill('input[name="q"]', text)
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()


def test_finds_the_real_agents_device_and_exports_csv(
    admin_page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    page = admin_page
    search_devices(page, dashboard.hostname)
    assert "q=" in page.url
    row = page.locator(f'table.devices tr[data-device-id="{dashboard.agent.device_id}"]')
    expect(row).to_have_count(1)
    link = row.get_by_role("link", name=dashboard.hostname, exact=True)
    expect(link).to_have_attribute("href", f"/devices/{dashboard.agent.device_id}")
    expect(row.locator("td").nth(2)).to_have_text(TENANT)

    # A search for something else does not list it.
    search_devices(page, "no-such-host-" + dashboard.hostname)
    expect(page.locator(f'tr[data-device-id="{dashboard.agent.device_id}"]')).to_have_count(0)

    search_devices(page, dashboard.hostname)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("parc-devices-") and saved.suffix == ".csv"
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 2, lines
    assert "hostname" in lines[0].lower()
    assert any(dashboard.hostname in line for line in lines[1:])


def create_token_in_browser(page: Page, uses: int = 1) -> tuple[int, str]:
    """Create a token on /tokens; its id and its one-time secret as the page shows them."""
    page.goto("/tokens")
    page.select_option('select[name="site_id"]', label=f"{TENANT} / {SITE}")
    page.fill('input[name="uses"]', str(uses))
    page.fill('input[name="expires"]', "1h")
    page.get_by_role("button", name="Create token").click()
    issued = page.locator("#issued-token")
    expect(issued).to_be_visible()
    secret = issued.locator("code.secret").inner_text().strip()
    heading = issued.locator("h2").inner_text()
    found = re.match(r"Token (\d+) for", heading)
    assert found is not None, heading
    expect(page.locator("#enrol-command")).to_contain_text(secret)
    return int(found.group(1)), secret


def test_create_and_revoke_an_enrolment_token(
    admin_page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    page = admin_page
    revoked_id, revoked_secret = create_token_in_browser(page)
    kept_id, kept_secret = create_token_in_browser(page)

    page.goto("/tokens")
    # The secret is shown once: never on the listing.
    assert revoked_secret not in page.content()
    row = page.locator(f"#token-{revoked_id}")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "active")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("p.notice[role=status]")).to_have_text("Token revoked.")
    expect(page.locator(f"#token-{revoked_id} [data-state]")).to_have_attribute(
        "data-state", "revoked"
    )
    expect(page.locator(f"#token-{revoked_id}").get_by_role("button")).to_have_count(0)
    expect(page.locator(f"#token-{kept_id} [data-state]")).to_have_attribute("data-state", "active")

    # A real agent is refused with the revoked token, and enrols with the other one.
    refused_dir = tmp_path / "refused-agent"
    collector = dashboard.collector
    refused = agent_cli(
        "enroll",
        "--server",
        collector.agent_address,
        "--enroll-server",
        collector.enroll_address,
        "--token",
        revoked_secret,
        "--ca-cert",
        str(collector.ca_cert),
        "--state-dir",
        str(refused_dir),
        check=False,
    )
    assert refused.returncode != 0, refused.stdout
    assert not (refused_dir / "identity" / "device.json").exists()

    enrolled = enroll_agent(collector, tmp_path / "kept-agent", kept_secret)
    assert collector.device(enrolled.device_id) is not None
    page.goto("/tokens")
    expect(page.locator(f"#token-{kept_id} [data-state]")).to_have_attribute(
        "data-state", "used up"
    )


def test_a_tenant_name_with_markup_is_shown_as_text(admin_page: Page) -> None:
    page = admin_page
    dialogs = DialogWatch(page)
    page.goto("/tenants")
    page.fill('form[action="/tenants"] input[name="name"]', HOSTILE_TENANT)
    page.get_by_role("button", name="Create tenant").click()
    section = page.locator("section.tenant", has_text=HOSTILE_TENANT)
    expect(section).to_have_count(1)
    expect(section.locator("h2")).to_contain_text(HOSTILE_TENANT)
    expect(section.locator("img")).to_have_count(0)

    for path in ("/", "/tokens", "/devices", "/audit", "/users"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        expect(page.locator("img[src=x]")).to_have_count(0)
    page.goto("/")
    expect(page.locator("table.fleet-tenants")).to_contain_text(HOSTILE_TENANT)
    assert dialogs.messages == []


def seed_hostile_device(dashboard: Dashboard, tmp_path: Path) -> str:
    """A second real enrolment, then its hostname and one installed title set, in the
    store, to markup (as a hostile or broken machine could report them)."""
    agent = enroll_agent(
        dashboard.collector, tmp_path / "hostile-agent", dashboard.collector.create_token()
    )
    dashboard.sql("UPDATE devices SET hostname = ? WHERE id = ?", HOSTILE_HOSTNAME, agent.device_id)
    key = hashlib.sha256(f"{HOSTILE_SOFTWARE}/{agent.device_id}".encode()).hexdigest()
    dashboard.sql(
        "INSERT INTO software_titles (title_key, name, publisher, source) VALUES (?, ?, ?, ?)",
        key,
        HOSTILE_SOFTWARE,
        HOSTILE_PUBLISHER,
        "deb",
    )
    [(title_id,)] = dashboard.sql("SELECT id FROM software_titles WHERE title_key = ?", key)
    dashboard.sql(
        "INSERT INTO device_software (device_id, title_id, version, architecture, identifier)"
        " VALUES (?, ?, '1.0', 'amd64', 'evil')",
        agent.device_id,
        title_id,
    )
    return agent.device_id


def test_a_device_hostname_with_markup_is_shown_as_text(
    admin_page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    device_id = seed_hostile_device(dashboard, tmp_path)
    page = admin_page
    dialogs = DialogWatch(page)

    page.goto("/devices?software=Suite")
    row = page.locator(f'tr[data-device-id="{device_id}"]')
    expect(row).to_have_count(1)
    expect(row.locator("a").first).to_have_text(HOSTILE_HOSTNAME)
    expect(row.locator("script, b")).to_have_count(0)

    # What was typed into the search comes back as the field's value, not as markup.
    search_devices(page, HOSTILE_HOSTNAME)
    expect(page.locator('input[name="q"]')).to_have_value(HOSTILE_HOSTNAME)
    expect(page.locator(f'tr[data-device-id="{device_id}"] a').first).to_have_text(HOSTILE_HOSTNAME)
    page.goto("/devices?software=" + HOSTILE_SOFTWARE.replace("'", "%27").replace(" ", "%20"))
    expect(page.locator('input[name="software"]')).to_have_value(HOSTILE_SOFTWARE)
    expect(page.locator("img[src=y]")).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert dialogs.messages == []


MAIN_PAGES = {
    "overview": "/",
    "devices": "/devices",
    "tenants": "/tenants",
    "tokens": "/tokens",
    "add-devices": "/devices/add",
    "users": "/users",
    "audit": "/audit",
    "settings": "/settings",
    "api-tokens": "/account/api-tokens",
}


def test_screenshots_of_the_main_pages(
    admin_page: Page, dashboard: Dashboard, screens: Screens
) -> None:
    page = admin_page
    dialogs = DialogWatch(page)
    for name, path in MAIN_PAGES.items():
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response)
        assert path_of(page) == path
        page.wait_for_load_state("networkidle")
        shot = screens.take(page, name)
        assert shot.stat().st_size > 1000
    assert dialogs.messages == []


def test_an_admin_creates_a_technician_who_sees_only_their_tenant(
    admin_page: Page, dashboard: Dashboard, contexts: Contexts
) -> None:
    page = admin_page
    tenant = dashboard.unique("Globex ")
    page.goto("/tenants")
    page.fill('form[action="/tenants"] input[name="name"]', tenant)
    page.get_by_role("button", name="Create tenant").click()
    expect(page.locator("section.tenant h2", has_text=tenant)).to_have_count(1)

    username = dashboard.unique("globex-tech-")
    page.goto("/users")
    page.fill('form[action="/users"] input[name="username"]', username)
    page.select_option('form[action="/users"] select[name="role"]', "technician")
    page.get_by_label(tenant, exact=True).check()
    page.get_by_role("button", name="Create user").click()
    one_time = page.locator("#one-time-password").inner_text().strip()
    assert len(one_time) >= 12
    page.goto("/users")
    assert one_time not in page.content()  # shown once
    expect(page.locator(f"#user-{username}")).to_contain_text(tenant)

    tech_page = contexts.page()
    first_sign_in(tech_page, username, one_time, enrol_totp=False)
    tech_page.goto("/devices")
    expect(tech_page.get_by_text("No device matches.")).to_be_visible()
    expect(tech_page.locator(f'tr[data-device-id="{dashboard.agent.device_id}"]')).to_have_count(0)
    answer = tech_page.goto(f"/devices/{dashboard.agent.device_id}")
    assert answer is not None and answer.status == 404
    assert dashboard.hostname not in tech_page.locator("main").inner_text()
    tech_page.goto("/tokens")
    expect(tech_page.locator("#tokens tbody tr")).to_have_count(0)
    # The technician may not open the admin pages.
    answer = tech_page.goto("/users")
    assert answer is not None and answer.status == 403


def test_an_api_token_made_in_the_browser_works_within_its_scope_until_revoked(
    admin_page: Page, dashboard: Dashboard
) -> None:
    page = admin_page
    page.goto("/account/api-tokens")
    page.fill('form[action="/account/api-tokens"] input[name="name"]', "psa-sync")
    page.get_by_label("devices:read", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#api-token-secret").inner_text().strip()
    heading = page.locator("#issued-api-token h2").inner_text()
    found = re.match(r"Token (\d+):", heading)
    assert found is not None, heading
    token_id = found.group(1)

    bearer = {"Authorization": f"Bearer {secret}"}
    devices = httpx.get(f"{dashboard.url}/api/v1/devices", headers=bearer, timeout=30)
    assert devices.status_code == 200, devices.text
    assert dashboard.hostname in devices.text
    outside_scope = httpx.get(f"{dashboard.url}/api/v1/tenants", headers=bearer, timeout=30)
    assert outside_scope.status_code == 403

    page.goto("/account/api-tokens")
    assert secret not in page.content()  # shown once
    row = page.locator(f"#api-token-{token_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        row.get_by_role("button", name="Revoke").click()
    expect(page.locator(f"#api-token-{token_id} [data-state]")).to_have_attribute(
        "data-state", "revoked"
    )
    refused = httpx.get(f"{dashboard.url}/api/v1/me", headers=bearer, timeout=30)
    assert refused.status_code == 401
