"""The devices list in a real browser (Debian's Chromium through Playwright): the state
badges follow the store without a reload, and names are shown as text, never run."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from playwright.async_api import async_playwright
from sqlalchemy import update

from server.services.clock import utc_now
from server.store.models import DeviceRow
from tests.server.services.test_fleet_queries import device_id
from tests.web.conftest import WebHarness
from tests.web.test_devices_pages import XSS, fleet_web, technician

CHROMIUM = "/usr/bin/chromium"
POLL_WAIT_MS = 15_000  # devices.js polls every 10 s

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium")

__all__ = ["fleet_web"]


async def test_badges_follow_presence_live_and_names_stay_text(fleet_web: WebHarness) -> None:
    web = fleet_web
    async with web.sessions.begin() as session:
        await session.execute(
            update(DeviceRow).where(DeviceRow.id == device_id("alpha-02")).values(hostname=XSS)
        )
    me = await technician(web)
    cookies = [{"name": k, "value": v, "url": web.base_url} for k, v in me.client.cookies.items()]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context()
            await context.add_cookies(cookies)  # type: ignore[arg-type]
            page = await context.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: dialogs.append(dialog.message))
            await page.goto(f"{web.base_url}/devices")
            row = page.locator(f'tr[data-device-id="{device_id("alpha-01")}"] [data-presence]')
            assert await row.text_content() == "ok"
            assert await page.get_by_text(XSS).count() == 1  # shown as text
            async with web.sessions.begin() as session:
                await session.execute(
                    update(DeviceRow)
                    .where(DeviceRow.id == device_id("alpha-01"))
                    .values(online=False, last_seen_at=utc_now() - timedelta(days=1))
                )
            await page.wait_for_function(
                'id => document.querySelector(`tr[data-device-id="${id}"] [data-presence]`)'
                ".textContent === 'offline'",
                arg=device_id("alpha-01"),
                timeout=POLL_WAIT_MS,
            )
            assert "offline" in (await row.get_attribute("class") or "")
            assert dialogs == []  # the script in a hostname never ran
        finally:
            await browser.close()
