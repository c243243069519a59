"""The device page in the browser: reached from the devices list, its uPlot charts drawn
from the real agent's health samples, ranges switched, names with markup shown as text."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import FAST, Dashboard, DialogWatch, Screens, path_of
from tests.browser.test_pages import (
    HOSTILE_HOSTNAME,
    HOSTILE_PUBLISHER,
    HOSTILE_SOFTWARE,
    search_devices,
    seed_hostile_device,
)
from tests.e2e.processes import enroll_agent, running, wait_for

pytestmark = pytest.mark.e2e

CHARTS = "figure[data-chart]"


def wait_for_charts(page: Page, range_: str) -> None:
    """Every chart on the page drawn (or failed) for ``range_``."""
    page.wait_for_function(
        """(range) => {
            const charts = [...document.querySelectorAll("figure[data-chart]")];
            return charts.length > 0 && charts.every(c =>
                c.getAttribute("data-range") === range &&
                (c.getAttribute("data-drawn") === "true" || c.hasAttribute("data-error")));
        }""",
        arg=range_,
    )


def points(page: Page, metric: str) -> int:
    value = page.locator(f'{CHARTS}[data-metric="{metric}"]').get_attribute("data-points")
    return int(value or 0)


def test_the_real_agents_device_page_draws_its_charts(
    admin_page: Page, dashboard: Dashboard, screens: Screens
) -> None:
    page = admin_page
    dialogs = DialogWatch(page)
    search_devices(page, dashboard.hostname)
    row = page.locator(f'tr[data-device-id="{dashboard.agent.device_id}"]')
    with page.expect_navigation():
        row.get_by_role("link", name=dashboard.hostname, exact=True).click()
    assert path_of(page) == f"/devices/{dashboard.agent.device_id}"
    expect(page.locator("h1.device-title")).to_contain_text(dashboard.hostname)

    wait_for_charts(page, "24h")
    charts = page.locator(CHARTS)
    assert charts.count() >= 2
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.get_attribute("data-error") is None, chart.get_attribute("data-metric")
        expect(chart).to_have_attribute("data-drawn", "true")
    # The agent has sent CPU and memory samples: those charts hold points, drawn by uPlot.
    for metric in ("cpu", "memory"):
        assert points(page, metric) > 0, metric
        expect(page.locator(f'{CHARTS}[data-metric="{metric}"] .uplot canvas')).to_have_count(1)
    page.wait_for_load_state("networkidle")
    page.set_viewport_size({"width": 1366, "height": 1400})  # the software list runs long
    screens.take(page, "device", full_page=False)

    # Another range redraws every chart from the series API.
    page.locator('.range-tabs [data-range="7d"]').click()
    wait_for_charts(page, "7d")
    expect(page.locator('.range-tabs [data-range="7d"]')).to_have_attribute("aria-current", "true")
    assert points(page, "cpu") > 0
    assert dialogs.messages == []


def test_markup_in_a_hostname_and_software_is_text_on_the_device_page(
    admin_page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    device_id = seed_hostile_device(dashboard, tmp_path)
    page = admin_page
    dialogs = DialogWatch(page)
    page.goto(f"/devices/{device_id}")
    expect(page.locator("h1.device-title")).to_contain_text(HOSTILE_HOSTNAME)
    expect(page.locator("h1.device-title script, h1.device-title b")).to_have_count(0)
    row = page.locator("table.software tbody tr", has_text="Suite")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text(HOSTILE_SOFTWARE)
    expect(row.locator("td").nth(2)).to_have_text(HOSTILE_PUBLISHER)
    expect(page.locator("table.software img, table.software i")).to_have_count(0)

    # The software search echoes the markup back as the field's value.
    page.fill('#software input[name="q"]', HOSTILE_SOFTWARE)
    with page.expect_navigation():
        page.locator("#software").get_by_role("button", name="Search").click()
    expect(page.locator('#software input[name="q"]')).to_have_value(HOSTILE_SOFTWARE)
    expect(page.locator("table.software tbody tr")).to_have_count(1)
    wait_for_charts(page, "24h")
    page.wait_for_load_state("networkidle")
    assert dialogs.messages == []


def test_revoking_a_device_in_the_browser_cuts_its_real_agent_off(
    admin_page: Page, dashboard: Dashboard, tmp_path: Path
) -> None:
    collector = dashboard.collector
    agent = enroll_agent(collector, tmp_path / "doomed-agent", collector.create_token())
    with running(agent, collector.agent_address, *FAST):
        wait_for(lambda: health_samples(dashboard, agent.device_id) >= 2, 60, "the agent's samples")
        page = admin_page
        page.goto(f"/devices/{agent.device_id}")
        with page.expect_navigation():
            page.get_by_role("link", name="Revoke…").click()
        assert path_of(page) == f"/devices/{agent.device_id}/revoke"
        with page.expect_navigation():
            page.get_by_role("button", name="Revoke device").click()
        expect(page.locator(".revoked-banner")).to_be_visible()

        wait_for(
            lambda: (d := collector.device(agent.device_id)) and d["revoked"] and not d["online"],
            30,
            "the device to show as revoked and offline",
        )
        time.sleep(5)  # let anything already in flight land
        before = health_samples(dashboard, agent.device_id)
        time.sleep(4)  # the agent keeps sampling every second; the collector refuses it all
        assert health_samples(dashboard, agent.device_id) == before
        assert agent.proc is not None and agent.proc.poll() is None, "the agent keeps running"

    page.goto(f"/devices/{agent.device_id}")
    expect(page.locator(".revoked-banner")).to_contain_text("can no longer connect")
    expect(page.get_by_role("link", name="Revoke…")).to_have_count(0)
    events = dashboard.sql(
        "SELECT count(*) FROM audit_events WHERE action = 'device.revoke' AND target_id = ?",
        agent.device_id,
    )
    assert events[0][0] == 1


def health_samples(dashboard: Dashboard, device_id: str) -> int:
    [(count,)] = dashboard.sql("SELECT count(*) FROM health_samples WHERE device_id = ?", device_id)
    return int(count)
