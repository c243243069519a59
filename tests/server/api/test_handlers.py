"""Wrapped handlers are built once per method and reused while the method's handler is the same."""

from __future__ import annotations

from typing import Any

import grpc

from server.api.handlers import Handler, WrappedHandlers


async def _echo(request: Any, context: Any) -> Any:
    return request


def test_a_method_is_wrapped_once_and_again_when_its_handler_changes() -> None:
    built: list[tuple[str, Handler]] = []

    def wrap(method: str, handler: Handler) -> Handler:
        built.append((method, handler))
        return grpc.unary_unary_rpc_method_handler(_echo)

    wrapped = WrappedHandlers(wrap)
    first: Handler = grpc.unary_unary_rpc_method_handler(_echo)
    second: Handler = grpc.unary_unary_rpc_method_handler(_echo)

    a = wrapped.get("/parc.v1.AgentService/ReportHealth", first)
    assert wrapped.get("/parc.v1.AgentService/ReportHealth", first) is a
    b = wrapped.get("/parc.v1.AgentService/Connect", first)
    assert b is not a
    c = wrapped.get("/parc.v1.AgentService/ReportHealth", second)
    assert c is not a
    assert [m for m, _ in built] == [
        "/parc.v1.AgentService/ReportHealth",
        "/parc.v1.AgentService/Connect",
        "/parc.v1.AgentService/ReportHealth",
    ]
    assert built[2][1] is second
