"""Schemathesis against the REST API's own OpenAPI document: no 5xx, answers as documented.

The collector runs as a real `parc-server run` process (the dashboard on a loopback port);
schemathesis reads /api/v1/openapi.json from it and sends generated requests for every
operation, once with an admin's API token and once with an admin's dashboard session (cookie
plus the X-CSRF-Token header), checking each answer with ``not_a_server_error`` and the
schema checks it can make (status code documented, content type, response body shape).

The in-process ASGI transport is not used: it runs each call on a fresh event loop, and the
collector's async database engine belongs to the loop it was made in. Over loopback HTTP the
API is exercised exactly as integrations use it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from server.services import totp
from server.services.access import SCOPES
from server.services.accounts import AccountService
from server.services.clock import utc_now
from server.services.records import CLI_ACTOR
from server.services.secrets import SecretBox
from server.store.database import create_engine, resolve_database_url, session_factory
from server.web.app import create_web_app
from server.web.context import WebContext
from tests.e2e.processes import Collector, init_collector, start_collector

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
EXAMPLES_PER_OPERATION = 8


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class ApiTarget:
    collector: Collector
    url: str
    token: str
    token_id: int
    session_cookies: dict[str, str]
    csrf: str


async def _admin(data_dir: Path) -> tuple[str, int, str]:
    """An admin with TOTP (as admins must have) and an API token with every scope."""
    engine = create_engine(resolve_database_url(data_dir, None))
    try:
        accounts = AccountService(session_factory(engine), SecretBox.for_data_dir(data_dir))
        created = await accounts.create_user(ADMIN, "admin", actor=CLI_ACTOR, password=PASSWORD)
        enrolment = await accounts.begin_totp_enrolment(created.user.id)
        earlier = utc_now() - timedelta(seconds=totp.STEP_SECONDS)
        await accounts.confirm_totp_enrolment(
            created.user.id, totp.code_at(enrolment.secret, earlier)
        )
        issued = await accounts.create_api_token(
            created.user.id, "schemathesis", sorted(SCOPES), actor=CLI_ACTOR
        )
        return issued.secret, issued.token_id, enrolment.secret
    finally:
        await engine.dispose()


def _sign_in(url: str, totp_secret: str) -> tuple[dict[str, str], str]:
    """Session cookies and the page's CSRF token, through the real /login form."""
    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as client:
        form = client.get("/login")
        found = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
        assert found is not None
        answer = client.post(
            "/login",
            data={
                "username": ADMIN,
                "password": PASSWORD,
                "code": totp.code_at(totp_secret, utc_now()),
                "csrf_token": found.group(1),
            },
        )
        assert answer.status_code == 303, answer.text
        home = client.get("/")
        meta = re.search(r'<meta name="csrf-token" content="([^"]*)"', home.text)
        assert home.status_code == 200 and meta is not None
        return dict(client.cookies.items()), meta.group(1)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiTarget]:
    data_dir = tmp_path_factory.mktemp("schemathesis") / "collector"
    init_collector(data_dir)
    collector = start_collector(data_dir)
    try:
        collector.create_token("Acme", "HQ")  # a tenant, a site and a token to find
        info: dict[str, Any] = json.loads((data_dir / "run" / "collector.json").read_text())
        url = str(info["http_url"]).rstrip("/")
        token, token_id, totp_secret = asyncio.run(_admin(data_dir))
        cookies, csrf = _sign_in(url, totp_secret)
        _OWN_TOKEN_ID[:] = [token_id]
        yield ApiTarget(collector, url, token, token_id, cookies, csrf)
    finally:
        assert collector.stop() == 0, collector.log()


@pytest.fixture(scope="module")
def api_schema(target: ApiTarget) -> Any:
    # No crash cache: schemathesis would write .schemathesis/ into the working directory.
    config = schemathesis.Config.from_dict({"cache": {"enabled": False}})
    return schemathesis.openapi.from_url(f"{target.url}/api/v1/openapi.json", config=config)


def documented_operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in the app's OpenAPI document (built without a
    collector: the document depends on the routes only)."""
    document = create_web_app(cast(WebContext, None), https=False).openapi()
    return sorted(
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    )


def operation_params() -> list[Any]:
    return [pytest.param(key, id=f"{key[0]} {key[1]}") for key in documented_operations()]


def integer_path_operations() -> list[Any]:
    document = create_web_app(cast(WebContext, None), https=False).openapi()
    params = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = [
                p["name"]
                for p in operation.get("parameters", [])
                if p.get("in") == "path" and p.get("schema", {}).get("type") == "integer"
            ]
            if not names:
                continue
            key = (method.upper(), path)
            documented = {int(code) for code in operation["responses"]}
            params.append(pytest.param(key, names, documented, id=f"{key[0]} {key[1]}"))
    return sorted(params, key=lambda p: p.id)


INT64_MAX = 2**63 - 1


ADMIN = "fuzzadmin"
_OWN_TOKEN_ID: list[int] = []


def worth_sending(case: Any) -> bool:
    """Leaves out two kinds of case. Path ids beyond 64 bits are tested on their own,
    deterministically (test_ids_beyond_64_bits_are_refused_cleanly). And the fuzzing admin
    never acts on itself (revoking its own API token, demoting or signing itself out would
    turn every later call into a 401 and hide the rest)."""
    values = case.path_parameters or {}
    if values.get("username") == ADMIN:
        return False
    if path_of(case).startswith("/api/v1/api-tokens/") and values.get("token_id") in _OWN_TOKEN_ID:
        return False
    return all(not isinstance(v, int) or -INT64_MAX <= v <= INT64_MAX for v in values.values())


def path_of(case: Any) -> str:
    return str(case.operation.path)


def fuzz(
    operation: Any,
    mode: GenerationMode,
    call: Callable[[Any], None],
    examples: int = EXAMPLES_PER_OPERATION,
) -> str | None:
    """Run ``call`` on generated cases of ``operation``; the failure, if any, as text."""

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(case=operation.as_strategy(generation_mode=mode).filter(worth_sending))
    def run(case: Any) -> None:
        call(case)

    try:
        run()
    except Unsatisfiable:
        return None  # nothing to vary in this mode (e.g. no parameters to make invalid)
    except (Exception, BaseExceptionGroup) as exc:  # every failure is reported, per operation
        return f"{operation.label} ({mode.value}): {exc}"
    return None


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def by_token(target: ApiTarget, checks: list[Any]) -> Callable[[Any], None]:
    def call(case: Any) -> None:
        case.call_and_validate(
            base_url=target.url,
            headers={"Authorization": f"Bearer {target.token}"},
            checks=checks,
        )

    return call


def by_session(target: ApiTarget, checks: list[Any]) -> Callable[[Any], None]:
    def call(case: Any) -> None:
        case.call_and_validate(
            base_url=target.url,
            headers={"X-CSRF-Token": target.csrf},
            cookies=target.session_cookies,
            checks=checks,
        )

    return call


def find(api_schema: Any, key: tuple[str, str]) -> Any:
    operation = api_schema.find_operation_by_label(f"{key[0]} {key[1]}")
    assert operation is not None, f"{key} is not in the served document"
    return operation


@pytest.mark.parametrize("key", operation_params())
def test_no_server_error_and_answers_as_documented(
    key: tuple[str, str], api_schema: Any, target: ApiTarget
) -> None:
    """Valid and invalid requests with an admin's API token, valid ones with an admin's
    session: never a 5xx, and bodies and content types as the document says."""
    operation = find(api_schema, key)
    failures = [fuzz(operation, mode, by_token(target, CHECKS)) for mode in MODES]
    failures.append(fuzz(operation, GenerationMode.POSITIVE, by_session(target, CHECKS)))
    # The admin's token and session still work: the cases above were not all refusals.
    still_me = httpx.get(
        f"{target.url}/api/v1/me", headers={"Authorization": f"Bearer {target.token}"}
    )
    assert still_me.status_code == 200, still_me.text
    session_me = httpx.get(f"{target.url}/api/v1/me", cookies=target.session_cookies)
    assert session_me.status_code == 200, session_me.text
    found = [f for f in failures if f]
    assert not found, "\n\n".join(found)


def test_every_status_code_answered_is_documented(api_schema: Any, target: ApiTarget) -> None:
    call = by_token(target, [status_code_conformance])
    failures = [
        fuzz(find(api_schema, key), GenerationMode.NEGATIVE, call, examples=3)
        for key in documented_operations()
        if key[0] != "GET"
    ]
    found = [f for f in failures if f]
    assert not found, "\n\n".join(found)


@pytest.mark.parametrize(("key", "names", "documented"), integer_path_operations())
def test_ids_beyond_64_bits_are_refused_cleanly(
    key: tuple[str, str], names: list[str], documented: set[int], target: ApiTarget
) -> None:
    """An id no store can hold (beyond the 32-bit columns, beyond 64 bits, zero or negative)
    is a documented 4xx (not found or invalid), never a server error."""
    method, path = key
    for value in (2**31, 2**63, 2**64, 2**70, 0, -1, -(2**64)):
        url = path
        for name in names:
            url = url.replace("{" + name + "}", str(value))
        answer = httpx.request(
            method,
            target.url + url,
            headers={"Authorization": f"Bearer {target.token}"},
            json={"name": "x"} if method != "GET" else None,
            timeout=30,
        )
        assert 400 <= answer.status_code < 500, (method, url, answer.status_code, answer.text)
        assert answer.status_code in documented, (method, url, answer.status_code, documented)


@pytest.mark.parametrize(
    "path", ["/api/v1/tenants", "/api/v1/enrolment-tokens", "/api/v1/api-tokens"]
)
def test_a_body_that_is_not_text_is_a_malformed_body(path: str, target: ApiTarget) -> None:
    """Bytes that are not UTF-8 are refused like any malformed JSON: 422, as documented
    (FastAPI alone answers a bare 400 for them, and 422 for text that is not JSON)."""
    for body in (b"z\x13p\xff\xfe\t\xc3", b"{not json"):
        answer = httpx.post(
            target.url + path,
            headers={
                "Authorization": f"Bearer {target.token}",
                "Content-Type": "application/json",
            },
            content=body,
            timeout=30,
        )
        assert answer.status_code == 422, (path, body, answer.status_code, answer.text)
        assert answer.json()["error"]["code"] == "invalid_request", answer.text


def test_body_ids_beyond_the_columns_are_invalid(target: ApiTarget) -> None:
    """A site id in a body is bounded like a path id: 422, never a 5xx."""
    for site_id in (2**31, 2**64, 0):
        answer = httpx.post(
            f"{target.url}/api/v1/enrolment-tokens",
            headers={"Authorization": f"Bearer {target.token}"},
            json={"site_id": site_id, "tenant_id": site_id},
            timeout=30,
        )
        assert answer.status_code == 422, (site_id, answer.status_code, answer.text)


def test_a_blank_name_is_refused_as_documented(target: ApiTarget) -> None:
    """A tenant or site name of spaces passes the length check and is refused by the
    service: 400, documented on both operations."""
    headers = {"Authorization": f"Bearer {target.token}"}
    tenants = httpx.get(f"{target.url}/api/v1/tenants", headers=headers, timeout=30).json()
    for path in ("/api/v1/tenants", f"/api/v1/tenants/{tenants[0]['id']}/sites"):
        answer = httpx.post(target.url + path, headers=headers, json={"name": "   "}, timeout=30)
        assert answer.status_code == 400, (path, answer.status_code, answer.text)
        document = httpx.get(f"{target.url}/api/v1/openapi.json", timeout=30).json()
        operation = document["paths"][path.replace(str(tenants[0]["id"]), "{tenant_id}")]["post"]
        assert "400" in operation["responses"], path


def test_the_served_document_is_the_one_fuzzed(api_schema: Any) -> None:
    """Schemathesis reads every operation the app documents, all under /api/v1."""
    served = {(op.method.upper(), op.path) for op in operations(api_schema)}
    assert served == set(documented_operations())
    assert ("GET", "/api/v1/me") in served
    assert all(path.startswith("/api/v1/") for _, path in served)


def operations(api_schema: Any) -> list[Any]:
    return [result.ok() for result in api_schema.get_all_operations()]
