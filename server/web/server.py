"""Serving the dashboard and REST API over HTTP(S) inside the collector's event loop.

HTTPS with the collector's server certificate (or the one given); plain HTTP only on a
loopback address, where nothing leaves the machine (quickstart, tests). Uvicorn runs as a
task of the collector's loop: the collector owns the signals and the shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from server.settings import Address

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
BACKLOG = 512


class HttpBindError(RuntimeError):
    """The dashboard's address could not be bound."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``localhost`` counts)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class TlsFiles:
    """The certificate chain and key the dashboard serves HTTPS with."""

    certificate: Path
    key: Path


class _EmbeddedServer(uvicorn.Server):
    """Uvicorn without its own signal handlers: the collector decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(address: Address) -> socket.socket:
    """The listening socket, made so that every accepted connection has TCP_NODELAY.

    asyncio disables Nagle's algorithm on each accepted connection, but only when the socket's
    protocol says TCP: ``socket.create_server`` makes it with protocol 0, accepted sockets
    inherit that, and small kept-alive answers then wait for the client's delayed ACK (about
    40 ms on Linux). So the protocol is given explicitly; the option is also set on the
    listener, which Linux copies to the connections it accepts.
    """
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":  # as socket.create_server: rebind at once after a restart
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:  # as socket.create_server: IPv6 only, never dual-stack
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((address.host, address.port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise HttpBindError(f"cannot listen on {address}: {exc.strerror or exc}") from exc
    return sock


class HttpServer:
    """One listening HTTP(S) endpoint; ``start`` returns once it accepts connections."""

    def __init__(self, app: ASGIApp, address: Address, tls: TlsFiles | None) -> None:
        if tls is None and not is_loopback(address.host):
            raise HttpBindError(
                f"refusing to serve plain HTTP on {address}: use a loopback address, "
                "or HTTPS (the default)"
            )
        self._app = app
        self._requested = address
        self._tls = tls
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None
        self.address = address

    @property
    def scheme(self) -> str:
        return "http" if self._tls is None else "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.address}"

    async def start(self) -> None:
        sock = _bind(self._requested)
        self.address = self._requested.with_port(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            ssl_certfile=str(self._tls.certificate) if self._tls else None,
            ssl_keyfile=str(self._tls.key) if self._tls else None,
            timeout_graceful_shutdown=5,
            h11_max_incomplete_event_size=64 * 1024,
        )
        server = _EmbeddedServer(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="http-server")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while not server.started:
            if self._task.done():
                sock.close()
                self._task.result()  # raises what stopped it
                raise HttpBindError(f"the dashboard did not start on {self.address}")
            if loop.time() > deadline:
                sock.close()
                raise HttpBindError(f"the dashboard did not start on {self.address} in time")
            await asyncio.sleep(0.02)
        log.info("dashboard listening on %s", self.url)

    async def stop(self) -> None:
        """Stop accepting, let running requests finish (a few seconds at most)."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._server = None
        self._task = None
