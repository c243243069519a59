"""The dashboard's listener: HTTPS with the collector's certificate, plain HTTP only on loopback."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from server.app import serve
from server.pki import PkiPaths
from server.services.accounts import AccountService
from server.services.records import CLI_ACTOR
from server.services.secrets import SecretBox
from server.settings import Address, CollectorSettings, load_settings, parse_http_listen
from server.store.database import create_engine, resolve_database_url, session_factory
from server.web.server import HttpBindError, HttpServer, is_loopback
from tests.server.api.conftest import LOOPBACK, prepare_data_dir
from tests.web.conftest import PASSWORD, csrf_from


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
    ],
)
def test_loopback_is_recognised(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_plain_http_is_refused_off_loopback() -> None:
    with pytest.raises(HttpBindError, match="refusing to serve plain HTTP"):
        HttpServer(FastAPI(), Address("0.0.0.0", 0), None)


def test_the_dashboard_listens_by_default_and_can_be_turned_off(tmp_path: Path) -> None:
    assert load_settings(tmp_path, environ={}).http_listen == Address("0.0.0.0", 8443)
    assert parse_http_listen("off") is None
    assert load_settings(tmp_path, http_listen="127.0.0.1:9", environ={}).http_listen == Address(
        "127.0.0.1", 9
    )


async def test_https_uses_the_given_certificate_and_secure_host_cookies(tmp_path: Path) -> None:
    data_dir = tmp_path / "collector"
    prepare_data_dir(data_dir)
    paths = PkiPaths.from_data_dir(data_dir)
    settings = CollectorSettings(
        data_dir=data_dir,
        listen=Address(LOOPBACK, 0),
        enroll_listen=Address(LOOPBACK, 0),
        http_listen=Address(LOOPBACK, 0),
        http_cert=paths.server_certificate,
        http_key=paths.server_key,
    )
    collector = await serve(settings)
    engine = create_engine(resolve_database_url(data_dir, None))
    try:
        assert collector.http_url is not None and collector.http_url.startswith("https://")
        accounts = AccountService(session_factory(engine), SecretBox.for_data_dir(data_dir))
        await accounts.create_user("tech", "technician", actor=CLI_ACTOR, password=PASSWORD)
        trust = ssl.create_default_context(cafile=str(paths.ca_certificate))
        async with httpx.AsyncClient(base_url=collector.http_url, verify=trust) as client:
            form = await client.get("/login")
            assert form.headers["strict-transport-security"].startswith("max-age=")
            login_cookie = form.headers["set-cookie"]
            assert login_cookie.startswith("__Host-parc_login_csrf=")
            assert "Secure" in login_cookie
            signed = await client.post(
                "/login",
                data={"username": "tech", "password": PASSWORD, "csrf_token": csrf_from(form.text)},
            )
            assert signed.status_code == 303
            session_cookie = next(
                value
                for name, value in signed.headers.multi_items()
                if name == "set-cookie" and value.startswith("__Host-parc_session=")
            )
            assert "Secure" in session_cookie and "HttpOnly" in session_cookie
            assert (await client.get("/account")).status_code == 200
        async with httpx.AsyncClient(base_url=collector.http_url, verify=True) as stranger:
            with pytest.raises(httpx.ConnectError):
                await stranger.get("/login")  # not signed by a public CA: refused by default
    finally:
        await collector.stop(0)
        await engine.dispose()
