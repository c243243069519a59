"""Tenants, sites, enrolment tokens and "Add devices" through the real dashboard."""

from __future__ import annotations

import re
from datetime import timedelta

import grpc
from sqlalchemy import func, select

import agent
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc
from server.pki import PkiPaths
from server.services.audit import AuditFilter, AuditLog
from server.services.clock import utc_now
from server.services.records import AuditEvent, TokenInfo
from server.services.tokens import TokenService
from server.store.models import EnrollmentTokenRow, SiteRow, TenantRow
from tests.server.api.conftest import WAIT_S, csr_der, new_key
from tests.web.conftest import SignedIn, WebHarness

VERSION = agent.__version__
SECRET = re.compile(r"parc_[A-Za-z0-9_-]{40,}")
XSS = "<script>alert(1)</script>"


async def admin(web: WebHarness) -> SignedIn:
    return await web.signed_in(await web.user("admin", "admin"))


async def technician(web: WebHarness, *tenants: str) -> SignedIn:
    return await web.signed_in(await web.user("tech", "technician", tenants or ("Acme",)))


async def read_only(web: WebHarness) -> SignedIn:
    return await web.signed_in(await web.user("viewer", "read-only", ("Acme",)))


async def events(web: WebHarness, action: str) -> list[AuditEvent]:
    return await AuditLog(web.sessions).list(AuditFilter(action=action))


async def count(web: WebHarness, model: type[TenantRow | SiteRow | EnrollmentTokenRow]) -> int:
    async with web.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def tenant_id(web: WebHarness, name: str) -> int:
    [tenant] = [t for t in await web.tenancy.list_tenants() if t.name == name]
    return tenant.id


async def site_id(web: WebHarness, tenant: str, name: str = "HQ") -> int:
    [site] = [s for s in await web.tenancy.list_sites() if (s.tenant, s.name) == (tenant, name)]
    return site.id


async def tokens(web: WebHarness) -> list[TokenInfo]:
    return await TokenService(web.sessions).list()


async def enrol(web: WebHarness, secret: str) -> pb.EnrollResponse:
    """Enrol a made-up machine over the collector's real enrolment port."""
    ca_pem = PkiPaths.from_data_dir(web.data_dir).ca_certificate.read_bytes()
    credentials = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    async with grpc.aio.secure_channel(
        str(web.collector.enroll_address),
        credentials,
        options=[("grpc.ssl_target_name_override", "localhost")],
    ) as channel:
        stub = pb_grpc.AgentServiceStub(channel)
        response: pb.EnrollResponse = await stub.Enroll(
            pb.EnrollRequest(
                token=secret,
                csr_der=csr_der(new_key()),
                agent=pb.AgentInfo(hostname="pc-9", agent_version="0.1.0", os_family="linux"),
            ),
            timeout=WAIT_S,
        )
        return response


# --- tenants and sites ------------------------------------------------------------------------


async def test_admin_creates_a_tenant_and_a_site(web: WebHarness) -> None:
    me = await admin(web)
    page = await me.client.get("/tenants")
    assert page.status_code == 200
    assert 'action="/tenants"' in page.text

    created = await me.client.post("/tenants", data={"name": "Globex", "csrf_token": me.csrf})
    assert created.status_code == 303
    assert created.headers["location"] == "/tenants?notice=tenant-created"
    shown = await me.client.get(created.headers["location"])
    assert "Tenant created." in shown.text
    assert "Globex" in shown.text

    globex = await tenant_id(web, "Globex")
    site = await me.client.post(
        f"/tenants/{globex}/sites", data={"name": "Lyon office", "csrf_token": me.csrf}
    )
    assert site.status_code == 303
    shown = await me.client.get(site.headers["location"])
    assert "Site created." in shown.text
    assert "Lyon office" in shown.text

    [tenant_event] = await events(web, "tenant.create")
    [site_event] = await events(web, "site.create")
    for event in (tenant_event, site_event):
        assert event.actor_name == "admin"
        assert event.actor.startswith("user:")
        assert event.address == "127.0.0.1"
        assert event.tenant_id == globex
    assert site_event.details == {"tenant": "Globex", "name": "Lyon office"}


async def test_tenants_page_counts_devices_per_site(web: WebHarness) -> None:
    me = await admin(web)
    issued = await TokenService(web.sessions).create("Acme", "Lyon", 2, timedelta(hours=1))
    await enrol(web, issued.secret)
    await enrol(web, issued.secret)
    page = await me.client.get("/tenants")
    section = page.text[page.text.index("Acme") :]
    assert "2 devices" in section
    assert re.search(r"<td>Lyon</td><td class=\"num\">2</td>", section)


async def test_bad_and_duplicate_names_are_refused_and_change_nothing(web: WebHarness) -> None:
    me = await admin(web)
    await me.client.post("/tenants", data={"name": "Acme", "csrf_token": me.csrf})
    before = await count(web, TenantRow)
    for name, status, message in [
        ("", 400, "must not be empty"),
        ("   ", 400, "must not be empty"),
        ("x" * 65, 400, "at most 64"),
        ("Acme", 409, "already exists"),
        ("bell\x07", 400, "printable"),
    ]:
        response = await me.client.post("/tenants", data={"name": name, "csrf_token": me.csrf})
        assert response.status_code == status, name
        assert message in response.text
    assert await count(web, TenantRow) == before
    acme = await tenant_id(web, "Acme")
    sites = await count(web, SiteRow)
    response = await me.client.post(
        f"/tenants/{acme}/sites", data={"name": "y" * 65, "csrf_token": me.csrf}
    )
    assert response.status_code == 400
    missing = await me.client.post(
        f"/tenants/{acme + 99}/sites", data={"name": "Paris", "csrf_token": me.csrf}
    )
    assert missing.status_code == 404
    assert await count(web, SiteRow) == sites
    assert len(await events(web, "tenant.create")) == 1


async def test_without_csrf_nothing_is_created(web: WebHarness) -> None:
    me = await admin(web)
    await web.tenancy.ensure_site("Acme", "HQ")
    acme = await tenant_id(web, "Acme")
    for path, data in [
        ("/tenants", {"name": "Globex"}),
        (f"/tenants/{acme}/sites", {"name": "Paris"}),
        ("/tokens", {"site_id": str(await site_id(web, "Acme")), "uses": "1", "expires": "1h"}),
        ("/devices/add", {"site_id": str(await site_id(web, "Acme")), "uses": "1"}),
    ]:
        response = await me.client.post(path, data=data)
        assert response.status_code == 403, path
        wrong = await me.client.post(path, data={**data, "csrf_token": "forged"})
        assert wrong.status_code == 403, path
    assert [t.name for t in await web.tenancy.list_tenants()] == ["Acme"]
    assert await count(web, SiteRow) == 1
    assert await tokens(web) == []


async def test_technician_sees_only_their_tenants_and_cannot_change_them(web: WebHarness) -> None:
    await web.tenancy.ensure_site("Globex", "Secret site")
    me = await technician(web, "Acme")
    page = await me.client.get("/tenants")
    assert page.status_code == 200
    assert "Acme" in page.text
    assert "Globex" not in page.text
    assert "Secret site" not in page.text
    assert 'action="/tenants"' not in page.text

    assert (
        await me.client.post("/tenants", data={"name": "Mine", "csrf_token": me.csrf})
    ).status_code == 403
    acme, globex = await tenant_id(web, "Acme"), await tenant_id(web, "Globex")
    own = await me.client.post(f"/tenants/{acme}/sites", data={"name": "X", "csrf_token": me.csrf})
    assert own.status_code == 403
    other = await me.client.post(
        f"/tenants/{globex}/sites", data={"name": "X", "csrf_token": me.csrf}
    )
    assert other.status_code == 404
    assert "Globex" not in other.text
    assert await count(web, SiteRow) == 2


async def test_names_are_escaped(web: WebHarness) -> None:
    me = await admin(web)
    await me.client.post("/tenants", data={"name": XSS, "csrf_token": me.csrf})
    evil = await tenant_id(web, XSS)
    await me.client.post(f"/tenants/{evil}/sites", data={"name": XSS, "csrf_token": me.csrf})
    await TokenService(web.sessions).create(XSS, XSS, 1, timedelta(hours=1))
    for path in ("/tenants", "/tokens", "/devices/add"):
        page = await me.client.get(path)
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        assert XSS not in page.text, path


# --- enrolment tokens -------------------------------------------------------------------------


async def test_a_token_is_shown_once_with_the_enrol_command_and_it_enrols(
    web: WebHarness,
) -> None:
    me = await technician(web, "Acme")
    form = await me.client.get("/tokens")
    assert form.status_code == 200
    assert 'href="/devices/add"' in form.text
    acme_hq = await site_id(web, "Acme")
    created = await me.client.post(
        "/tokens",
        data={"site_id": str(acme_hq), "uses": "1", "expires": "7d", "csrf_token": me.csrf},
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    [secret] = set(SECRET.findall(created.text))
    command = (
        f"parc-agent enroll --server {web.collector.agent_address}"
        f" --enroll-server {web.collector.enroll_address}"
        f" --token {secret} --ca-cert ca.crt --state-dir /var/lib/parc-agent"
    )
    assert command in created.text
    assert 'href="/ca.crt"' in created.text

    [token] = await tokens(web)
    assert (token.tenant, token.site, token.uses_allowed) == ("Acme", "HQ", 1)
    assert token.state == "active"
    assert token.expires_at - token.created_at == timedelta(days=7)
    [event] = await events(web, "token.create")
    assert (event.actor_name, event.address, event.target_id) == (
        "tech",
        "127.0.0.1",
        str(token.token_id),
    )
    assert secret not in repr(event)

    listing = await me.client.get("/tokens")
    assert secret not in listing.text
    assert not SECRET.search(listing.text)
    assert "active" in listing.text

    enrolled = await enrol(web, secret)
    assert enrolled.device_id
    assert (enrolled.tenant, enrolled.site) == ("Acme", "HQ")
    after = await me.client.get("/tokens")
    row = after.text[after.text.index(f'id="token-{token.token_id}"') :]
    assert 'data-state="used up"' in row.split("</tr>")[0]
    assert "1 / 1" in row.split("</tr>")[0]


async def test_token_form_offers_only_sites_the_user_may_use(web: WebHarness) -> None:
    await web.tenancy.ensure_site("Globex", "Tower")
    me = await technician(web, "Acme")
    page = await me.client.get("/tokens")
    assert f'value="{await site_id(web, "Acme")}"' in page.text
    assert "Tower" not in page.text
    other = await me.client.post(
        "/tokens",
        data={
            "site_id": str(await site_id(web, "Globex", "Tower")),
            "uses": "1",
            "expires": "1h",
            "csrf_token": me.csrf,
        },
    )
    assert other.status_code == 404
    assert await tokens(web) == []


async def test_bad_token_input_is_refused(web: WebHarness) -> None:
    me = await technician(web, "Acme")
    acme_hq = str(await site_id(web, "Acme"))
    for data, message in [
        ({"site_id": acme_hq, "uses": "0", "expires": "1h"}, "uses must be"),
        ({"site_id": acme_hq, "uses": "100001", "expires": "1h"}, "uses must be"),
        ({"site_id": acme_hq, "uses": "many", "expires": "1h"}, "uses must be"),
        ({"site_id": acme_hq, "uses": "1", "expires": "forever"}, "cannot read duration"),
        ({"site_id": acme_hq, "uses": "1", "expires": "0h"}, "must be positive"),
        ({"site_id": "", "uses": "1", "expires": "1h"}, "choose a site"),
        ({"site_id": str(2**31), "uses": "1", "expires": "1h"}, "choose a site"),
        ({"site_id": str(2**70), "uses": "1", "expires": "1h"}, "choose a site"),
        ({"site_id": "0", "uses": "1", "expires": "1h"}, "choose a site"),
    ]:
        response = await me.client.post("/tokens", data={**data, "csrf_token": me.csrf})
        assert response.status_code == 400, data
        assert message in response.text, data
        assert not SECRET.search(response.text)
    assert await tokens(web) == []
    assert await events(web, "token.create") == []


async def test_ids_no_column_holds_are_refused_before_any_query(web: WebHarness) -> None:
    """Path ids beyond the 32-bit columns (or beyond 64 bits, which SQLite cannot even bind)
    are a bad request, like any malformed input, and change nothing."""
    me = await admin(web)
    sites = await count(web, SiteRow)
    for value in (2**31, 2**64, 2**70, 0):
        for path, data in [
            (f"/tokens/{value}/revoke", {}),
            (f"/tenants/{value}/sites", {"name": "Annex"}),
            (f"/account/api-tokens/{value}/revoke", {}),
        ]:
            response = await me.client.post(path, data={**data, "csrf_token": me.csrf})
            assert response.status_code == 400, (path, response.status_code, response.text)
    assert await count(web, SiteRow) == sites
    assert await events(web, "token.revoke") == []


async def test_technician_cannot_see_or_revoke_another_tenants_token(web: WebHarness) -> None:
    service = TokenService(web.sessions)
    theirs = await service.create("Globex", "HQ", 1, timedelta(hours=1))
    mine = await service.create("Acme", "HQ", 1, timedelta(hours=1))
    me = await technician(web, "Acme")
    page = await me.client.get("/tokens")
    assert f'id="token-{mine.token_id}"' in page.text
    assert f'id="token-{theirs.token_id}"' not in page.text
    assert "Globex" not in page.text

    denied = await me.client.post(f"/tokens/{theirs.token_id}/revoke", data={"csrf_token": me.csrf})
    assert denied.status_code == 404
    missing = await me.client.post("/tokens/99999/revoke", data={"csrf_token": me.csrf})
    assert missing.status_code == 404
    assert (await service.get(theirs.token_id)).state == "active"

    no_csrf = await me.client.post(f"/tokens/{mine.token_id}/revoke")
    assert no_csrf.status_code == 403
    assert (await service.get(mine.token_id)).state == "active"

    revoked = await me.client.post(f"/tokens/{mine.token_id}/revoke", data={"csrf_token": me.csrf})
    assert revoked.status_code == 303
    shown = await me.client.get(revoked.headers["location"])
    assert "Token revoked." in shown.text
    row = shown.text[shown.text.index(f'id="token-{mine.token_id}"') :].split("</tr>")[0]
    assert 'data-state="revoked"' in row
    assert "Revoke</button>" not in row
    [event] = await events(web, "token.revoke")
    assert (event.actor_name, event.address, event.target_id) == (
        "tech",
        "127.0.0.1",
        str(mine.token_id),
    )


async def test_read_only_sees_tokens_but_cannot_create_or_revoke(web: WebHarness) -> None:
    token = await TokenService(web.sessions).create("Acme", "HQ", 1, timedelta(hours=1))
    me = await read_only(web)
    page = await me.client.get("/tokens")
    assert page.status_code == 200
    assert f'id="token-{token.token_id}"' in page.text
    assert 'action="/tokens"' not in page.text
    assert "Revoke</button>" not in page.text
    acme_hq = str(await site_id(web, "Acme"))
    create = await me.client.post(
        "/tokens", data={"site_id": acme_hq, "uses": "1", "expires": "1h", "csrf_token": me.csrf}
    )
    assert create.status_code == 403
    revoke = await me.client.post(f"/tokens/{token.token_id}/revoke", data={"csrf_token": me.csrf})
    assert revoke.status_code == 403
    assert (await me.client.get("/devices/add")).status_code == 403
    add = await me.client.post(
        "/devices/add", data={"site_id": acme_hq, "uses": "1", "csrf_token": me.csrf}
    )
    assert add.status_code == 403
    assert [t.token_id for t in await tokens(web)] == [token.token_id]
    assert (await tokens(web))[0].state == "active"
    tenants = await me.client.get("/tenants")
    assert tenants.status_code == 200
    assert 'action="/tenants"' not in tenants.text


async def test_expired_and_revoked_tokens_are_shown_as_such(web: WebHarness) -> None:
    past = TokenService(web.sessions, lambda: utc_now() - timedelta(days=2))
    expired = await past.create("Acme", "HQ", 1, timedelta(hours=1))
    revoked = await TokenService(web.sessions).create("Acme", "HQ", 1, timedelta(hours=1))
    await TokenService(web.sessions).revoke(revoked.token_id)
    me = await technician(web, "Acme")
    page = await me.client.get("/tokens")
    rows = {
        token_id: page.text[page.text.index(f'id="token-{token_id}"') :].split("</tr>")[0]
        for token_id in (expired.token_id, revoked.token_id)
    }
    assert 'data-state="expired"' in rows[expired.token_id]
    assert 'data-state="revoked"' in rows[revoked.token_id]
    assert "Revoke</button>" in rows[expired.token_id]  # an expired token may still be revoked
    assert "Revoke</button>" not in rows[revoked.token_id]


# --- add devices and the CA -------------------------------------------------------------------


async def test_add_devices_shows_install_commands_for_every_system(web: WebHarness) -> None:
    me = await technician(web, "Acme")
    form = await me.client.get("/devices/add")
    assert form.status_code == 200
    acme_hq = await site_id(web, "Acme")
    assert f'value="{acme_hq}"' in form.text
    made = await me.client.post(
        "/devices/add",
        data={"site_id": str(acme_hq), "uses": "25", "expires": "24h", "csrf_token": me.csrf},
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    [secret] = set(SECRET.findall(made.text))
    for line in (
        f"sudo sh parc-agent-{VERSION}-linux-x86_64/install.sh --token {secret}",
        f"sudo env PARC_TOKEN={secret} apt-get install -y ./parc-agent_{VERSION}_amd64.deb",
        f"parc-agent-{VERSION}-windows-amd64\\install.ps1 -Token {secret}",
        f"sudo sh parc-agent-{VERSION}-macos-arm64/install.sh --token {secret}",
        f"parc-agent enroll --server {web.collector.agent_address}",
    ):
        assert line in made.text
    assert 'id="bundle-downloads"' in made.text
    [token] = await tokens(web)
    assert (token.uses_allowed, token.state) == (25, "active")
    assert token.expires_at - token.created_at == timedelta(hours=24)
    assert secret not in (await me.client.get("/devices/add")).text
    assert secret not in (await me.client.get("/tokens")).text


async def test_add_devices_refuses_bad_input_on_the_form(web: WebHarness) -> None:
    me = await technician(web, "Acme")
    acme_hq = str(await site_id(web, "Acme"))
    bad = await me.client.post(
        "/devices/add",
        data={"site_id": acme_hq, "uses": "1", "expires": "1y", "csrf_token": me.csrf},
    )
    assert bad.status_code == 400
    assert "cannot read duration" in bad.text
    assert 'action="/devices/add"' in bad.text
    assert await tokens(web) == []


async def test_the_ca_certificate_is_public(web: WebHarness) -> None:
    response = await web.client().get("/ca.crt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-pem-file"
    expected = PkiPaths.from_data_dir(web.data_dir).ca_certificate.read_text()
    assert response.text == expected
    assert "PRIVATE KEY" not in response.text


async def test_pages_need_sign_in(web: WebHarness) -> None:
    client = web.client()
    for path in ("/tenants", "/tokens", "/devices/add"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
