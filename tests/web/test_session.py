"""Signing in and out through the real dashboard: CSRF, TOTP, lockout, expiry, headers."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from server.services import totp
from server.services.accounts import SIGN_IN_FAILED
from server.services.clock import utc_now
from server.services.records import CLI_ACTOR
from server.store.models import UserSessionRow
from server.web.security import CONTENT_SECURITY_POLICY, MAX_BODY_BYTES
from tests.web.conftest import PASSWORD, WebHarness, csrf_from, csrf_meta


async def _login(web: WebHarness, username: str, password: str, code: str = ""):
    client = web.client()
    form = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "code": code,
            "csrf_token": csrf_from(form.text),
        },
    )
    return client, response


async def test_pages_send_strangers_to_sign_in(web: WebHarness) -> None:
    client = web.client()
    response = await client.get("/account?tab=x")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%3Ftab%3Dx"
    assert (await client.get("/")).headers["location"].startswith("/login")


async def test_sign_in_sets_a_hardened_cookie_and_signs_out(web: WebHarness) -> None:
    await web.user("tech", "technician", ("Acme",))
    client, response = await _login(web, "tech", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith("parc_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    home = await client.get("/")
    assert home.status_code == 200
    assert "tech" in home.text
    out = await client.post("/logout", data={"csrf_token": csrf_meta(home.text)})
    assert out.status_code == 303
    assert (await client.get("/")).status_code == 303


async def test_wrong_password_and_unknown_user_read_the_same(web: WebHarness) -> None:
    await web.user("tech", "technician")
    _, wrong = await _login(web, "tech", "not the password at all")
    _, unknown = await _login(web, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert SIGN_IN_FAILED in wrong.text
    assert SIGN_IN_FAILED in unknown.text
    assert "set-cookie" not in {k for k, v in wrong.headers.multi_items() if "parc_session" in v}


async def test_sign_in_form_needs_its_csrf_cookie(web: WebHarness) -> None:
    await web.user("tech", "technician")
    client = web.client()
    response = await client.post(
        "/login", data={"username": "tech", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert "parc_session" not in response.headers.get("set-cookie", "")


async def test_forms_without_the_csrf_token_are_refused(web: WebHarness) -> None:
    signed = await web.signed_in(await web.user("tech", "technician"))
    refused = await signed.client.post("/logout", data={"csrf_token": "0" * 64})
    assert refused.status_code == 403
    assert (await signed.client.get("/")).status_code == 200  # still signed in
    missing = await signed.client.post("/account/logout-everywhere")
    assert missing.status_code == 403
    assert (await signed.client.get("/")).status_code == 200


async def test_admin_needs_the_totp_code_and_a_code_works_once(web: WebHarness) -> None:
    admin = await web.user("root", "admin")
    _, asked = await _login(web, "root", PASSWORD)
    assert asked.status_code == 200
    assert "authenticator" in asked.text.lower()
    assert "parc_session" not in asked.headers.get("set-cookie", "")
    code = admin.next_code()
    _, first = await _login(web, "root", PASSWORD, code)
    assert first.status_code == 303
    _, replay = await _login(web, "root", PASSWORD, code)
    assert replay.status_code == 401
    assert SIGN_IN_FAILED in replay.text


async def test_lockout_after_repeated_failures_refuses_even_the_right_password(
    web: WebHarness,
) -> None:
    await web.user("tech", "technician")
    for _ in range(5):
        _, response = await _login(web, "tech", "wrong password, again")
        assert response.status_code == 401
    _, locked = await _login(web, "tech", PASSWORD)
    assert locked.status_code == 401
    assert SIGN_IN_FAILED in locked.text


async def test_an_expired_session_signs_out(web: WebHarness) -> None:
    signed = await web.signed_in(await web.user("tech", "technician"))
    async with web.sessions.begin() as session:
        await session.execute(
            update(UserSessionRow).values(expires_at=utc_now() - timedelta(seconds=1))
        )
    response = await signed.client.get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_logout_everywhere_ends_every_session(web: WebHarness) -> None:
    account = await web.user("tech", "technician")
    first = await web.signed_in(account)
    second = await web.signed_in(account)
    response = await first.client.post(
        "/account/logout-everywhere", data={"csrf_token": first.csrf}
    )
    assert response.status_code == 303
    assert (await first.client.get("/")).status_code == 303
    assert (await second.client.get("/")).status_code == 303


async def test_new_admin_enrols_totp_then_changes_the_one_time_password(web: WebHarness) -> None:
    created = await web.accounts.create_user("boss", "admin", actor=CLI_ACTOR)
    assert created.password is not None
    client, response = await _login(web, "boss", created.password)
    assert response.headers["location"] == "/account/totp"
    assert (await client.get("/")).headers["location"] == "/account/totp"
    page = await client.get("/account/totp")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in page.text
    secret_match = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret_match is not None
    code = totp.code_at(secret_match.group(1), utc_now())
    confirmed = await client.post(
        "/account/totp", data={"code": code, "csrf_token": csrf_from(page.text)}
    )
    assert confirmed.headers["location"] == "/account/password"
    assert (await client.get("/")).headers["location"] == "/account/password"
    form = await client.get("/account/password")
    new_password = "a brand new long passphrase"
    changed = await client.post(
        "/account/password",
        data={
            "current": created.password,
            "new": new_password,
            "confirm": new_password,
            "csrf_token": csrf_from(form.text),
        },
    )
    assert changed.status_code == 303
    assert (await client.get("/")).status_code == 200


async def test_every_response_carries_the_security_headers(web: WebHarness) -> None:
    response = await web.client().get("/login")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    static = await web.client().get("/static/parc.js")
    assert static.status_code == 200
    assert "immutable" in static.headers["cache-control"]


async def test_an_oversized_body_is_refused_before_it_is_read(web: WebHarness) -> None:
    response = await web.client().post(
        "/login", content=b"x" * (MAX_BODY_BYTES + 1), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413


async def test_sign_in_never_redirects_off_site(web: WebHarness) -> None:
    await web.user("tech", "technician")
    client = web.client()
    form = await client.get("/login?next=//evil.example/")
    assert 'name="next" value="/"' in form.text
    response = await client.post(
        "/login",
        data={
            "username": "tech",
            "password": PASSWORD,
            "next": "https://evil.example/",
            "csrf_token": csrf_from(form.text),
        },
    )
    assert response.headers["location"] == "/"
