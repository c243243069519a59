"""Every route of the dashboard and the API, walked anonymously, as tenant B and read-only.

Two tenants each hold a device (with a tag and an installed title), a site, an enrolment
token, a technician and that technician's API token. The walk fills every path parameter with
tenant A's object and sends GET and each mutating method (with B's valid CSRF token, so a
refusal is never just CSRF; bodies name A's objects too), and proves:

- anonymously, pages send the browser to /login (or answer 401), the API answers 401;
- as B's technician (session) and with B's API token, every route about an A object answers
  403 or 404, list routes answer with B's data only, and no response body, errors included,
  holds anything of A's that the request itself did not name;
- a read-only user of tenant B is refused the same way, and sees nothing of A either;
- a read-only user of tenant A (session and API token, with every scope the role may hold) is
  refused every mutating route about A's objects, lists and admin routes alike (only their own
  account's routes are theirs to use), and no answer holds anything of tenant B's;
- afterwards A's objects are exactly as before.

``ROUTES`` must name every route the app serves: a new route fails the test until it is
classified here, so nothing escapes the walk. Public routes say why they are public.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from starlette.routing import Mount

from server.services.access import READ_ONLY, ROLE_ACTIONS
from server.services.clock import utc_now
from server.services.records import CLI_ACTOR
from server.services.tokens import TokenService
from server.store.models import (
    ApiTokenRow,
    DeviceRow,
    DeviceSoftwareRow,
    DeviceTagRow,
    EnrollmentTokenRow,
    SiteRow,
    SoftwareTitleRow,
    TenantRow,
    UserRow,
    UserTenantRow,
)
from tests.web.conftest import PASSWORD, Account, SignedIn, WebHarness

# --- what each route is --------------------------------------------------------------------------


@dataclass(frozen=True)
class Public:
    """Served to anyone: ``reason`` says why that is safe."""

    reason: str


@dataclass(frozen=True)
class Page:
    """A dashboard page. ``scope``: ``object`` (about the A object in its path: B is refused),
    ``list`` (B sees its own tenants' data; a write naming A's objects is refused),
    ``admin`` (admins only: B's technician is refused), ``self`` (the caller's own account),
    ``shared`` (nothing of any tenant: B may use it)."""

    scope: str


@dataclass(frozen=True)
class Api:
    """A REST route, with the same scopes as ``Page``."""

    scope: str


Kind = Public | Page | Api

ROUTES: dict[tuple[str, str], Kind] = {
    # Public, each for a reason.
    ("GET", "/login"): Public("the sign-in form itself"),
    ("POST", "/login"): Public("signing in: checks the password, TOTP and its own CSRF cookie"),
    ("GET", "/ca.crt"): Public("agents and installers need the CA certificate; it is no secret"),
    ("GET", "/api/v1/openapi.json"): Public("the API's description names no data"),
    ("MOUNT", "/static"): Public("stylesheets and vendored scripts"),
    # The caller's own account (a session of any kind; nothing of another user).
    ("POST", "/logout"): Page("self"),
    ("POST", "/account/logout-everywhere"): Page("self"),
    ("GET", "/account"): Page("self"),
    ("GET", "/account/totp"): Page("self"),
    ("POST", "/account/totp"): Page("self"),
    ("GET", "/account/password"): Page("self"),
    ("POST", "/account/password"): Page("self"),
    ("GET", "/account/api-tokens"): Page("self"),
    ("POST", "/account/api-tokens"): Page("self"),
    ("POST", "/account/api-tokens/{token_id}/revoke"): Page("object"),
    # Fleet and devices.
    ("GET", "/"): Page("list"),
    ("GET", "/devices"): Page("list"),
    ("GET", "/devices.csv"): Page("list"),
    ("GET", "/devices/presence"): Page("list"),
    # Tenants, sites, tokens.
    ("GET", "/tenants"): Page("list"),
    ("POST", "/tenants"): Page("admin"),
    ("POST", "/tenants/{tenant_id}/sites"): Page("object"),
    ("GET", "/tokens"): Page("list"),
    ("POST", "/tokens"): Page("list"),
    ("POST", "/tokens/{token_id}/revoke"): Page("object"),
    ("GET", "/devices/add"): Page("list"),
    ("POST", "/devices/add"): Page("list"),
    # The agent bundle names the collector only (no tenant, no token): B may download it.
    ("GET", "/devices/add/bundle"): Page("shared"),
    # One device.
    ("GET", "/devices/{device_id:device_id}"): Page("object"),
    ("GET", "/devices/{device_id:device_id}/revoke"): Page("object"),
    ("POST", "/devices/{device_id:device_id}/revoke"): Page("object"),
    ("POST", "/devices/{device_id:device_id}/inventory-request"): Page("object"),
    ("POST", "/devices/{device_id:device_id}/tags"): Page("object"),
    ("POST", "/devices/{device_id:device_id}/tags/{tag}/remove"): Page("object"),
    # Admin pages.
    ("GET", "/users"): Page("admin"),
    ("POST", "/users"): Page("admin"),
    ("GET", "/users/{username}"): Page("admin"),
    ("POST", "/users/{username}/disable"): Page("admin"),
    ("POST", "/users/{username}/enable"): Page("admin"),
    ("POST", "/users/{username}/reset-totp"): Page("admin"),
    ("POST", "/users/{username}/role"): Page("admin"),
    ("POST", "/users/{username}/sign-out"): Page("admin"),
    ("POST", "/users/{username}/tenants"): Page("admin"),
    ("GET", "/audit"): Page("list"),
    ("GET", "/settings"): Page("admin"),
    # REST API.
    ("GET", "/api/v1/me"): Api("self"),
    ("GET", "/api/v1/tenants"): Api("list"),
    ("POST", "/api/v1/tenants"): Api("admin"),
    ("GET", "/api/v1/tenants/{tenant_id}/sites"): Api("object"),
    ("POST", "/api/v1/tenants/{tenant_id}/sites"): Api("object"),
    ("GET", "/api/v1/enrolment-tokens"): Api("list"),
    ("POST", "/api/v1/enrolment-tokens"): Api("list"),
    ("GET", "/api/v1/enrolment-tokens/{token_id}"): Api("object"),
    ("POST", "/api/v1/enrolment-tokens/{token_id}/revoke"): Api("object"),
    ("GET", "/api/v1/devices"): Api("list"),
    ("GET", "/api/v1/fleet/overview"): Api("list"),
    ("GET", "/api/v1/devices/{device_id:device_id}"): Api("object"),
    ("GET", "/api/v1/devices/{device_id:device_id}/events"): Api("object"),
    ("GET", "/api/v1/devices/{device_id:device_id}/licences"): Api("object"),
    ("GET", "/api/v1/devices/{device_id:device_id}/series"): Api("object"),
    ("GET", "/api/v1/devices/{device_id:device_id}/software"): Api("object"),
    ("POST", "/api/v1/devices/{device_id:device_id}/inventory-request"): Api("object"),
    ("POST", "/api/v1/devices/{device_id:device_id}/revoke"): Api("object"),
    ("PUT", "/api/v1/devices/{device_id:device_id}/tags/{tag}"): Api("object"),
    ("DELETE", "/api/v1/devices/{device_id:device_id}/tags/{tag}"): Api("object"),
    ("GET", "/api/v1/api-tokens"): Api("self"),
    ("POST", "/api/v1/api-tokens"): Api("self"),
    ("GET", "/api/v1/api-tokens/{token_id}"): Api("object"),
    ("DELETE", "/api/v1/api-tokens/{token_id}"): Api("object"),
    ("GET", "/api/v1/audit"): Api("list"),
    ("GET", "/api/v1/users"): Api("admin"),
    ("POST", "/api/v1/users"): Api("admin"),
    ("GET", "/api/v1/users/{username}"): Api("admin"),
    ("PATCH", "/api/v1/users/{username}"): Api("admin"),
    ("POST", "/api/v1/users/{username}/reset-totp"): Api("admin"),
    ("POST", "/api/v1/users/{username}/sign-out"): Api("admin"),
}

# Routes that end the caller's session(s): B signs in afresh after each.
ENDS_SESSION = {("POST", "/logout"), ("POST", "/account/logout-everywhere")}

REFUSED = {403, 404}
# Lists a read-only user may not read at all (the audit log and the enrolment form are for
# technicians): refused, where every other list answers with the reader's own tenants' data.
NOT_FOR_READ_ONLY = {("GET", "/audit"), ("GET", "/api/v1/audit"), ("GET", "/devices/add")}
WRITE_REFUSED = {400, 403, 404, 422}


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route ``app`` serves; mounts as ("MOUNT", path)."""
    found: set[tuple[str, str]] = set()

    def visit(route: Any) -> None:
        if isinstance(route, Mount):
            found.add(("MOUNT", route.path))
            return
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:  # an included router (FastAPI resolves them lazily)
            for candidate in candidates() if callable(candidates) else candidates:
                visit(candidate)
            return
        methods = getattr(route, "methods", None)
        path = getattr(route, "path", None)
        if not methods or not isinstance(path, str):
            raise AssertionError(f"a route of an unknown kind: {route!r}")
        found.update((method, path) for method in methods if method != "HEAD")

    for route in app.routes:
        visit(route)
    return found


def web_app(web: WebHarness) -> FastAPI:
    app = web.collector._http._app  # type: ignore[union-attr]
    assert isinstance(app, FastAPI)
    return app


# --- two tenants with data ---------------------------------------------------------------------

A_TENANT_ID = 914271
A_SITE_ID = 914272
A_TOKEN_ID = 914273
A_API_TOKEN_ID = 914274
A_TENANT = "AlphaCorp-X7"
A_SITE = "AlphaSite-X7"
A_HOST = "alpha-host-q9k"
A_TAG = "alpha-tag-m3"
A_TITLE = "AlphaSoft-X7"
A_USER = "alphauser-z7"
A_API_TOKEN = "alpha-api-X7"
B_TENANT = "BravoCorp"
B_SITE = "BravoSite"
B_HOST = "bravo-host-k2"
B_TITLE = "BravoSoft"
B_USER = "bravouser"
B_API_TOKEN = "bravo-api"


@dataclass
class World:
    web: WebHarness
    a_device: str
    a_user_id: int
    b_device: str
    b_site_id: int
    b_user: str
    b_api_token: str

    @property
    def b_markers(self) -> dict[str, str]:
        """B's names (its small autoincremented ids would match any digit: left out)."""
        return {
            "tenant name": B_TENANT,
            "site name": B_SITE,
            "hostname": B_HOST,
            "device id": self.b_device,
            "tag": f"{B_HOST}-tag",
            "software title": B_TITLE,
            "username": B_USER,
            "API token name": B_API_TOKEN,
        }

    @property
    def a_markers(self) -> dict[str, str]:
        return {
            "tenant name": A_TENANT,
            "site name": A_SITE,
            "hostname": A_HOST,
            "device id": self.a_device,
            "tag": A_TAG,
            "software title": A_TITLE,
            "username": A_USER,
            "API token name": A_API_TOKEN,
            "tenant id": str(A_TENANT_ID),
            "site id": str(A_SITE_ID),
            "enrolment token id": str(A_TOKEN_ID),
            "API token id": str(A_API_TOKEN_ID),
        }

    def path_value(self, path: str, name: str) -> str:
        """Tenant A's object for a path parameter."""
        if name == "token_id":
            return str(A_API_TOKEN_ID if "api-tokens" in path else A_TOKEN_ID)
        values = {
            "tenant_id": str(A_TENANT_ID),
            "site_id": str(A_SITE_ID),
            "device_id": self.a_device,
            "username": A_USER,
            "user_id": str(self.a_user_id),
            "tag": A_TAG,
        }
        if name not in values:
            raise AssertionError(f"{path}: no tenant-A value for path parameter {name!r}")
        return values[name]

    def form(self, csrf: str) -> dict[str, str]:
        """A form body naming A's objects wherever a field could take one."""
        return {
            "csrf_token": csrf,
            "name": "b-probe",
            "site_id": str(A_SITE_ID),
            "tenant_id": str(A_TENANT_ID),
            "tenant": A_TENANT,
            "tenants": A_TENANT,
            "device_id": self.a_device,
            "token_id": str(A_TOKEN_ID),
            "username": A_USER,
            "role": "admin",
            "uses": "1",
            "expires": "1h",
            "days": "1",
            "scopes": "devices:read",
            "tag": "b-probe",
            "code": "000000",
            "current": "wrong password",
            "new": "a new password long enough",
            "confirm": "a different password entirely",
        }

    def json_body(self, fields: set[str] | None) -> dict[str, Any]:
        """A JSON body naming A's objects, with only the fields the operation declares (so
        it is refused for who sends it, not for its shape)."""
        every: dict[str, Any] = {
            "name": "b-probe",
            "site_id": A_SITE_ID,
            "tenant_id": A_TENANT_ID,
            "device_id": self.a_device,
            "uses": 1,
            "expires": "1h",
            "tags": ["b-probe"],
            "username": "bprobe",
            "role": "admin",
            "tenants": [A_TENANT],
            "scopes": ["devices:read"],
        }
        return {k: v for k, v in every.items() if fields is None or k in fields}


async def _device(web: WebHarness, hostname: str, tenant_id: int, site_id: int) -> str:
    device_id = str(uuid.uuid4())
    now = utc_now()
    async with web.sessions.begin() as session:
        session.add(
            DeviceRow(
                id=device_id,
                tenant_id=tenant_id,
                site_id=site_id,
                hostname=hostname,
                os_family="linux",
                agent_version="0.1.0",
                enrolled_at=now - timedelta(days=1),
                last_seen_at=now,
                revoked_at=None,
                current_serial="ab" * 8,
            )
        )
        await session.flush()
        session.add(DeviceTagRow(device_id=device_id, tag=f"{hostname}-tag", created_at=now))
    return device_id


async def _title(web: WebHarness, device_id: str, name: str) -> None:
    async with web.sessions.begin() as session:
        title = SoftwareTitleRow(
            title_key=hashlib.sha256(name.encode()).hexdigest(),
            name=name,
            publisher="",
            source="deb",
        )
        session.add(title)
        await session.flush()
        session.add(
            DeviceSoftwareRow(
                device_id=device_id,
                title_id=title.id,
                version="1.0",
                architecture="amd64",
                identifier=name,
                install_time=None,
            )
        )


async def _user_id(web: WebHarness, username: str) -> int:
    async with web.sessions() as session:
        found = await session.scalar(select(UserRow.id).where(UserRow.username == username))
    assert found is not None
    return int(found)


async def build_world(web: WebHarness) -> World:
    # B's objects first: A's fixed, distinctive ids are then above every id autoincrement
    # gave B (SQLite continues from the largest id), so a marker found is really A's.
    b_site = await web.tenancy.ensure_site(B_TENANT, B_SITE)
    b_site_id = int(b_site.id)
    b_tenant_id = int((await web.tenancy.get_site(b_site_id)).tenant_id)
    b_device = await _device(web, B_HOST, b_tenant_id, b_site_id)
    await _title(web, b_device, B_TITLE)
    tokens = TokenService(web.sessions)
    await tokens.create_for_site(b_site_id, 5, timedelta(hours=1))
    b_user = B_USER
    await web.user(b_user, "technician", (B_TENANT,))
    technician_scopes = sorted(ROLE_ACTIONS["technician"])
    b_api = await web.accounts.create_api_token(
        await _user_id(web, b_user), B_API_TOKEN, technician_scopes, actor=CLI_ACTOR
    )

    now = utc_now()
    async with web.sessions.begin() as session:
        session.add(TenantRow(id=A_TENANT_ID, name=A_TENANT, created_at=now))
        await session.flush()
        session.add(SiteRow(id=A_SITE_ID, tenant_id=A_TENANT_ID, name=A_SITE, created_at=now))
    a_device = await _device(web, A_HOST, A_TENANT_ID, A_SITE_ID)
    async with web.sessions.begin() as session:
        session.add(DeviceTagRow(device_id=a_device, tag=A_TAG, created_at=now))
    await _title(web, a_device, A_TITLE)
    a_token = await tokens.create_for_site(A_SITE_ID, 5, timedelta(hours=1))
    async with web.sessions.begin() as session:
        await session.execute(
            update(EnrollmentTokenRow)
            .where(EnrollmentTokenRow.id == a_token.token_id)
            .values(id=A_TOKEN_ID)
        )

    await web.user(A_USER, "technician", (A_TENANT,))
    a_user_id = await _user_id(web, A_USER)
    a_api = await web.accounts.create_api_token(
        a_user_id, A_API_TOKEN, technician_scopes, actor=CLI_ACTOR
    )
    async with web.sessions.begin() as session:
        await session.execute(
            update(ApiTokenRow).where(ApiTokenRow.id == a_api.token_id).values(id=A_API_TOKEN_ID)
        )
    return World(web, a_device, a_user_id, b_device, b_site_id, b_user, b_api.secret)


async def a_state(web: WebHarness, world: World) -> dict[str, Any]:
    """Everything of tenant A a refused write could have changed."""
    async with web.sessions() as session:
        tenant = await session.get(TenantRow, A_TENANT_ID)
        device = await session.get(DeviceRow, world.a_device)
        token = await session.get(EnrollmentTokenRow, A_TOKEN_ID)
        api_token = await session.get(ApiTokenRow, A_API_TOKEN_ID)
        user = await session.get(UserRow, world.a_user_id)
        assert tenant and device and token and api_token and user
        return {
            "tenant": tenant.name,
            "sites": await session.scalar(
                select(func.count()).where(SiteRow.tenant_id == A_TENANT_ID)
            ),
            "tokens": await session.scalar(
                select(func.count())
                .select_from(EnrollmentTokenRow)
                .join(SiteRow, SiteRow.id == EnrollmentTokenRow.site_id)
                .where(SiteRow.tenant_id == A_TENANT_ID)
            ),
            "token revoked": token.revoked_at,
            "device": (device.hostname, device.revoked_at, device.site_id, device.tenant_id),
            "tags": sorted(
                (await session.scalars(
                    select(DeviceTagRow.tag).where(DeviceTagRow.device_id == world.a_device)
                )).all()
            ),
            "api token revoked": api_token.revoked_at,
            "user": (user.role, user.disabled_at, user.totp_enabled, user.password_hash),
            "user grants": sorted(
                (await session.scalars(
                    select(UserTenantRow.tenant_id).where(UserTenantRow.user_id == user.id)
                )).all()
            ),
        }  # fmt: skip


# --- the walk --------------------------------------------------------------------------------


def concrete(world: World, path: str) -> str:
    result = path
    while "{" in result:
        start = result.index("{")
        end = result.index("}", start)
        name = result[start + 1 : end].split(":")[0]
        result = result[:start] + world.path_value(path, name) + result[end + 1 :]
    return result


def leaks(markers: Mapping[str, str], sent: str, body: str) -> list[str]:
    """The other tenant's ``markers`` in ``body`` that the request (``sent``) did not contain."""
    return [
        f"{what} {value!r}"
        for what, value in markers.items()
        if value in body and value not in sent
    ]


@dataclass(frozen=True)
class Caller:
    """Who walks the routes (besides anonymous): a user signed in with a session, and the
    same user's API token. ``reads_a``: a read-only user of tenant A (the object paths name
    things they may see, but never change); else a user of tenant B. ``hidden``: the markers
    of the tenant they must never see."""

    who: str
    username: str
    api_token: str
    reads_a: bool
    hidden: Mapping[str, str]
    read_only: bool = False

    def list_status(self, route: tuple[str, str]) -> int:
        """What a GET of a list route answers this caller."""
        return 403 if self.read_only and route in NOT_FOR_READ_ONLY else 200


@dataclass
class Outcome:
    route: tuple[str, str]
    who: str
    status: int
    problem: str


def required_queries(openapi: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """(method, path) → a valid value for each required query parameter (its first enum
    value, else its default, else "1"), so a refusal is about who asks."""
    queries: dict[tuple[str, str], dict[str, str]] = {}
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            values = {}
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("required"):
                    schema = parameter.get("schema", {})
                    value = schema.get("enum", [schema.get("default", "1")])[0]
                    values[parameter["name"]] = str(value)
            queries[(method.upper(), path)] = values
    return queries


def body_fields(openapi: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(method, path) → the property names of its JSON request body, from the OpenAPI doc."""
    schemas = openapi.get("components", {}).get("schemas", {})
    fields: dict[tuple[str, str], set[str]] = {}
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            ref = schema.get("$ref", "")
            if ref:
                schema = schemas[ref.rsplit("/", 1)[-1]]
            fields[(method.upper(), path)] = set(schema.get("properties", {}))
    return fields


class Walker:
    def __init__(self, web: WebHarness, world: World, openapi: dict[str, Any]) -> None:
        self.web = web
        self.world = world
        self.fields = body_fields(openapi)
        self.queries = required_queries(openapi)
        self.problems: list[Outcome] = []
        self.requests = 0

    async def send(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        *,
        csrf: str = "",
        bearer: str = "",
        api: bool,
    ) -> tuple[httpx.Response, str]:
        url = concrete(self.world, path)
        headers: dict[str, str] = {}
        if csrf:
            headers["X-CSRF-Token"] = csrf
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        documented = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # OpenAPI drops convertors
        query = self.queries.get((method, documented), {})
        sent = url + json.dumps(query)
        if method == "GET":
            response = await client.request(method, url, headers=headers, params=query)
        elif api:
            body = self.world.json_body(self.fields.get((method, documented)))
            sent += json.dumps(body)
            response = await client.request(method, url, headers=headers, json=body, params=query)
        else:
            form = self.world.form(csrf)
            sent += json.dumps(form)
            response = await client.request(method, url, headers=headers, data=form)
        self.requests += 1
        return response, sent

    def check(self, route: tuple[str, str], who: str, ok: bool, response: httpx.Response,
              why: str) -> None:  # fmt: skip
        if not ok:
            self.problems.append(Outcome(route, who, response.status_code, why))

    def check_no_leak(self, route: tuple[str, str], who: str, response: httpx.Response,
                      sent: str, hidden: Mapping[str, str] | None = None) -> None:  # fmt: skip
        markers = self.world.a_markers if hidden is None else hidden
        found = leaks(markers, sent, response.text)
        if found:
            self.problems.append(
                Outcome(route, who, response.status_code, "leaks " + ", ".join(found))
            )
        if response.status_code >= 500:
            self.problems.append(Outcome(route, who, response.status_code, "server error"))

    async def anonymous(self, route: tuple[str, str], kind: Kind) -> None:
        method, path = route
        client = self.web.client()
        response, sent = await self.send(client, method, path, api=isinstance(kind, Api))
        self.check_no_leak(route, "anonymous", response, sent)
        if isinstance(kind, Api):
            self.check(route, "anonymous", response.status_code == 401, response, "not 401")
        elif isinstance(kind, Page):
            to_login = response.status_code == 303 and response.headers.get(
                "location", ""
            ).startswith("/login")
            self.check(
                route,
                "anonymous",
                to_login or response.status_code == 401,
                response,
                "not sent to /login",
            )

    async def judge(
        self, caller: Caller, route: tuple[str, str], kind: Page | Api, who: str,
        response: httpx.Response, sent: str,
    ) -> None:  # fmt: skip
        if caller.reads_a:
            self.as_reader_of_a(caller, route, kind, who, response, sent)
        else:
            self.as_b(route, kind, who, response, sent, caller.list_status(route))

    def as_reader_of_a(
        self, caller: Caller, route: tuple[str, str], kind: Page | Api, who: str,
        response: httpx.Response, sent: str,
    ) -> None:  # fmt: skip
        """Tenant A's read-only user: never a change (but to their own account), never B."""
        method, _ = route
        self.check_no_leak(route, who, response, sent, caller.hidden)
        status = response.status_code
        if method != "GET" and kind.scope != "self":
            self.check(route, who, status in REFUSED, response, f"write not refused ({status})")
        elif kind.scope == "admin":
            self.check(route, who, status in REFUSED, response, f"not refused ({status})")
        elif kind.scope == "list":
            expected = caller.list_status(route)
            self.check(route, who, status == expected, response, f"A's list: {status}")

    def as_b(
        self, route: tuple[str, str], kind: Page | Api, who: str, response: httpx.Response,
        sent: str, list_status: int = 200,
    ) -> None:  # fmt: skip
        method, _ = route
        self.check_no_leak(route, who, response, sent)
        status = response.status_code
        if kind.scope in ("object", "admin"):
            self.check(route, who, status in REFUSED, response, f"not refused ({status})")
        elif kind.scope == "list" and method != "GET":
            self.check(route, who, status in WRITE_REFUSED, response, f"write accepted ({status})")
        elif kind.scope == "list":
            self.check(route, who, status == list_status, response, f"B's list: {status}")
        # "self" (B's own account) and "shared": any answer but a server error or a leak.


async def signed_in_b(web: WebHarness, world: World) -> SignedIn:
    return await web.signed_in(Account(world.b_user, PASSWORD))


def b_technician(world: World) -> Caller:
    return Caller("B", world.b_user, world.b_api_token, False, world.a_markers)


async def reader(web: WebHarness, world: World, tenant: str) -> Caller:
    """A read-only user of ``tenant``, with an API token holding every scope the role may."""
    username = f"reader-{tenant}".lower()
    await web.user(username, READ_ONLY, (tenant,))
    token = await web.accounts.create_api_token(
        await _user_id(web, username), "reader", sorted(ROLE_ACTIONS[READ_ONLY]), actor=CLI_ACTOR
    )
    reads_a = tenant == A_TENANT
    hidden = world.b_markers if reads_a else world.a_markers
    return Caller(f"read-only of {tenant}", username, token.secret, reads_a, hidden, True)


async def walk(
    web: WebHarness,
    world: World,
    routes: Iterable[tuple[str, str]],
    caller: Caller | None = None,
    *,
    anonymous: bool = True,
) -> Walker:
    caller = caller or b_technician(world)
    openapi = (await web.client().get("/api/v1/openapi.json")).json()
    walker = Walker(web, world, openapi)
    b = await web.signed_in(Account(caller.username, PASSWORD))
    # Session-ending routes last, so the rest run on one session.
    ordered = sorted(routes, key=lambda r: (r in ENDS_SESSION, r[1], r[0]))
    for route in ordered:
        kind = ROUTES[route]
        method, path = route
        if route[0] == "MOUNT":
            if anonymous:
                response = await web.client().get(path + "/parc.css")
                walker.check_no_leak(route, "anonymous", response, path)
            continue
        if anonymous:
            await walker.anonymous(route, kind)
        if isinstance(kind, Public):
            continue
        is_api = isinstance(kind, Api)
        if route in ENDS_SESSION:
            b = await web.signed_in(Account(caller.username, PASSWORD))
        response, sent = await walker.send(b.client, method, path, csrf=b.csrf, api=is_api)
        await walker.judge(caller, route, kind, f"{caller.who} session", response, sent)
        if is_api:
            bearer = web.client()
            response, sent = await walker.send(
                bearer, method, path, bearer=caller.api_token, api=True
            )
            await walker.judge(caller, route, kind, f"{caller.who} API token", response, sent)
    return walker


async def test_every_route_is_classified(web: WebHarness) -> None:
    served = served_routes(web_app(web))
    unknown = sorted(served - ROUTES.keys())
    gone = sorted(ROUTES.keys() - served)
    assert not unknown, f"routes the isolation walk does not know (add them to ROUTES): {unknown}"
    assert not gone, f"ROUTES names routes the app no longer serves: {gone}"


async def test_every_route_refuses_anonymous_and_another_tenant(web: WebHarness) -> None:
    world = await build_world(web)
    before = await a_state(web, world)
    served = served_routes(web_app(web)) & ROUTES.keys()

    walker = await walk(web, world, served)

    report = "\n".join(f"{o.route} as {o.who}: {o.status} {o.problem}" for o in walker.problems)
    assert not walker.problems, f"isolation failures:\n{report}"
    assert await a_state(web, world) == before
    assert walker.requests >= len(served)

    # B's lists do hold B's own data: the absence of A's above is isolation, not emptiness.
    b = await signed_in_b(web, world)
    assert B_HOST in (await b.client.get("/devices")).text
    assert B_TENANT in (await b.client.get("/tenants")).text


@pytest.mark.parametrize("tenant", [A_TENANT, B_TENANT], ids=["own tenant", "other tenant"])
async def test_a_read_only_user_changes_nothing_and_sees_no_other_tenant(
    web: WebHarness, tenant: str
) -> None:
    """Read-only of tenant A: every mutating route about A's objects is refused (session and
    API token), and nothing of B's shows. Read-only of B: refused like B's technician."""
    world = await build_world(web)
    caller = await reader(web, world, tenant)
    before = await a_state(web, world)
    served = served_routes(web_app(web)) & ROUTES.keys()

    walker = await walk(web, world, served, caller, anonymous=False)

    report = "\n".join(f"{o.route} as {o.who}: {o.status} {o.problem}" for o in walker.problems)
    assert not walker.problems, f"read-only failures:\n{report}"
    assert await a_state(web, world) == before
    mutating = [
        r for r in served if r[0] not in ("GET", "MOUNT") and not isinstance(ROUTES[r], Public)
    ]
    assert walker.requests >= len(mutating)
    # The reader of A does see A's data: the refusals are about writing, not about seeing.
    if caller.reads_a:
        me = await web.signed_in(Account(caller.username, PASSWORD))
        assert A_HOST in (await me.client.get("/devices")).text
        assert (await me.client.get(f"/devices/{world.a_device}")).status_code == 200


async def test_an_admin_reaches_the_a_objects_the_walk_uses(web: WebHarness) -> None:
    """The refusals above are about who asks: the same GETs answer an admin."""
    world = await build_world(web)
    admin = await web.signed_in(await web.user("walkadmin", "admin"))
    queries = required_queries((await admin.client.get("/api/v1/openapi.json")).json())
    for (method, path), kind in sorted(ROUTES.items()):
        if method != "GET" or "{" not in path or isinstance(kind, Public):
            continue
        query = queries.get((method, re.sub(r"\{(\w+):\w+\}", r"{\1}", path)), {})
        response = await admin.client.get(concrete(world, path), params=query)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    listing = await admin.client.get("/devices", params={"q": A_HOST})
    assert A_HOST in listing.text
