"""``Server-Timing: app;dur=<ms>`` on every response: how long the app took to answer.

The time runs from the request reaching this middleware to the response's headers being
sent. For a plain response that is the whole of the work; for a streaming one (the CSV
export) it is the time to the first byte, since headers cannot wait for the last one:
benchmarks take a stream's full time on the client side (``bench/dashboard_http.py``).
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METRIC = "app"


class ServerTiming:
    """ASGI middleware adding the ``Server-Timing`` header (milliseconds, 0.1 ms precision)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_ms = (time.perf_counter() - started) * 1000
                MutableHeaders(scope=message).append(
                    "server-timing", f"{METRIC};dur={elapsed_ms:.1f}"
                )
            await send(message)

        await self._app(scope, receive, send_timed)
