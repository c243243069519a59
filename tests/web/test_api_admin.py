"""``/api/v1/users``, ``/api/v1/api-tokens`` and ``/api/v1/audit`` over real HTTP."""

from __future__ import annotations

import httpx

from server.services.audit import AuditFilter, AuditLog
from server.services.records import CLI_ACTOR, AuditEvent
from tests.web.conftest import WebHarness


class Api:
    """A REST client: a signed-in session (CSRF header on writes) or a bearer token."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def get(self, path: str, **params: str | int) -> httpx.Response:
        return await self.client.get(path, headers=self.headers, params=params)

    async def post(self, path: str, body: object | None = None) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers)

    async def patch(self, path: str, body: object) -> httpx.Response:
        return await self.client.patch(path, json=body, headers=self.headers)

    async def delete(self, path: str) -> httpx.Response:
        return await self.client.delete(path, headers=self.headers)


async def as_user(web: WebHarness, username: str, role: str, *tenants: str) -> Api:
    me = await web.signed_in(await web.user(username, role, tenants))
    return Api(me.client, {"X-CSRF-Token": me.csrf})


async def bearer(web: WebHarness, username: str, *scopes: str) -> tuple[Api, int]:
    user = await web.accounts.get_user(username)
    issued = await web.accounts.create_api_token(user.id, "ci", scopes, actor=CLI_ACTOR)
    return Api(web.client(), {"Authorization": f"Bearer {issued.secret}"}), issued.token_id


async def events(web: WebHarness, action: str) -> list[AuditEvent]:
    return await AuditLog(web.sessions).list(AuditFilter(action=action))


# --- users ---------------------------------------------------------------------------------------


async def test_admin_creates_lists_and_updates_users(web: WebHarness) -> None:
    api = await as_user(web, "root", "admin")
    await web.tenancy.ensure_site("Acme", "HQ")
    await web.tenancy.ensure_site("Globex", "HQ")
    created = await api.post(
        "/api/v1/users", {"username": "Alice", "role": "technician", "tenants": ["Acme"]}
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    password = body["one_time_password"]
    assert body["user"]["username"] == "alice" and body["user"]["tenants"] == ["Acme"]
    assert body["user"]["must_change_password"] is True
    listing = await api.get("/api/v1/users")
    assert [u["username"] for u in listing.json()] == ["alice", "root"]
    assert password not in listing.text
    assert listing.json()[1]["last_sign_in"] is not None
    changed = await api.patch(
        "/api/v1/users/alice", {"role": "read-only", "tenants": ["Globex"], "enabled": False}
    )
    assert changed.status_code == 200, changed.text
    alice = changed.json()
    assert (alice["role"], alice["tenants"], alice["enabled"]) == ("read-only", ["Globex"], False)
    assert (await api.get("/api/v1/users/alice")).json() == alice
    for action in ("user.create", "user.set_role", "user.grant", "user.revoke_grant"):
        event = (await events(web, action))[0]
        assert (event.actor_name, event.address) == ("root", "127.0.0.1"), action
    [disabled] = await events(web, "user.disable")
    assert disabled.actor_name == "root"
    assert password not in repr(await AuditLog(web.sessions).list())


async def test_user_api_refuses_bad_input_and_changes_nothing(web: WebHarness) -> None:
    api = await as_user(web, "root", "admin")
    await web.user("bob", "technician", ("Acme",))
    before = await api.get("/api/v1/users/bob")
    for body, status in (
        ({"username": "bob", "role": "god"}, 422),
        ({"username": "x", "role": "admin", "password": "mine"}, 422),
        ({"username": "bad name", "role": "admin"}, 400),
        ({"username": "bob", "role": "admin"}, 409),
        ({"username": "carol", "role": "admin", "tenants": ["Nowhere"]}, 404),
    ):
        response = await api.post("/api/v1/users", body)
        assert response.status_code == status, (body, response.text)
        assert "one_time_password" not in response.text
    for patch, status in (
        ({"role": "god"}, 422),
        ({"nickname": "b"}, 422),
        ({"role": "read-only", "tenants": ["Acme", "Nowhere"]}, 404),
    ):
        response = await api.patch("/api/v1/users/bob", patch)
        assert response.status_code == status, (patch, response.text)
    assert (await api.patch("/api/v1/users/nobody", {"enabled": False})).status_code == 404
    assert (await api.get("/api/v1/users/nobody")).status_code == 404
    assert (await api.get("/api/v1/users/bob")).json() == before.json()
    assert [u["username"] for u in (await api.get("/api/v1/users")).json()] == ["bob", "root"]


async def test_last_admin_is_kept_over_the_api(web: WebHarness) -> None:
    api = await as_user(web, "root", "admin")
    for patch in ({"enabled": False}, {"role": "technician"}):
        refused = await api.patch("/api/v1/users/root", patch)
        assert refused.status_code == 409
        assert "last enabled admin" in refused.json()["error"]["message"]
    root = (await api.get("/api/v1/users/root")).json()
    assert (root["role"], root["enabled"]) == ("admin", True)


async def test_reset_totp_and_sign_out_end_the_users_sessions(web: WebHarness) -> None:
    api = await as_user(web, "root", "admin")
    bob = await as_user(web, "bob", "technician", "Acme")
    assert (await bob.get("/api/v1/me")).status_code == 200
    signed_out = await api.post("/api/v1/users/bob/sign-out")
    assert signed_out.json() == {"sessions": 1}
    assert (await bob.get("/api/v1/me")).status_code == 401
    reset = await api.post("/api/v1/users/bob/reset-totp")
    assert reset.status_code == 200 and reset.json()["totp_enabled"] is False
    assert [e.actor_name for e in await events(web, "user.reset_totp")] == ["root"]


async def test_users_api_needs_the_users_scopes(web: WebHarness) -> None:
    tech = await as_user(web, "tech", "technician", "Acme")
    viewer = await as_user(web, "viewer", "read-only", "Acme")
    for api in (tech, viewer):
        assert (await api.get("/api/v1/users")).status_code == 403
        assert (await api.get("/api/v1/users/tech")).status_code == 403
        assert (await api.patch("/api/v1/users/tech", {"role": "admin"})).status_code == 403
        created = await api.post("/api/v1/users", {"username": "m", "role": "admin"})
        assert created.status_code == 403
        assert (await api.post("/api/v1/users/tech/reset-totp")).status_code == 403
    assert (await web.accounts.get_user("tech")).role == "technician"
    anonymous = web.client()
    assert (await anonymous.get("/api/v1/users")).status_code == 401
    await web.user("root", "admin")
    reader, _ = await bearer(web, "root", "users:read")
    assert (await reader.get("/api/v1/users")).status_code == 200
    refused = await reader.patch("/api/v1/users/tech", {"enabled": False})
    assert refused.status_code == 403
    assert (await web.accounts.get_user("tech")).disabled_at is None


async def test_session_writes_need_the_csrf_header(web: WebHarness) -> None:
    api = await as_user(web, "root", "admin")
    forged = Api(api.client, {})
    response = await forged.post("/api/v1/users", {"username": "x", "role": "admin"})
    assert response.status_code == 403
    assert (await forged.patch("/api/v1/users/root", {"role": "read-only"})).status_code == 403
    assert [u.username for u in await web.accounts.list_users()] == ["root"]


# --- API tokens ----------------------------------------------------------------------------------


async def test_token_secret_once_usable_and_refused_once_revoked(web: WebHarness) -> None:
    tech = await as_user(web, "tech", "technician", "Acme")
    created = await tech.post(
        "/api/v1/api-tokens",
        {"name": "psa", "scopes": ["devices:read", "tenants:read"], "expires_in_days": 7},
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    secret, token_id = created.json()["secret"], created.json()["id"]
    listing = await tech.get("/api/v1/api-tokens")
    assert secret not in listing.text
    [token] = listing.json()
    assert (token["name"], token["state"], token["username"]) == ("psa", "active", "tech")
    integration = Api(web.client(), {"Authorization": f"Bearer {secret}"})
    me = await integration.get("/api/v1/me")
    assert me.json()["scopes"] == ["devices:read", "tenants:read"]
    revoked = await tech.delete(f"/api/v1/api-tokens/{token_id}")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert (await integration.get("/api/v1/me")).status_code == 401
    assert [e.actor_name for e in await events(web, "api_token.revoke")] == ["tech"]
    assert secret not in repr(await AuditLog(web.sessions).list())


async def test_token_scopes_within_the_role_and_the_calling_token(web: WebHarness) -> None:
    viewer = await as_user(web, "viewer", "read-only", "Acme")
    beyond = await viewer.post("/api/v1/api-tokens", {"name": "x", "scopes": ["devices:write"]})
    assert beyond.status_code == 403
    unknown = await viewer.post("/api/v1/api-tokens", {"name": "x", "scopes": ["root"]})
    assert unknown.status_code == 422
    for body in (
        {"name": "x", "scopes": []},
        {"name": "", "scopes": ["devices:read"]},
        {"name": "x", "scopes": ["devices:read"], "expires_in_days": 0},
        {"name": "x", "scopes": ["devices:read"], "expires_in_days": 100000},
    ):
        assert (await viewer.post("/api/v1/api-tokens", body)).status_code == 422, body
    await web.user("tech", "technician", ("Acme",))
    narrow, _ = await bearer(web, "tech", "devices:read")
    stronger = await narrow.post(
        "/api/v1/api-tokens", {"name": "y", "scopes": ["devices:read", "devices:write"]}
    )
    assert stronger.status_code == 403
    tech = await web.accounts.get_user("tech")
    assert [t.name for t in await web.accounts.list_api_tokens(tech.id)] == ["ci"]
    # ``bearer`` tokens never expire, so a same-scope token may be minted from one.
    same = await narrow.post("/api/v1/api-tokens", {"name": "y", "scopes": ["devices:read"]})
    assert same.status_code == 201
    assert await web.accounts.list_api_tokens((await web.accounts.get_user("viewer")).id) == []


async def test_a_token_cannot_outlive_the_token_that_made_it(web: WebHarness) -> None:
    tech = await as_user(web, "tech", "technician", "Acme")
    made = await tech.post(
        "/api/v1/api-tokens",
        {"name": "week", "scopes": ["devices:read"], "expires_in_days": 7},
    )
    week = Api(web.client(), {"Authorization": f"Bearer {made.json()['secret']}"})
    longer = await week.post(
        "/api/v1/api-tokens", {"name": "year", "scopes": ["devices:read"], "expires_in_days": 365}
    )
    assert longer.status_code == 403
    shorter = await week.post(
        "/api/v1/api-tokens", {"name": "day", "scopes": ["devices:read"], "expires_in_days": 1}
    )
    assert shorter.status_code == 201


async def test_others_tokens_are_not_found_and_admins_see_all(web: WebHarness) -> None:
    alice = await as_user(web, "alice", "technician", "Acme")
    bob = await as_user(web, "bob", "technician", "Acme")
    made = await alice.post("/api/v1/api-tokens", {"name": "mine", "scopes": ["devices:read"]})
    token_id = made.json()["id"]
    assert (await bob.get(f"/api/v1/api-tokens/{token_id}")).status_code == 404
    assert (await bob.delete(f"/api/v1/api-tokens/{token_id}")).status_code == 404
    assert (await bob.delete("/api/v1/api-tokens/999999")).status_code == 404
    assert (await bob.get("/api/v1/api-tokens")).json() == []
    root = await as_user(web, "root", "admin")
    everyone = (await root.get("/api/v1/api-tokens")).json()
    assert [(t["username"], t["name"]) for t in everyone] == [("alice", "mine")]
    assert (await root.delete(f"/api/v1/api-tokens/{token_id}")).json()["state"] == "revoked"


# --- the audit log -------------------------------------------------------------------------------


async def test_audit_api_filters_pages_and_limits_technicians(web: WebHarness) -> None:
    root = await as_user(web, "root", "admin")
    tech = await as_user(web, "tech", "technician", "Acme")
    await web.tenancy.ensure_site("Globex", "HQ")
    tenants = {t.name: t.id for t in await web.tenancy.list_tenants()}
    log = AuditLog(web.sessions)
    for number in range(5):
        await log.record(CLI_ACTOR, "thing.do", "thing", number, tenant_id=tenants["Globex"])
    first = await root.get("/api/v1/audit", action="thing.do", limit=3)
    assert first.status_code == 200
    page = first.json()
    assert [e["target_id"] for e in page["events"]] == ["4", "3", "2"]
    second = await root.get(
        "/api/v1/audit", action="thing.do", limit=3, before_id=page["next_before_id"]
    )
    assert [e["target_id"] for e in second.json()["events"]] == ["1", "0"]
    assert second.json()["next_before_id"] is None
    by_actor = await root.get("/api/v1/audit", actor="root")
    assert {e["actor_name"] for e in by_actor.json()["events"]} == {"root"}
    by_reference = await root.get("/api/v1/audit", actor="cli", target_type="thing", target_id="2")
    assert [e["target_id"] for e in by_reference.json()["events"]] == ["2"]
    empty = await root.get("/api/v1/audit", since="2999-01-01T00:00:00Z")
    assert empty.json() == {"events": [], "next_before_id": None}
    assert (await root.get("/api/v1/audit", since="soon")).status_code == 422
    assert (await root.get("/api/v1/audit", limit=0)).status_code == 422
    seen = (await tech.get("/api/v1/audit", limit=1000)).json()["events"]
    assert seen and {e["tenant_id"] for e in seen} == {tenants["Acme"]}
    viewer = await as_user(web, "viewer", "read-only", "Acme")
    assert (await viewer.get("/api/v1/audit")).status_code == 403


async def test_admin_routes_are_in_the_openapi_document(web: WebHarness) -> None:
    document = (await web.client().get("/api/v1/openapi.json")).json()
    for path in (
        "/api/v1/users",
        "/api/v1/users/{username}",
        "/api/v1/api-tokens",
        "/api/v1/api-tokens/{token_id}",
        "/api/v1/audit",
    ):
        assert path in document["paths"], path
    assert set(document["paths"]["/api/v1/users/{username}"]) == {"get", "patch"}
