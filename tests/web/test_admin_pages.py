"""Users, API tokens, the audit log and settings through the real dashboard."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from server.app import serve
from server.pki import PkiPaths
from server.services.accounts import AccountService
from server.services.audit import AuditFilter, AuditLog
from server.services.records import CLI_ACTOR, AuditEvent
from server.services.secrets import SecretBox
from server.services.tenancy import TenancyService
from server.settings import Address, CollectorSettings
from server.store.database import create_engine, migrate, session_factory
from server.web.masking import mask_database_url
from tests.server.api.conftest import LOOPBACK, prepare_data_dir
from tests.web.conftest import PASSWORD, SignedIn, WebHarness, csrf_from

ONE_TIME = re.compile(r'id="one-time-password">([^<]+)<')
API_SECRET = re.compile(r'id="api-token-secret">(parc_api_[A-Za-z0-9_-]+)<')
XSS = "<script>alert(1)</script>"


async def admin(web: WebHarness, name: str = "root") -> SignedIn:
    return await web.signed_in(await web.user(name, "admin"))


async def events(web: WebHarness, action: str) -> list[AuditEvent]:
    return await AuditLog(web.sessions).list(AuditFilter(action=action))


Form = dict[str, str | list[str]]


async def post(me: SignedIn, path: str, **data: str | list[str]) -> httpx.Response:
    return await me.client.post(path, data={**data, "csrf_token": me.csrf})


# --- who may open what ---------------------------------------------------------------------------


ADMIN_PAGES = ("/users", "/users/root", "/settings")


async def test_anonymous_is_sent_to_sign_in(web: WebHarness) -> None:
    client = web.client()
    for path in (*ADMIN_PAGES, "/audit", "/account/api-tokens"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    refused = await client.post("/users", data={"username": "x", "role": "admin"})
    assert refused.status_code in (303, 403)
    assert [u.username for u in await web.accounts.list_users()] == []


async def test_technician_and_read_only_are_refused_admin_pages(web: WebHarness) -> None:
    await web.user("root", "admin")
    tech = await web.signed_in(await web.user("tech", "technician", ("Acme",)))
    viewer = await web.signed_in(await web.user("viewer", "read-only", ("Acme",)))
    for me in (tech, viewer):
        for path in ADMIN_PAGES:
            response = await me.client.get(path)
            assert response.status_code == 403, path
            assert "root" not in response.text
        for path, data in (
            ("/users", {"username": "mallory", "role": "admin"}),
            ("/users/root/disable", {}),
            ("/users/root/role", {"role": "read-only"}),
            ("/users/root/reset-totp", {}),
            ("/users/root/sign-out", {}),
        ):
            assert (await post(me, path, **data)).status_code == 403, path
    assert (await viewer.client.get("/audit")).status_code == 403
    assert (await tech.client.get("/audit")).status_code == 200
    root = await web.accounts.get_user("root")
    assert (root.role, root.disabled_at, root.totp_enabled) == ("admin", None, True)
    assert "mallory" not in {u.username for u in await web.accounts.list_users()}
    nav = (await tech.client.get("/account/api-tokens")).text
    assert 'href="/users"' not in nav and 'href="/settings"' not in nav


# --- users ---------------------------------------------------------------------------------------


async def test_create_user_shows_the_one_time_password_once(web: WebHarness) -> None:
    me = await admin(web)
    await web.tenancy.ensure_site("Acme", "HQ")
    created = await post(me, "/users", username="Alice", role="technician", tenants=["Acme"])
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    found = ONE_TIME.search(created.text)
    assert found is not None
    password = found.group(1)
    listing = await me.client.get("/users")
    assert password not in listing.text and 'id="user-alice"' in listing.text
    assert password not in (await me.client.get("/users/alice")).text
    alice = await web.accounts.get_user("alice")
    assert (alice.role, alice.must_change_password) == ("technician", True)
    event = (await events(web, "user.create"))[0]  # newest first; the CLI made root
    assert (event.actor_name, event.address, event.target_id) == ("root", LOOPBACK, str(alice.id))
    assert password not in repr(await AuditLog(web.sessions).list())
    # The one-time password signs in, and the user must choose their own first.
    client = web.client()
    form = await client.get("/login")
    signed = await client.post(
        "/login",
        data={"username": "alice", "password": password, "csrf_token": csrf_from(form.text)},
    )
    assert signed.headers["location"] == "/account/password"
    assert (await client.get("/devices")).headers["location"] == "/account/password"


async def test_create_user_refuses_bad_input_and_creates_nothing(web: WebHarness) -> None:
    me = await admin(web)
    for data, status in (
        ({"username": "bad name", "role": "technician"}, 400),
        ({"username": "bob", "role": "superuser"}, 400),
        ({"username": "bob", "role": "technician", "tenants": ["Nowhere"]}, 400),
        ({"username": "root", "role": "technician"}, 409),
    ):
        response = await post(me, "/users", **data)
        assert response.status_code == status, data
        assert 'role="alert"' in response.text and not ONE_TIME.search(response.text)
    assert [u.username for u in await web.accounts.list_users()] == ["root"]
    no_csrf = await me.client.post("/users", data={"username": "bob", "role": "technician"})
    assert no_csrf.status_code == 403
    assert [u.username for u in await web.accounts.list_users()] == ["root"]


async def test_the_last_enabled_admin_cannot_disable_or_demote_themselves(
    web: WebHarness,
) -> None:
    me = await admin(web)
    for path, data in (("/users/root/disable", {}), ("/users/root/role", {"role": "technician"})):
        response = await post(me, path, **data)
        assert response.status_code == 409
        assert "last enabled admin" in response.text
    root = await web.accounts.get_user("root")
    assert (root.role, root.disabled_at) == ("admin", None)
    await web.user("second", "admin")
    demoted = await post(me, "/users/root/role", role="technician")
    assert demoted.status_code == 303
    assert (await web.accounts.get_user("root")).role == "technician"
    # No longer an admin: the page now refuses.
    assert (await me.client.get("/users")).status_code == 403


async def test_user_page_changes_are_applied_and_audited(web: WebHarness) -> None:
    me = await admin(web)
    bob_account = await web.user("bob", "technician", ("Acme",), with_totp=True)
    await web.tenancy.ensure_site("Globex", "HQ")
    bob = await web.signed_in(bob_account)
    actions: list[tuple[str, Form, str]] = [
        ("/users/bob/role", {"role": "read-only"}, "user.set_role"),
        ("/users/bob/tenants", {"tenants": ["Globex"]}, "user.revoke_grant"),
        ("/users/bob/reset-totp", {}, "user.reset_totp"),
        ("/users/bob/disable", {}, "user.disable"),
        ("/users/bob/enable", {}, "user.enable"),
        ("/users/bob/sign-out", {}, "session.logout_everywhere"),
    ]
    for path, data, action in actions:
        response = await post(me, path, **data)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/users/bob?notice="), path
        [event] = await events(web, action)
        assert (event.actor_name, event.address) == ("root", LOOPBACK), action
    info = await web.accounts.get_user("bob")
    globex = next(t.id for t in await web.tenancy.list_tenants() if t.name == "Globex")
    assert (info.role, info.tenant_ids, info.totp_enabled) == (
        "read-only",
        frozenset({globex}),
        False,
    )
    assert info.disabled_at is None
    # Bob's session ended with the TOTP reset (and disabling).
    assert (await bob.client.get("/devices")).status_code == 303
    page = (await me.client.get("/users/bob?notice=enabled")).text
    assert 'id="role">read-only<' in page and "User enabled." in page


async def test_unknown_user_is_not_found_and_bad_role_changes_nothing(web: WebHarness) -> None:
    me = await admin(web)
    await web.user("bob", "technician", ("Acme",))
    assert (await me.client.get("/users/nobody")).status_code == 404
    assert (await post(me, "/users/nobody/disable")).status_code == 404
    bad = await post(me, "/users/bob/role", role="god")
    assert bad.status_code == 400
    assert (await web.accounts.get_user("bob")).role == "technician"
    assert await events(web, "user.set_role") == []


async def test_tenant_and_token_names_are_escaped(web: WebHarness) -> None:
    me = await admin(web)
    await web.user("bob", "technician", (XSS,))
    users = (await me.client.get("/users")).text
    user = (await me.client.get("/users/bob")).text
    audit = (await me.client.get("/audit")).text
    await post(me, "/account/api-tokens", name=XSS, scopes=["devices:read"], days="30")
    tokens = (await me.client.get("/account/api-tokens")).text
    for page in (users, user, audit, tokens):
        assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in users + user + tokens


# --- API tokens ----------------------------------------------------------------------------------


async def test_api_token_secret_shown_once_works_and_revoked_is_refused(
    web: WebHarness,
) -> None:
    tech = await web.signed_in(await web.user("tech", "technician", ("Acme",)))
    created = await post(
        tech, "/account/api-tokens", name="psa sync", scopes=["devices:read"], days="30"
    )
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    found = API_SECRET.search(created.text)
    assert found is not None
    secret = found.group(1)
    listing = await tech.client.get("/account/api-tokens")
    assert secret not in listing.text and "psa sync" in listing.text
    api = web.client()
    auth = {"authorization": f"Bearer {secret}"}
    me = await api.get("/api/v1/me", headers=auth)
    assert me.status_code == 200
    assert me.json()["username"] == "tech" and me.json()["scopes"] == ["devices:read"]
    [token] = await web.accounts.list_api_tokens()
    assert token.expires_at is not None
    assert timedelta(days=29) < token.expires_at - token.created_at <= timedelta(days=30)
    revoked = await post(tech, f"/account/api-tokens/{token.token_id}/revoke")
    assert revoked.status_code == 303
    assert (await api.get("/api/v1/me", headers=auth)).status_code == 401
    assert [e.action for e in await events(web, "api_token.revoke")] == ["api_token.revoke"]
    assert secret not in repr(await AuditLog(web.sessions).list())


async def test_api_token_scopes_are_limited_to_the_role(web: WebHarness) -> None:
    viewer = await web.signed_in(await web.user("viewer", "read-only", ("Acme",)))
    page = (await viewer.client.get("/account/api-tokens")).text
    assert 'value="devices:read"' in page and 'value="devices:write"' not in page
    forms: list[Form] = [
        {"name": "x", "scopes": ["devices:write"], "days": "30"},
        {"name": "x", "scopes": ["nonsense"], "days": "30"},
        {"name": "x", "scopes": [], "days": "30"},
        {"name": "x", "scopes": ["devices:read"], "days": "99999"},
        {"name": "", "scopes": ["devices:read"], "days": "30"},
    ]
    for data in forms:
        response = await post(viewer, "/account/api-tokens", **data)
        assert response.status_code == 400, data
        assert not API_SECRET.search(response.text)
    assert await web.accounts.list_api_tokens() == []


async def test_others_tokens_are_not_found_but_admins_see_and_revoke_them(
    web: WebHarness,
) -> None:
    tech_user = await web.user("tech", "technician", ("Acme",))
    tech = await web.signed_in(tech_user)
    info = await web.accounts.get_user("tech")
    issued = await web.accounts.create_api_token(
        info.id, "zebra-sync", ["devices:read"], actor=CLI_ACTOR
    )
    other = await web.signed_in(await web.user("other", "technician", ("Acme",)))
    refused = await post(other, f"/account/api-tokens/{issued.token_id}/revoke")
    assert refused.status_code == 404
    assert "zebra-sync" not in (await other.client.get("/account/api-tokens")).text
    root = await admin(web)
    page = (await root.client.get("/account/api-tokens")).text
    assert 'id="all-api-tokens"' in page and "zebra-sync" in page
    assert (await post(root, f"/account/api-tokens/{issued.token_id}/revoke")).status_code == 303
    assert (await web.accounts.get_api_token(issued.token_id)).revoked_at is not None
    assert (await tech.client.get("/account/api-tokens")).status_code == 200


# --- audit log -----------------------------------------------------------------------------------


async def test_audit_filters_and_pages_newest_first(web: WebHarness) -> None:
    me = await admin(web)
    log = AuditLog(web.sessions)
    for number in range(60):
        await log.record(CLI_ACTOR, "thing.do", "thing", number, address="192.0.2.7")
    first = await me.client.get("/audit", params={"action": "thing.do"})
    ids = [int(i) for i in re.findall(r'<tr id="audit-(\d+)"', first.text)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    older = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert older is not None
    second = await me.client.get(older.group(1).replace("&amp;", "&"))
    rest = [int(i) for i in re.findall(r'<tr id="audit-(\d+)"', second.text)]
    assert len(rest) == 10 and max(rest) < min(ids)
    assert 'rel="next"' not in second.text
    by_target = await me.client.get("/audit", params={"target_type": "thing", "target_id": "42"})
    assert len(re.findall(r'<tr id="audit-', by_target.text)) == 1
    assert "192.0.2.7" in by_target.text
    by_actor = await me.client.get("/audit", params={"actor": "root"})
    actions = re.findall(r'<td class="action">([^<]+)<', by_actor.text)
    assert "session.create" in actions and "user.create" not in actions
    assert "thing.do" not in actions
    future = await me.client.get("/audit", params={"since": "2999-01-01"})
    assert '<tr id="audit-' not in future.text
    bad = await me.client.get("/audit", params={"since": "yesterday-ish"})
    assert bad.status_code == 400 and "cannot read" in bad.text


async def test_technician_reads_only_the_audit_of_their_tenants(web: WebHarness) -> None:
    tech = await web.signed_in(await web.user("tech", "technician", ("Acme",)))
    await web.tenancy.ensure_site("Globex", "HQ")
    tenants = {t.name: t.id for t in await web.tenancy.list_tenants()}
    log = AuditLog(web.sessions)
    await log.record(CLI_ACTOR, "acme.thing", "thing", 1, tenant_id=tenants["Acme"])
    await log.record(CLI_ACTOR, "globex.thing", "thing", 2, tenant_id=tenants["Globex"])
    page = (await tech.client.get("/audit")).text
    actions = re.findall(r'<td class="action">([^<]+)<', page)
    assert "acme.thing" in actions and "globex.thing" not in actions
    # Records of no tenant (users, sessions) are an admin's to read.
    assert "user.create" not in actions and "session.create" not in actions


# --- settings ------------------------------------------------------------------------------------


async def test_settings_show_the_collector_and_no_key_material(web: WebHarness) -> None:
    me = await admin(web)
    page = await me.client.get("/settings")
    assert page.status_code == 200
    text = page.text
    assert str(web.collector.agent_address) in text
    assert str(web.collector.enroll_address) in text
    assert str(web.data_dir) in text and "sqlite" in text
    assert "Offline after" in text and "90 %" in text
    fingerprint = re.search(r'id="ca-fingerprint">([0-9A-F:]{95})<', text)
    assert fingerprint is not None
    paths = PkiPaths.from_data_dir(web.data_dir)
    for key_file in (paths.ca_key, paths.server_key):
        body = b"".join(key_file.read_bytes().splitlines()[1:-1]).decode()
        assert body[:40] not in text.replace("\n", "")
    assert "PRIVATE KEY" not in text


@pytest.mark.postgres
async def test_settings_never_show_the_database_password(tmp_path: Path, database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a SQLite URL holds no password")
    secret = "hunter2-database-secret"
    with_password = url.set(password=secret).render_as_string(hide_password=False)
    migrate(with_password)
    data_dir = tmp_path / "collector"
    prepare_data_dir(data_dir)
    collector = await serve(
        CollectorSettings(
            data_dir=data_dir,
            database_url=with_password,
            listen=Address(LOOPBACK, 0),
            enroll_listen=Address(LOOPBACK, 0),
            http_listen=Address(LOOPBACK, 0),
        )
    )
    engine = create_engine(with_password)
    sessions = session_factory(engine)
    try:
        harness = WebHarness(
            collector=collector,
            data_dir=data_dir,
            base_url=collector.http_url or "",
            sessions=sessions,
            accounts=AccountService(sessions, SecretBox.for_data_dir(data_dir)),
            tenancy=TenancyService(sessions),
        )
        me = await admin(harness)
        text = (await me.client.get("/settings")).text
        assert secret not in text
        assert re.search(r'id="database-url">postgresql[^<]*:\*\*\*@', text)
        for client in harness._clients:
            await client.aclose()
    finally:
        await engine.dispose()
        await collector.stop(0)


def test_password_is_never_in_the_dashboard_source() -> None:
    # The fixture's shared password must not leak into templates by accident.
    templates = Path(__file__).parents[2] / "server" / "web" / "templates"
    assert all(PASSWORD not in p.read_text() for p in templates.glob("*.html"))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://parc:s3cr%40t@db.example:5432/parc",
            "postgresql+psycopg://parc:***@db.example:5432/parc",
        ),
        ("postgresql://parc@db/parc?password=hunter2", "postgresql://parc@db/parc?password=***"),
        (
            "postgresql://db/parc?sslmode=require&sslpassword=k3y",
            "postgresql://db/parc?sslmode=require&sslpassword=***",
        ),
        ("sqlite+aiosqlite:////srv/parc/parc.db", "sqlite+aiosqlite:////srv/parc/parc.db"),
        ("hunter2 pasted by mistake", "(hidden: not a readable URL)"),
    ],
)
def test_database_urls_are_shown_masked(url: str, shown: str) -> None:
    assert mask_database_url(url) == shown
