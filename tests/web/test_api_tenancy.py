"""``/api/v1/tenants`` and ``/api/v1/enrolment-tokens`` over real HTTP, with sessions and API
tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from server.services.audit import AuditFilter, AuditLog
from server.services.clock import utc_now
from server.services.records import CLI_ACTOR, AuditEvent
from server.services.tokens import TokenService
from tests.web.conftest import SignedIn, WebHarness
from tests.web.test_tenancy_pages import SECRET, XSS, enrol, site_id, tenant_id, tokens


class Api:
    """A client of the REST API: a signed-in session (CSRF header on writes) or a bearer."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path, headers=self.headers)

    async def post(self, path: str, body: object | None = None) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers)


def session_api(me: SignedIn) -> Api:
    return Api(me.client, {"X-CSRF-Token": me.csrf})


async def as_user(web: WebHarness, username: str, role: str, *tenants: str) -> Api:
    return session_api(await web.signed_in(await web.user(username, role, tenants)))


async def bearer(
    web: WebHarness, username: str, role: str, tenants: tuple[str, ...], *scopes: str
) -> tuple[Api, int]:
    await web.user(username, role, tenants)
    user = await web.accounts.get_user(username)
    issued = await web.accounts.create_api_token(user.id, "ci", scopes, actor=CLI_ACTOR)
    return Api(web.client(), {"Authorization": f"Bearer {issued.secret}"}), issued.token_id


async def events(web: WebHarness, action: str) -> list[AuditEvent]:
    return await AuditLog(web.sessions).list(AuditFilter(action=action))


# --- tenants and sites ------------------------------------------------------------------------


async def test_admin_creates_and_lists_tenants_and_sites(web: WebHarness) -> None:
    api = await as_user(web, "admin", "admin")
    created = await api.post("/api/v1/tenants", {"name": "Globex"})
    assert created.status_code == 201, created.text
    globex = created.json()
    assert (globex["name"], globex["sites"], globex["device_count"]) == ("Globex", [], 0)
    datetime.fromisoformat(globex["created_at"])

    site = await api.post(f"/api/v1/tenants/{globex['id']}/sites", {"name": "Paris"})
    assert site.status_code == 201, site.text
    assert site.json()["tenant_id"] == globex["id"]
    assert (site.json()["name"], site.json()["tenant"]) == ("Paris", "Globex")

    issued = await TokenService(web.sessions).create("Globex", "Paris", 1, timedelta(hours=1))
    await enrol(web, issued.secret)
    listing = (await api.get("/api/v1/tenants")).json()
    [entry] = [t for t in listing if t["name"] == "Globex"]
    assert entry["device_count"] == 1
    assert [(s["name"], s["device_count"]) for s in entry["sites"]] == [("Paris", 1)]
    sites = (await api.get(f"/api/v1/tenants/{globex['id']}/sites")).json()
    assert [s["name"] for s in sites] == ["Paris"]

    [tenant_event] = await events(web, "tenant.create")
    [site_event] = await events(web, "site.create")
    for event in (tenant_event, site_event):
        assert (event.actor_name, event.address, event.tenant_id) == (
            "admin",
            "127.0.0.1",
            globex["id"],
        )


async def test_tenant_input_is_validated(web: WebHarness) -> None:
    api = await as_user(web, "admin", "admin")
    await api.post("/api/v1/tenants", {"name": "Acme"})
    for body, status in [
        ({"name": ""}, 422),
        ({"name": "x" * 65}, 422),
        ({}, 422),
        ({"name": "Ok", "extra": 1}, 422),
        ({"name": 5}, 422),
        ({"name": "   "}, 400),
        ({"name": "Acme"}, 409),
    ]:
        response = await api.post("/api/v1/tenants", body)
        assert response.status_code == status, body
        assert response.json()["error"]["message"]
    assert [t.name for t in await web.tenancy.list_tenants()] == ["Acme"]
    acme = await tenant_id(web, "Acme")
    missing = await api.post(f"/api/v1/tenants/{acme + 50}/sites", {"name": "HQ"})
    assert missing.status_code == 404
    assert (await api.get(f"/api/v1/tenants/{acme + 50}/sites")).status_code == 404


async def test_technician_sees_own_tenants_and_other_tenants_are_not_found(
    web: WebHarness,
) -> None:
    await web.tenancy.ensure_site("Globex", "HQ")
    api = await as_user(web, "tech", "technician", "Acme")
    listing = (await api.get("/api/v1/tenants")).json()
    assert [t["name"] for t in listing] == ["Acme"]
    globex = await tenant_id(web, "Globex")
    acme = await tenant_id(web, "Acme")
    assert (await api.get(f"/api/v1/tenants/{globex}/sites")).status_code == 404
    assert (await api.post(f"/api/v1/tenants/{globex}/sites", {"name": "X"})).status_code == 404
    assert (await api.post(f"/api/v1/tenants/{acme}/sites", {"name": "X"})).status_code == 403
    assert (await api.post("/api/v1/tenants", {"name": "Mine"})).status_code == 403
    assert len(await web.tenancy.list_sites()) == 2


async def test_session_writes_need_the_csrf_header(web: WebHarness) -> None:
    me = await web.signed_in(await web.user("admin", "admin"))
    await web.tenancy.ensure_site("Acme", "HQ")
    no_header = Api(me.client, {})
    assert (await no_header.post("/api/v1/tenants", {"name": "Globex"})).status_code == 403
    acme_hq = await site_id(web, "Acme")
    response = await no_header.post("/api/v1/enrolment-tokens", {"site_id": acme_hq})
    assert response.status_code == 403
    assert [t.name for t in await web.tenancy.list_tenants()] == ["Acme"]
    assert await tokens(web) == []
    assert (await no_header.get("/api/v1/tenants")).status_code == 200


# --- enrolment tokens -------------------------------------------------------------------------


async def test_token_secret_is_returned_once_and_enrols(web: WebHarness) -> None:
    api = await as_user(web, "tech", "technician", "Acme")
    acme_hq = await site_id(web, "Acme")
    created = await api.post(
        "/api/v1/enrolment-tokens", {"site_id": acme_hq, "uses": 2, "expires": "7d"}
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    assert SECRET.fullmatch(body["secret"])
    assert (body["tenant"], body["site"], body["uses_allowed"]) == ("Acme", "HQ", 2)
    assert f"--token {body['secret']}" in body["enrol_command"]
    assert f"--server {web.collector.agent_address}" in body["enrol_command"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=7) - timedelta(minutes=5) < expires - utc_now() <= timedelta(days=7)

    listing = await api.get("/api/v1/enrolment-tokens")
    assert body["secret"] not in listing.text
    [token] = listing.json()
    assert "secret" not in token
    assert (token["id"], token["state"], token["uses_count"]) == (body["id"], "active", 0)
    one = await api.get(f"/api/v1/enrolment-tokens/{body['id']}")
    assert body["secret"] not in one.text

    await enrol(web, body["secret"])
    await enrol(web, body["secret"])
    used = (await api.get(f"/api/v1/enrolment-tokens/{body['id']}")).json()
    assert (used["state"], used["uses_count"]) == ("used up", 2)

    [event] = await events(web, "token.create")
    assert (event.actor_name, event.address) == ("tech", "127.0.0.1")
    assert event.target_id == str(body["id"])
    assert body["secret"] not in repr(event)


async def test_token_input_is_validated(web: WebHarness) -> None:
    await web.tenancy.ensure_site("Globex", "HQ")
    api = await as_user(web, "tech", "technician", "Acme")
    acme_hq = await site_id(web, "Acme")
    for body, status in [
        ({"site_id": acme_hq, "uses": 0}, 422),
        ({"site_id": acme_hq, "uses": 100_001}, 422),
        ({"site_id": acme_hq, "expires": "1w"}, 422),
        ({"site_id": acme_hq, "expires": "24 hours"}, 422),
        ({"site_id": acme_hq, "expires": "0s"}, 400),
        ({"site_id": "HQ"}, 422),
        ({"uses": 1}, 422),
        ({"site_id": acme_hq, "secret": "mine"}, 422),
        ({"site_id": acme_hq + 100}, 404),
        ({"site_id": await site_id(web, "Globex")}, 404),
        ({"site_id": acme_hq, "tenant_id": await tenant_id(web, "Globex")}, 404),
    ]:
        response = await api.post("/api/v1/enrolment-tokens", body)
        assert response.status_code == status, body
        assert "secret" not in response.json()
    assert await tokens(web) == []
    right = await api.post(
        "/api/v1/enrolment-tokens",
        {"site_id": acme_hq, "tenant_id": await tenant_id(web, "Acme"), "expires": "90s"},
    )
    assert right.status_code == 201


async def test_other_tenants_tokens_are_invisible_and_cannot_be_revoked(web: WebHarness) -> None:
    service = TokenService(web.sessions)
    theirs = await service.create("Globex", "HQ", 1, timedelta(hours=1))
    mine = await service.create("Acme", "HQ", 1, timedelta(hours=1))
    api = await as_user(web, "tech", "technician", "Acme")
    assert [t["id"] for t in (await api.get("/api/v1/enrolment-tokens")).json()] == [mine.token_id]
    assert (await api.get(f"/api/v1/enrolment-tokens/{theirs.token_id}")).status_code == 404
    denied = await api.post(f"/api/v1/enrolment-tokens/{theirs.token_id}/revoke")
    assert denied.status_code == 404
    assert denied.json()["error"]["code"] == "not_found"
    assert (await service.get(theirs.token_id)).state == "active"

    revoked = await api.post(f"/api/v1/enrolment-tokens/{mine.token_id}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert revoked.json()["revoked_at"] is not None
    again = await api.post(f"/api/v1/enrolment-tokens/{mine.token_id}/revoke")
    assert again.status_code == 200
    [event] = await events(web, "token.revoke")
    assert (event.actor_name, event.address, event.target_id) == (
        "tech",
        "127.0.0.1",
        str(mine.token_id),
    )


async def test_read_only_cannot_create_or_revoke(web: WebHarness) -> None:
    token = await TokenService(web.sessions).create("Acme", "HQ", 1, timedelta(hours=1))
    api = await as_user(web, "viewer", "read-only", "Acme")
    assert [t["id"] for t in (await api.get("/api/v1/enrolment-tokens")).json()] == [token.token_id]
    acme_hq = await site_id(web, "Acme")
    assert (await api.post("/api/v1/enrolment-tokens", {"site_id": acme_hq})).status_code == 403
    revoke = await api.post(f"/api/v1/enrolment-tokens/{token.token_id}/revoke")
    assert revoke.status_code == 403
    assert (await api.post("/api/v1/tenants", {"name": "X"})).status_code == 403
    assert [t.state for t in await tokens(web)] == ["active"]


async def test_api_tokens_act_within_their_scopes_and_are_audited(web: WebHarness) -> None:
    reader, _ = await bearer(web, "bot", "technician", ("Acme",), "tokens:read", "tenants:read")
    acme_hq = await site_id(web, "Acme")
    assert (await reader.get("/api/v1/enrolment-tokens")).status_code == 200
    refused = await reader.post("/api/v1/enrolment-tokens", {"site_id": acme_hq})
    assert refused.status_code == 403

    writer, writer_id = await bearer(web, "bot2", "technician", ("Acme",), "tokens:write")
    created = await writer.post("/api/v1/enrolment-tokens", {"site_id": acme_hq})
    assert created.status_code == 201, created.text
    assert (await writer.get("/api/v1/enrolment-tokens")).status_code == 403
    [event] = await events(web, "token.create")
    assert event.actor == f"api-token:{writer_id}"
    assert event.actor_name == "bot2"


async def test_names_come_back_as_data(web: WebHarness) -> None:
    api = await as_user(web, "admin", "admin")
    created = await api.post("/api/v1/tenants", {"name": XSS})
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json"
    assert [t["name"] for t in (await api.get("/api/v1/tenants")).json()] == [XSS]


async def test_openapi_describes_the_routes(web: WebHarness) -> None:
    document = (await web.client().get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/api/v1/tenants",
        "/api/v1/tenants/{tenant_id}/sites",
        "/api/v1/enrolment-tokens",
        "/api/v1/enrolment-tokens/{token_id}/revoke",
    ):
        assert path in paths
    assert "secret" not in document["components"]["schemas"]["TokenOut"]["properties"]
    assert not any(p.startswith(("/tokens", "/tenants", "/devices")) for p in paths)
    assert not SECRET.search(str(document))
