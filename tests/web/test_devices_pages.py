"""The fleet overview, /devices, its CSV export and presence, over real HTTP.

The fleet of ``tests.server.services.test_fleet_queries`` is written into the collector's
store: tenant Acme (alpha-01, alpha-02, beta-03, gamma-04) and Bravo (alpha-b1).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import update

from server.services.audit import AuditFilter, AuditLog
from server.services.clock import utc_now
from server.store.models import DeviceRow
from tests.server.services.test_fleet_queries import device_id, seed_fleet
from tests.web.conftest import SignedIn, WebHarness

ACME_HOSTS = ("alpha-01", "alpha-02", "beta-03", "gamma-04")
XSS = "<script>alert('x')</script>"


# The collector's presence sweep runs on the real clock: the fleet is dated an hour ahead so
# that the sweep leaves every device as seeded (online ones stay "seen recently").
SEED_AHEAD = timedelta(hours=1)


@pytest.fixture
async def fleet_web(web: WebHarness) -> WebHarness:
    await seed_fleet(web.sessions, utc_now() + SEED_AHEAD)
    return web


async def technician(web: WebHarness, role: str = "technician") -> SignedIn:
    return await web.signed_in(await web.user(f"tech-{role}", role, ("Acme",)))


async def admin(web: WebHarness) -> SignedIn:
    return await web.signed_in(await web.user("root", "admin"))


async def test_the_overview_counts_every_tenant_for_an_admin_worst_first(
    fleet_web: WebHarness,
) -> None:
    me = await admin(fleet_web)
    page = await me.client.get("/")
    assert page.status_code == 200
    html = page.text
    assert "Acme" in html and "Bravo" in html
    # critical devices come first in the problems table, then warning, then offline
    problems = html[html.index("fleet-problems") :]
    order = [problems.index(h) for h in ("alpha-b1", "beta-03", "alpha-02", "gamma-04")]
    assert order == sorted(order)
    assert f'href="/devices/{device_id("beta-03")}"' in html
    assert 'href="/devices?tenant=1&amp;state=critical"' in html
    assert "alpha-01" not in problems  # ok devices are not problems


async def test_a_technician_never_sees_another_tenant_on_the_overview(
    fleet_web: WebHarness,
) -> None:
    me = await technician(fleet_web)
    html = (await me.client.get("/")).text
    assert "Acme" in html
    assert "Bravo" not in html and "alpha-b1" not in html


async def test_the_devices_list_of_a_technician_holds_only_their_tenant(
    fleet_web: WebHarness,
) -> None:
    me = await technician(fleet_web)
    page = await me.client.get("/devices")
    assert page.status_code == 200
    for host in ACME_HOSTS:
        assert host in page.text
    assert "alpha-b1" not in page.text and "Bravo" not in page.text
    asked = await me.client.get("/devices", params={"tenant": "2"})
    assert asked.status_code == 200
    assert "alpha-b1" not in asked.text and "No device matches" in asked.text
    searched = await me.client.get("/devices", params={"q": "alpha-b1"})
    assert "No device matches" in searched.text


async def test_filters_search_sort_and_pages_are_query_parameters(fleet_web: WebHarness) -> None:
    me = await admin(fleet_web)
    page = await me.client.get("/devices", params={"software": "7-zip", "sort": "-hostname"})
    assert page.status_code == 200
    assert page.text.index("alpha-b1") < page.text.index("alpha-01")
    assert "alpha-02" not in page.text  # no 7-Zip there
    first = await me.client.get("/devices", params={"per_page": "25", "state": "critical"})
    assert "beta-03" in first.text and "alpha-b1" in first.text and "alpha-01" not in first.text
    # the CSV link carries the same filter
    assert 'href="/devices.csv?per_page=25&amp;state=critical"' in first.text
    paged = await me.client.get("/devices", params={"per_page": "25", "page": "2"})
    assert paged.status_code == 200 and "No device matches" in paged.text
    assert 'rel="prev" href="/devices?page=1&amp;per_page=25"' in paged.text


@pytest.mark.parametrize(
    "params", [{"state": "sleepy"}, {"page": "0"}, {"per_page": "9999"}, {"seen_within": "x"}]
)
async def test_a_malformed_filter_is_a_clear_400(
    fleet_web: WebHarness, params: dict[str, str]
) -> None:
    me = await admin(fleet_web)
    page = await me.client.get("/devices", params=params)
    assert page.status_code == 400
    assert 'class="error"' in page.text


async def test_names_are_escaped(fleet_web: WebHarness) -> None:
    async with fleet_web.sessions.begin() as session:
        await session.execute(
            update(DeviceRow).where(DeviceRow.id == device_id("alpha-02")).values(hostname=XSS)
        )
    me = await admin(fleet_web)
    for path in ("/", "/devices"):
        html = (await me.client.get(path)).text
        assert XSS not in html
        assert "&lt;script&gt;" in html


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("role", ["technician", "read-only"])
async def test_the_csv_export_holds_every_visible_match_escaped_and_is_audited(
    fleet_web: WebHarness, role: str
) -> None:
    me = await technician(fleet_web, role)
    response = await me.client.get("/devices.csv", params={"per_page": "1", "sort": "hostname"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = parse_csv(response.text)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["device_id", "hostname", "tenant"]
    assert [row[1] for row in body] == list(ACME_HOSTS)  # all pages, not one
    serial = header.index("serial_number")
    assert body[1][serial] == "'=cmd|' /C calc'!A0"
    assert "alpha-b1" not in response.text
    events = await AuditLog(fleet_web.sessions).list(AuditFilter(action="devices.export"))
    assert len(events) == 1
    assert events[0].actor_name == f"tech-{role}"
    assert events[0].details == {"filter": {"per_page": "1", "sort": "hostname"}}


async def test_presence_answers_only_for_visible_devices(fleet_web: WebHarness) -> None:
    me = await technician(fleet_web)
    ids = ",".join(device_id(h) for h in ("alpha-01", "gamma-04", "alpha-b1"))
    response = await me.client.get("/devices/presence", params={"ids": ids})
    assert response.status_code == 200
    found = {d["id"]: (d["online"], d["state"]) for d in response.json()["devices"]}
    assert found == {device_id("alpha-01"): (True, "ok"), device_id("gamma-04"): (False, "offline")}
    too_many = await me.client.get(
        "/devices/presence", params={"ids": ",".join(map(str, range(501)))}
    )
    assert too_many.status_code == 400


async def test_the_list_page_polls_presence_with_its_own_script(fleet_web: WebHarness) -> None:
    me = await admin(fleet_web)
    html = (await me.client.get("/devices")).text
    assert 'data-presence-url="/devices/presence"' in html
    assert "/static/devices.js?v=" in html
    script = await me.client.get("/static/devices.js")
    assert script.status_code == 200
    assert "data-presence-url" in script.text and "setInterval" in script.text


@pytest.mark.parametrize(
    "path", ["/", "/devices", "/devices.csv", "/devices/presence?ids=x", "/devices?tenant=1"]
)
async def test_anonymous_visitors_are_sent_to_sign_in(fleet_web: WebHarness, path: str) -> None:
    response = await fleet_web.client().get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert "alpha" not in response.text


async def test_every_response_carries_server_timing(fleet_web: WebHarness) -> None:
    me = await admin(fleet_web)
    for path in ("/devices", "/devices.csv", "/no/such/page", "/static/parc.css"):
        response = await me.client.get(path)
        timing = response.headers.get("server-timing", "")
        assert timing.startswith("app;dur="), (path, timing)
        assert float(timing.removeprefix("app;dur=")) >= 0
