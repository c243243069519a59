"""``/api/v1/devices/{id}/…`` over real HTTP: sessions and API tokens, scopes, tenant
isolation, bad input, audit."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from server.services.audit import AuditFilter, AuditLog
from server.services.commands import CommandService
from server.services.device_series import METRICS, RANGES
from server.services.records import CLI_ACTOR, AuditEvent
from server.services.tags import TagService
from server.web.api.device import Metric, Range
from tests.web.conftest import WebHarness
from tests.web.devices import SeededDevice, seed_device, software


@dataclass
class Api:
    client: httpx.AsyncClient
    headers: dict[str, str]

    async def call(
        self, method: str, path: str, params: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.request(method, path, headers=self.headers, params=params)


@dataclass
class Fleet:
    web: WebHarness
    acme: SeededDevice
    bravo: SeededDevice


@pytest.fixture
async def fleet(web: WebHarness) -> Fleet:
    acme = await seed_device(web.sessions, web.data_dir, "Acme", "pc-acme", packages=software(75))
    bravo = await seed_device(web.sessions, web.data_dir, "Bravo", "pc-bravo", samples=2)
    return Fleet(web, acme, bravo)


async def session_api(web: WebHarness, username: str, role: str, *tenants: str) -> Api:
    me = await web.signed_in(await web.user(username, role, tenants))
    return Api(me.client, {"X-CSRF-Token": me.csrf})


async def bearer(web: WebHarness, username: str, tenant: str, *scopes: str) -> Api:
    await web.user(username, "technician", (tenant,))
    user = await web.accounts.get_user(username)
    issued = await web.accounts.create_api_token(user.id, "ci", scopes, actor=CLI_ACTOR)
    return Api(web.client(), {"Authorization": f"Bearer {issued.secret}"})


async def audit(web: WebHarness, action: str) -> list[AuditEvent]:
    return await AuditLog(web.sessions).list(AuditFilter(action=action))


def routes(device: str) -> list[tuple[str, str, dict[str, str] | None]]:
    base = f"/api/v1/devices/{device}"
    return [
        ("GET", base, None),
        ("GET", f"{base}/software", {"q": "pkg"}),
        ("GET", f"{base}/licences", None),
        ("GET", f"{base}/events", None),
        ("GET", f"{base}/series", {"metric": "cpu", "range": "7d"}),
        ("PUT", f"{base}/tags/kiosk", None),
        ("DELETE", f"{base}/tags/kiosk", None),
        ("POST", f"{base}/inventory-request", None),
        ("POST", f"{base}/revoke", None),
    ]


async def test_the_detail_holds_identity_hardware_and_health(fleet: Fleet) -> None:
    api = await session_api(fleet.web, "tech", "technician", "Acme")
    answer = await api.call("GET", f"/api/v1/devices/{fleet.acme.device_id}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == fleet.acme.device_id and body["hostname"] == "pc-acme"
    assert body["tenant"] == "Acme" and body["site"] == "HQ"
    assert body["state"] in ("critical", "offline") and body["revoked_at"] is None
    assert "fails its SMART health check" in body["health_summary"]
    assert body["inventory"]["serial_number"] == "PF3ABCDE"
    assert body["inventory"]["disks"][0]["type"] == "nvme"
    assert body["health"]["batteries"][0]["wear_percent"] == 15.0
    assert body["health"]["unavailable"] == [{"signal": "fans", "reason": "no fan sensors exposed"}]


async def test_software_is_searched_and_paged(fleet: Fleet) -> None:
    api = await session_api(fleet.web, "ro", "read-only", "Acme")
    path = f"/api/v1/devices/{fleet.acme.device_id}/software"
    first = (await api.call("GET", path, {"limit": "50"})).json()
    assert first["total"] == 75 and first["has_next"] and len(first["items"]) == 50
    assert first["items"][0]["name"] == "pkg-000"
    second = (await api.call("GET", path, {"limit": "50", "page": "2"})).json()
    assert [i["name"] for i in second["items"]][-1] == "pkg-074" and not second["has_next"]
    found = (await api.call("GET", path, {"q": "Pkg-06"})).json()
    assert found["total"] == 10 and {i["name"] for i in found["items"]} == {
        f"pkg-06{n}" for n in range(10)
    }
    # LIKE wildcards are searched for literally
    assert (await api.call("GET", path, {"q": "pkg_0"})).json()["total"] == 0
    assert (await api.call("GET", path, {"q": "%"})).json()["total"] == 0


async def test_licences_events_and_series(fleet: Fleet) -> None:
    api = await session_api(fleet.web, "ro", "read-only", "Acme")
    base = f"/api/v1/devices/{fleet.acme.device_id}"
    licences = (await api.call("GET", f"{base}/licences")).json()
    assert licences["activations"][0]["partial_product_key"] == "3V66T"
    assert {p["spdx"] for p in licences["packages"]} == {"GPL-3.0-or-later", "MIT"}
    events = (await api.call("GET", f"{base}/events")).json()
    assert "enrolled" in [e["kind"] for e in events]
    for metric in METRICS:
        for range_name in RANGES:
            answer = await api.call(
                "GET", f"{base}/series", {"metric": metric, "range": range_name}
            )
            assert answer.status_code == 200, (metric, range_name)
            body = answer.json()
            assert len(body["times"]) <= 300
            assert all(len(line["values"]) == len(body["times"]) for line in body["lines"])
    week = (await api.call("GET", f"{base}/series", {"metric": "disk", "range": "7d"})).json()
    assert len(week["times"]) == 48  # hourly samples, 33.6-minute buckets
    assert {line["label"] for line in week["lines"]} == {"/", "/boot"}
    temps = (await api.call("GET", f"{base}/series", {"metric": "temperature"})).json()
    assert "coretemp Package id 0" in {line["label"] for line in temps["lines"]}


def test_the_api_names_the_same_metrics_and_ranges_as_the_service() -> None:
    assert Metric.__args__ == METRICS  # type: ignore[attr-defined]
    assert Range.__args__ == tuple(RANGES)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("suffix", "params"),
    [
        ("/series", {"metric": "gpu"}),
        ("/series", {"metric": "cpu", "range": "1y"}),
        ("/series", {}),
        ("/software", {"page": "0"}),
        ("/software", {"limit": "501"}),
        ("/software", {"q": "x" * 201}),
        ("/events", {"limit": "0"}),
    ],
)
async def test_bad_input_is_422(fleet: Fleet, suffix: str, params: dict[str, str]) -> None:
    api = await session_api(fleet.web, "ro", "read-only", "Acme")
    answer = await api.call("GET", f"/api/v1/devices/{fleet.acme.device_id}{suffix}", params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_request"


async def test_tags_put_and_delete_are_audited(fleet: Fleet) -> None:
    api = await bearer(fleet.web, "sync", "Acme", "devices:read", "devices:write")
    base = f"/api/v1/devices/{fleet.acme.device_id}/tags"
    put = await api.call("PUT", f"{base}/Loaner")
    assert put.status_code == 200 and put.json() == {"tags": ["loaner"], "changed": True}
    again = await api.call("PUT", f"{base}/loaner")
    assert again.json()["changed"] is False
    bad = await api.call("PUT", f"{base}/-bad")
    assert bad.status_code == 422
    gone = await api.call("DELETE", f"{base}/loaner")
    assert gone.json() == {"tags": [], "changed": True}
    tagged = await audit(fleet.web, "device.tag")
    assert len(tagged) == 1 and tagged[0].actor.startswith("api-token:")
    assert tagged[0].details == {"tag": "loaner"} and tagged[0].address == "127.0.0.1"
    assert len(await audit(fleet.web, "device.untag")) == 1


async def test_a_revoked_devices_tags_do_not_change(fleet: Fleet) -> None:
    """Adding or removing a tag on a revoked device is a 409 with the reason; the tags and
    the audit log stay as they were."""
    api = await bearer(fleet.web, "sync", "Acme", "devices:read", "devices:write")
    base = f"/api/v1/devices/{fleet.acme.device_id}"
    assert (await api.call("PUT", f"{base}/tags/kiosk")).status_code == 200
    assert (await api.call("POST", f"{base}/revoke")).status_code == 200
    for method, tag in (("PUT", "loaner"), ("PUT", "kiosk"), ("DELETE", "kiosk")):
        refused = await api.call(method, f"{base}/tags/{tag}")
        assert refused.status_code == 409, (method, tag, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "failed_precondition"
        assert "has been revoked" in error["message"]
    assert await TagService(fleet.web.sessions).tags_of(fleet.acme.device_id) == ["kiosk"]
    assert len(await audit(fleet.web, "device.tag")) == 1
    assert await audit(fleet.web, "device.untag") == []
    document = (await api.call("GET", "/api/v1/openapi.json")).json()
    operations = document["paths"]["/api/v1/devices/{device_id}/tags/{tag}"]
    assert "409" in operations["put"]["responses"] and "409" in operations["delete"]["responses"]


async def test_inventory_request_and_revoke_are_audited(fleet: Fleet) -> None:
    api = await session_api(fleet.web, "tech", "technician", "Acme")
    base = f"/api/v1/devices/{fleet.acme.device_id}"
    queued = await api.call("POST", f"{base}/inventory-request")
    assert queued.status_code == 202 and queued.json()["kind"] == "send_inventory"
    pending = await CommandService(fleet.web.sessions).undelivered([fleet.acme.device_id])
    assert [c.command_id for c in pending] == [queued.json()["command_id"]]
    revoked = await api.call("POST", f"{base}/revoke")
    assert revoked.status_code == 200 and revoked.json()["changed"] is True
    assert (await api.call("GET", base)).json()["state"] == "revoked"
    twice = await api.call("POST", f"{base}/revoke")
    assert twice.json()["changed"] is False
    assert (await api.call("POST", f"{base}/inventory-request")).status_code == 409
    events = await audit(fleet.web, "device.revoke")
    assert len(events) == 1 and events[0].actor_name == "tech"
    assert len(await audit(fleet.web, "device.command")) == 1


async def test_writes_need_the_csrf_header_with_a_session(fleet: Fleet) -> None:
    api = await session_api(fleet.web, "tech", "technician", "Acme")
    bare = Api(api.client, {})
    for method, path, params in routes(fleet.acme.device_id):
        if method == "GET":
            continue
        answer = await bare.call(method, path, params)
        assert answer.status_code == 403, path
        assert answer.json()["error"]["code"] == "csrf"
    assert await audit(fleet.web, "device.revoke") == []
    assert await audit(fleet.web, "device.tag") == []


async def test_scopes_and_roles_limit_what_a_caller_may_do(fleet: Fleet) -> None:
    reader = await bearer(fleet.web, "reader", "Acme", "devices:read")
    other = await bearer(fleet.web, "psa", "Acme", "tokens:read")
    read_only = await session_api(fleet.web, "ro", "read-only", "Acme")
    for method, path, params in routes(fleet.acme.device_id):
        if method == "GET":
            assert (await reader.call(method, path, params)).status_code == 200, path
            assert (await read_only.call(method, path, params)).status_code == 200, path
        else:
            assert (await reader.call(method, path, params)).status_code == 403, path
            assert (await read_only.call(method, path, params)).status_code == 403, path
        refused = await other.call(method, path, params)
        assert refused.status_code == 403, path
        assert "pc-acme" not in refused.text


async def test_another_tenants_technician_gets_404_on_every_route(fleet: Fleet) -> None:
    session = await session_api(fleet.web, "bravo-tech", "technician", "Bravo")
    token = await bearer(fleet.web, "bravo-sync", "Bravo", "devices:read", "devices:write")
    missing = routes("00000000-0000-4000-8000-000000000000")
    for caller in (session, token):
        for (method, path, params), (_, gone, _) in zip(
            routes(fleet.acme.device_id), missing, strict=True
        ):
            answer = await caller.call(method, path, params)
            assert answer.status_code == 404, (method, path)
            assert "pc-acme" not in answer.text and "Acme" not in answer.text
            absent = await caller.call(method, gone, params)
            assert absent.status_code == 404
            assert answer.json()["error"]["code"] == absent.json()["error"]["code"]
        own = await caller.call("GET", f"/api/v1/devices/{fleet.bravo.device_id}")
        assert own.status_code == 200
    assert await audit(fleet.web, "device.revoke") == []
    assert await audit(fleet.web, "device.tag") == []
    assert await CommandService(fleet.web.sessions).undelivered([fleet.acme.device_id]) == []


async def test_anonymous_callers_are_refused(fleet: Fleet) -> None:
    anonymous = Api(fleet.web.client(), {})
    for method, path, params in routes(fleet.acme.device_id):
        answer = await anonymous.call(method, path, params)
        assert answer.status_code in (401, 403), path
        assert "pc-acme" not in answer.text


async def test_the_openapi_document_describes_the_device_endpoints(fleet: Fleet) -> None:
    document = (await fleet.web.client().get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    base = "/api/v1/devices/{device_id}"
    assert set(paths[base]) == {"get"}
    assert {"put", "delete"} <= set(paths[base + "/tags/{tag}"])
    for suffix in ("/software", "/licences", "/events", "/series"):
        assert "get" in paths[base + suffix]
    assert "post" in paths[base + "/revoke"] and "post" in paths[base + "/inventory-request"]
    names = {p["name"] for p in paths[base + "/series"]["get"]["parameters"]}
    assert {"device_id", "metric", "range"} <= names
    assert "DeviceDetailOut" in document["components"]["schemas"]
