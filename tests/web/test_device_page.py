"""The device page and its actions, over real HTTP against a real collector.

Devices are enrolled and report through the real services (``tests.web.devices``): Acme's
``pc-acme`` (48 hourly samples, a full inventory) and Bravo's ``pc-bravo``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from server.services.audit import AuditFilter, AuditLog
from server.services.commands import CommandService
from server.services.records import AuditEvent
from server.services.reports import ReportService
from server.services.tags import TagService
from tests.server.services.support import full_inventory, package
from tests.web.conftest import SignedIn, WebHarness, csrf_from
from tests.web.devices import XSS, SeededDevice, rename, seed_device, software

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


@dataclass
class Fleet:
    web: WebHarness
    acme: SeededDevice
    bravo: SeededDevice


@pytest.fixture
async def fleet(web: WebHarness) -> Fleet:
    acme = await seed_device(web.sessions, web.data_dir, "Acme", "pc-acme", packages=software(120))
    bravo = await seed_device(web.sessions, web.data_dir, "Bravo", "pc-bravo", samples=2)
    return Fleet(web, acme, bravo)


async def signed_in(web: WebHarness, role: str, tenant: str = "Acme") -> SignedIn:
    tenants = () if role == "admin" else (tenant,)
    return await web.signed_in(await web.user(f"{role}-{tenant}".lower(), role, tenants))


async def audit(web: WebHarness, action: str) -> list[AuditEvent]:
    return list(await AuditLog(web.sessions).list(AuditFilter(action=action)))


async def test_the_page_shows_identity_hardware_health_licences_and_events(fleet: Fleet) -> None:
    me = await signed_in(fleet.web, "technician")
    page = await me.client.get(f"/devices/{fleet.acme.device_id}")
    assert page.status_code == 200, page.text
    html = page.text
    for text in (
        "pc-acme",
        "LENOVO",
        "ThinkPad T14",
        "PF3ABCDE",
        "laptop",
        "AMD Ryzen 7 PRO 5850U",
        "S6Z1NX0T",  # disk serial
        "00:11:22:33:44:55",  # NIC
        "DDR4",
        "Debian GNU/Linux",
        "R1MET56W (1.26)",
        "Reallocated_Sector_Ct",  # SMART attribute of the failing disk
        "FAILED",
        "USB bridge refuses SMART",
        "no fan sensors exposed",  # an unavailable signal and its reason
        "wear 15.0 %",
        "312 cycles",
        "Windows 11 Pro",
        "…3V66T",  # only the last characters of a key
        "GPL-3.0-or-later",
        "enrolled",  # an event
    ):
        assert text in html, text
    # the stored health state and its worst reason (the presence sweep may call it offline)
    assert re.search(r'data-device-state="(critical|offline)"', html)
    assert "/dev/sda fails its SMART health check" in html


async def test_charts_are_containers_drawn_by_a_script_file(fleet: Fleet) -> None:
    me = await signed_in(fleet.web, "read-only")
    page = await me.client.get(f"/devices/{fleet.acme.device_id}")
    html = page.text
    assert not INLINE_SCRIPT.search(html), "inline script on the page"
    assert "/static/device.js?v=" in html and "/static/vendor/uPlot.iife.min.js?v=" in html
    charts = re.findall(r'<figure class="chart" data-chart data-metric="([a-z_]+)"', html)
    assert charts == ["cpu", "memory", "disk", "temperature", "battery_wear"]
    url = f"/api/v1/devices/{fleet.acme.device_id}/series"
    assert f'data-series-url="{url}"' in html
    assert "script-src 'self'" in page.headers["content-security-policy"]
    series = await me.client.get(url, params={"metric": "cpu", "range": "24h"})
    assert series.status_code == 200
    body = series.json()
    assert 20 <= len(body["times"]) <= 25 and [line["label"] for line in body["lines"]] == [
        "average",
        "peak",
    ]
    script = await me.client.get("/static/device.js")
    assert script.status_code == 200 and 'setAttribute("data-drawn", "true")' in script.text


async def test_software_is_searched_and_paged_on_the_server(fleet: Fleet) -> None:
    me = await signed_in(fleet.web, "read-only")
    url = f"/devices/{fleet.acme.device_id}"
    first = (await me.client.get(url)).text
    assert "pkg-000" in first and "pkg-049" in first and "pkg-050" not in first
    assert "120" in first and 'rel="next"' in first
    second = (await me.client.get(url, params={"page": "3"})).text
    assert "pkg-100" in second and "pkg-119" in second and "pkg-099" not in second
    assert 'rel="next"' not in second and 'rel="prev"' in second
    found = (await me.client.get(url, params={"q": "PKG-07"})).text
    assert "pkg-070" in found and "pkg-079" in found and "pkg-080" not in found
    assert "pkg-000" not in found
    assert 'value="PKG-07"' in found
    bad = await me.client.get(url, params={"page": "0"})
    assert bad.status_code == 400


async def test_names_from_agents_are_shown_escaped(fleet: Fleet) -> None:
    web = fleet.web
    device = await seed_device(
        web.sessions, web.data_dir, "Acme", "pc-x", samples=1, packages=software(1)
    )
    await ReportService(web.sessions).store_inventory(
        device.identity,
        [full_inventory("inv-2", device.sample_times[-1], [package(XSS, "1<b>")])],
    )
    await rename(web.sessions, device.device_id, XSS)
    me = await signed_in(web, "technician")
    html = (await me.client.get(f"/devices/{device.device_id}")).text
    assert XSS not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "1&lt;b&gt;" in html


async def test_a_read_only_user_sees_no_action_and_cannot_act(fleet: Fleet) -> None:
    me = await signed_in(fleet.web, "read-only")
    device = fleet.acme.device_id
    html = (await me.client.get(f"/devices/{device}")).text
    assert "Request inventory" not in html and "/revoke" not in html
    assert 'id="add-tag"' not in html
    data = {"csrf_token": me.csrf}
    for path, form in (
        (f"/devices/{device}/tags", {**data, "tag": "kiosk"}),
        (f"/devices/{device}/tags/kiosk/remove", data),
        (f"/devices/{device}/inventory-request", data),
        (f"/devices/{device}/revoke", data),
    ):
        answer = await me.client.post(path, data=form)
        assert answer.status_code == 403, path
    assert (await me.client.get(f"/devices/{device}/revoke")).status_code == 403
    assert await audit(fleet.web, "device.tag") == []
    assert await audit(fleet.web, "device.revoke") == []


async def test_tags_are_added_and_removed_and_audited(fleet: Fleet) -> None:
    me = await signed_in(fleet.web, "technician")
    device = fleet.acme.device_id
    page = await me.client.get(f"/devices/{device}")
    token = csrf_from(page.text)
    added = await me.client.post(
        f"/devices/{device}/tags", data={"csrf_token": token, "tag": "Kiosk"}
    )
    assert added.status_code == 303
    shown = await me.client.get(added.headers["location"])
    assert "Tag added." in shown.text and ">kiosk" in shown.text
    bad = await me.client.post(
        f"/devices/{device}/tags", data={"csrf_token": token, "tag": "no spaces"}
    )
    assert bad.status_code == 400 and 'class="error"' in bad.text
    removed = await me.client.post(
        f"/devices/{device}/tags/kiosk/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 303
    assert ">kiosk" not in (await me.client.get(f"/devices/{device}")).text
    tagged = await audit(fleet.web, "device.tag")
    untagged = await audit(fleet.web, "device.untag")
    assert len(tagged) == 1 and len(untagged) == 1
    event = tagged[0]
    assert event.actor_name == "technician-acme"
    assert event.address == "127.0.0.1"
    assert event.target_id == device


async def test_forms_without_the_csrf_token_are_refused(fleet: Fleet) -> None:
    me = await signed_in(fleet.web, "technician")
    device = fleet.acme.device_id
    for path, form in (
        (f"/devices/{device}/tags", {"tag": "kiosk"}),
        (f"/devices/{device}/inventory-request", {}),
        (f"/devices/{device}/revoke", {"csrf_token": "forged"}),
    ):
        answer = await me.client.post(path, data=form)
        assert answer.status_code == 403, path
        assert "form has expired" in answer.text
    html = (await me.client.get(f"/devices/{device}")).text
    assert "revoked-banner" not in html


async def test_an_inventory_request_is_queued_and_audited(fleet: Fleet) -> None:
    me = await signed_in(fleet.web, "technician")
    device = fleet.acme.device_id
    answer = await me.client.post(
        f"/devices/{device}/inventory-request", data={"csrf_token": me.csrf}
    )
    assert answer.status_code == 303
    assert "Inventory requested" in (await me.client.get(answer.headers["location"])).text
    queued = await CommandService(fleet.web.sessions).undelivered([device])
    assert [c.kind for c in queued] == ["send_inventory"]
    events = await audit(fleet.web, "device.command")
    assert len(events) == 1 and events[0].details["kind"] == "send_inventory"


async def test_revoke_asks_first_then_revokes_audited_and_hides_actions(fleet: Fleet) -> None:
    me = await signed_in(fleet.web, "technician")
    device = fleet.acme.device_id
    confirm = await me.client.get(f"/devices/{device}/revoke")
    assert confirm.status_code == 200
    assert "Revoke pc-acme?" in confirm.text
    assert f'action="/devices/{device}/revoke"' in confirm.text
    done = await me.client.post(
        f"/devices/{device}/revoke", data={"csrf_token": csrf_from(confirm.text)}
    )
    assert done.status_code == 303
    html = (await me.client.get(done.headers["location"])).text
    assert 'data-device-state="revoked"' in html and "revoked-banner" in html
    assert "Request inventory" not in html and 'id="add-tag"' not in html
    events = await audit(fleet.web, "device.revoke")
    assert len(events) == 1
    assert events[0].actor_name == "technician-acme"
    assert events[0].address == "127.0.0.1"
    # Once revoked, no action is offered or taken.
    again = await me.client.post(
        f"/devices/{device}/inventory-request", data={"csrf_token": me.csrf}
    )
    assert again.status_code == 409
    confirm_again = await me.client.get(f"/devices/{device}/revoke")
    assert confirm_again.status_code == 303
    assert confirm_again.headers["location"] == f"/devices/{device}"


async def test_a_revoked_devices_tags_do_not_change(fleet: Fleet) -> None:
    """A tag form posted after the device was revoked (a page left open) is refused with the
    reason shown; the tags and the audit log stay as they were."""
    me = await signed_in(fleet.web, "technician")
    device = fleet.acme.device_id
    token = csrf_from((await me.client.get(f"/devices/{device}")).text)
    tagged = await me.client.post(
        f"/devices/{device}/tags", data={"csrf_token": token, "tag": "kiosk"}
    )
    assert tagged.status_code == 303
    revoked = await me.client.post(f"/devices/{device}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    for path, form in (
        (f"/devices/{device}/tags", {"tag": "loaner"}),
        (f"/devices/{device}/tags/kiosk/remove", {}),
    ):
        refused = await me.client.post(path, data={**form, "csrf_token": token})
        assert refused.status_code == 409, path
        assert 'class="error"' in refused.text and "has been revoked" in refused.text
    assert await TagService(fleet.web.sessions).tags_of(device) == ["kiosk"]
    assert len(await audit(fleet.web, "device.tag")) == 1
    assert await audit(fleet.web, "device.untag") == []


async def test_another_tenants_technician_gets_404_everywhere(fleet: Fleet) -> None:
    me = await signed_in(fleet.web, "technician", "Bravo")
    device = fleet.acme.device_id
    for path in (f"/devices/{device}", f"/devices/{device}/revoke"):
        answer = await me.client.get(path)
        assert answer.status_code == 404, path
        assert "pc-acme" not in answer.text
    data = {"csrf_token": me.csrf, "tag": "kiosk"}
    for path in (
        f"/devices/{device}/tags",
        f"/devices/{device}/tags/kiosk/remove",
        f"/devices/{device}/inventory-request",
        f"/devices/{device}/revoke",
    ):
        answer = await me.client.post(path, data=data)
        assert answer.status_code == 404, path
        assert "pc-acme" not in answer.text
    # ... and the same answer as for a device that does not exist at all
    missing = await me.client.get("/devices/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert (await me.client.get(f"/devices/{fleet.bravo.device_id}")).status_code == 200
    assert await audit(fleet.web, "device.revoke") == []


async def test_only_device_ids_match_and_fixed_paths_still_work(fleet: Fleet) -> None:
    me = await signed_in(fleet.web, "admin")
    assert (await me.client.get("/devices/not-a-device")).status_code == 404
    assert (await me.client.get("/devices/add")).status_code == 200
    assert (await me.client.get("/devices.csv")).status_code == 200
    anonymous = fleet.web.client()
    answer = await anonymous.get(f"/devices/{fleet.acme.device_id}")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
