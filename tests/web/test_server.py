"""The dashboard's listener: HTTPS with the collector's certificate, plain HTTP only on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import stat
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from server.app import serve
from server.pki import PkiPaths
from server.services.accounts import AccountService
from server.services.records import CLI_ACTOR
from server.services.secrets import SecretBox
from server.settings import Address, CollectorSettings, load_settings, parse_http_listen
from server.store.database import create_engine, resolve_database_url, session_factory
from server.web.server import HttpBindError, HttpServer, TlsFiles, is_loopback
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


async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


def _accepted_socket(server_address: tuple[str, int], client_address: tuple[str, int]) -> int:
    """TCP_NODELAY of the server's end of the connection from ``client_address``: found among
    this process's open sockets (the server runs in it) by its addresses, not assumed."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        with contextlib.suppress(OSError):
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            probe = socket.socket(fileno=os.dup(fd))
            with probe:
                if probe.type != socket.SOCK_STREAM or probe.family != socket.AF_INET:
                    continue
                with contextlib.suppress(OSError):
                    if (probe.getsockname(), probe.getpeername()) == (
                        server_address,
                        client_address,
                    ):
                        found.append(probe.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
async def test_accepted_connections_send_without_nagle_delay(tmp_path: Path, https: bool) -> None:
    """Every connection the dashboard accepts has TCP_NODELAY, so a small answer on a
    kept-alive connection is not held back until the client's delayed ACK."""
    tls = None
    client_tls: ssl.SSLContext | None = None
    if https:
        prepare_data_dir(tmp_path)
        paths = PkiPaths.from_data_dir(tmp_path)
        tls = TlsFiles(paths.server_certificate, paths.server_key)
        client_tls = ssl.create_default_context(cafile=str(paths.ca_certificate))
    server = HttpServer(_hello, Address(LOOPBACK, 0), tls)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection(
            LOOPBACK,
            server.address.port,
            ssl=client_tls,
            server_hostname="localhost" if https else None,
        )
        try:
            for _ in range(2):  # two answers on one kept-alive connection
                writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200"), head
                assert await reader.readexactly(2) == b"ok"
            client = writer.get_extra_info("sockname")
            assert _accepted_socket((LOOPBACK, server.address.port), client) == 1
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()
    finally:
        await server.stop()
