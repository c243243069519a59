"""``/api/v1/devices`` and ``/api/v1/fleet/overview`` over real HTTP: sessions, API tokens
and their scopes, tenant isolation, filters, paging, bad input."""

from __future__ import annotations

import pytest

from tests.server.services.test_fleet_queries import device_id
from tests.web.conftest import WebHarness
from tests.web.test_api_tenancy import Api, as_user, bearer
from tests.web.test_devices_pages import fleet_web

ACME_HOSTS = ["alpha-01", "alpha-02", "beta-03", "gamma-04"]


__all__ = ["fleet_web"]


def hostnames(body: dict[str, object]) -> list[str]:
    devices = body["devices"]
    assert isinstance(devices, list)
    return [device["hostname"] for device in devices]


async def test_a_technician_lists_only_their_tenants_devices(fleet_web: WebHarness) -> None:
    api = await as_user(fleet_web, "tech", "technician", "Acme")
    listed = await api.get("/api/v1/devices")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert hostnames(body) == ACME_HOSTS
    assert (body["total"], body["total_capped"], body["next_page"]) == (4, False, None)
    first = body["devices"][0]
    assert first["id"] == device_id("alpha-01")
    assert (first["tenant"], first["state"], first["tags"]) == ("Acme", "ok", ["kiosk"])
    other = await api.get("/api/v1/devices?tenant=2")
    assert other.status_code == 200 and other.json()["devices"] == []
    assert other.json()["total"] == 0
    searched = await api.get("/api/v1/devices?q=alpha-b1")
    assert searched.json()["devices"] == []


async def test_an_admin_filters_sorts_and_pages(fleet_web: WebHarness) -> None:
    api = await as_user(fleet_web, "root", "admin")
    critical = await api.get("/api/v1/devices?state=critical&sort=-hostname")
    assert hostnames(critical.json()) == ["beta-03", "alpha-b1"]
    software = await api.get("/api/v1/devices?software=7-Zip")
    assert hostnames(software.json()) == ["alpha-01", "alpha-b1"]
    seen: list[str] = []
    page: int | None = 1
    while page is not None:
        response = await api.get(f"/api/v1/devices?limit=2&page={page}")
        body = response.json()
        seen.extend(hostnames(body))
        assert body["limit"] == 2 and body["total"] == 5
        page = body["next_page"]
    assert seen == ["alpha-01", "alpha-02", "alpha-b1", "beta-03", "gamma-04"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("limit=501", 422),
        ("limit=0", 422),
        ("page=0", 422),
        ("tenant=x", 422),
        ("site=2147483648", 422),
        ("state=sleepy", 400),
        ("sort=colour", 400),
        ("seen_within=soon", 400),
        ("page=5000", 400),  # deeper than the offset cap
        ("q=a%00b", 400),  # PostgreSQL refuses NUL in text: refused before it gets there
    ],
)
async def test_bad_parameters_are_clear_client_errors(
    fleet_web: WebHarness, query: str, status: int
) -> None:
    api = await as_user(fleet_web, "root", "admin")
    response = await api.get(f"/api/v1/devices?{query}")
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]


async def test_the_overview_counts_per_visible_tenant(fleet_web: WebHarness) -> None:
    admin = await as_user(fleet_web, "root", "admin")
    everything = (await admin.get("/api/v1/fleet/overview")).json()
    assert {t["tenant"] for t in everything["tenants"]} == {"Acme", "Bravo"}
    assert everything["totals"]["total"] == 5
    assert [d["hostname"] for d in everything["problems"]] == [
        "alpha-b1",
        "beta-03",
        "alpha-02",
        "gamma-04",
    ]
    tech = await as_user(fleet_web, "tech", "technician", "Acme")
    mine = (await tech.get("/api/v1/fleet/overview")).json()
    assert [t["tenant"] for t in mine["tenants"]] == ["Acme"]
    acme = mine["tenants"][0]
    assert (acme["ok"], acme["warning"], acme["critical"], acme["offline"]) == (1, 1, 1, 1)
    assert (acme["online"], acme["total"], acme["worst"]) == (3, 4, "critical")
    assert "alpha-b1" not in str(mine)


async def test_an_api_token_needs_the_devices_read_scope(fleet_web: WebHarness) -> None:
    reader, _ = await bearer(fleet_web, "sync", "technician", ("Acme",), "devices:read")
    listed = await reader.get("/api/v1/devices")
    assert listed.status_code == 200
    assert hostnames(listed.json()) == ACME_HOSTS
    assert (await reader.get("/api/v1/fleet/overview")).status_code == 200
    other, _ = await bearer(fleet_web, "psa", "technician", ("Acme",), "tokens:read")
    for path in ("/api/v1/devices", "/api/v1/fleet/overview"):
        refused = await other.get(path)
        assert refused.status_code == 403
        assert "alpha" not in refused.text


@pytest.mark.parametrize("path", ["/api/v1/devices", "/api/v1/fleet/overview"])
async def test_anonymous_callers_are_refused(fleet_web: WebHarness, path: str) -> None:
    anonymous = Api(fleet_web.client(), {})
    response = await anonymous.get(path)
    assert response.status_code == 401
    assert "alpha" not in response.text
    bad = Api(fleet_web.client(), {"Authorization": "Bearer parc_not-a-token"})
    assert (await bad.get(path)).status_code == 401


async def test_the_openapi_document_describes_the_fleet_endpoints(fleet_web: WebHarness) -> None:
    document = (await fleet_web.client().get("/api/v1/openapi.json")).json()
    listing = document["paths"]["/api/v1/devices"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"q", "software", "tenant", "site", "state", "tag", "sort", "page", "limit"} <= names
    assert "/api/v1/fleet/overview" in document["paths"]
    assert "DeviceListOut" in document["components"]["schemas"]
