"""The device page in a real browser (Debian's Chromium through Playwright): device.js draws
every chart with uPlot under the strict CSP and marks it ``data-drawn``; the range tabs
redraw; a hostname with markup is shown as text."""

from __future__ import annotations

import shutil

import pytest
from playwright.async_api import async_playwright

from tests.web.conftest import WebHarness
from tests.web.devices import XSS, rename, seed_device

CHROMIUM = "/usr/bin/chromium"
DRAWN = "[data-chart][data-drawn='true']"

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium")


async def test_charts_are_drawn_and_redrawn_for_each_range(web: WebHarness) -> None:
    device = await seed_device(web.sessions, web.data_dir, "Acme", "pc-acme", samples=60)
    await rename(web.sessions, device.device_id, XSS)
    me = await web.signed_in(await web.user("tech", "technician", ("Acme",)))
    cookies = [{"name": k, "value": v, "url": web.base_url} for k, v in me.client.cookies.items()]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context()
            await context.add_cookies(cookies)  # type: ignore[arg-type]
            page = await context.new_page()
            problems: list[str] = []
            failed: list[str] = []
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("dialog", lambda dialog: problems.append(f"dialog {dialog.message}"))
            await page.goto(f"{web.base_url}/devices/{device.device_id}")
            # a function, not an expression string: the CSP forbids eval
            await page.wait_for_function(
                "sel => document.querySelectorAll(sel).length === 5", arg=DRAWN, timeout=15_000
            )
            cpu = page.locator("[data-chart][data-metric='cpu']")
            assert await cpu.get_attribute("data-points") == "24"
            assert await cpu.locator("canvas").count() == 1  # uPlot drew it
            assert await page.locator("h1").get_by_text(XSS).count() == 1
            await page.click(".range-tabs [data-range='7d']")
            await page.wait_for_function(
                "sel => document.querySelectorAll(sel).length === 5 && document.querySelector("
                "\"[data-chart][data-metric='cpu']\").getAttribute('data-points') === '60'",
                arg=DRAWN,
                timeout=15_000,
            )
            assert await page.locator("[data-chart][data-range='7d']").count() == 5
            assert await cpu.locator("canvas").count() == 1  # replaced, not added
            assert [url for url in failed if not url.endswith("/favicon.ico")] == []
            # (a missing resource is logged as a console error too: judged by ``failed``)
            assert [p for p in problems if not p.startswith("Failed to load resource")] == []
        finally:
            await browser.close()
