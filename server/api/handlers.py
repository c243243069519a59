"""Wrapping a grpc.aio method handler so code runs *inside* the call.

A ``grpc.aio.ServerInterceptor`` only sees the method name and metadata; the peer's
certificate (``context.auth_context()``) is available once the call runs. So the interceptors
here return a copy of the handler whose behaviour runs a guard (an async context manager that
receives the call's context) around the original behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeAlias, cast

import grpc

from server.services.errors import InvalidArgument

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Guard = Callable[[Context], AbstractAsyncContextManager[None]]
Deserializer = Callable[[bytes], Any]

_UnaryOut = Callable[[Any, Context], Awaitable[Any]]
_StreamOut = Callable[[Any, Context], AsyncIterator[Any]]


def _decode(deserializer: Deserializer | None, raw: Any) -> Any:
    if deserializer is None:
        return raw
    try:
        return deserializer(raw)
    except Exception as exc:
        raise InvalidArgument("the request is not a valid message for this method") from exc


async def _decoded_stream(
    deserializer: Deserializer | None, raw_messages: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    async for raw in raw_messages:
        yield _decode(deserializer, raw)


def wrap_handler(handler: Handler, guard: Guard, *, decode_inside: bool = False) -> Handler:
    """Return ``handler`` with ``guard(context)`` entered around its behaviour.

    With ``decode_inside``, request messages reach the behaviour as raw bytes from grpc and are
    parsed inside the guard, so a malformed message raises ``InvalidArgument`` where the guard
    can map it (grpc itself would answer an undecodable message with a generic status).
    """
    deserializer = handler.request_deserializer if decode_inside else None
    request_deserializer = None if decode_inside else handler.request_deserializer
    serializer = handler.response_serializer

    def requests(raw: Any) -> Any:
        if not decode_inside:
            return raw
        if handler.request_streaming:
            return _decoded_stream(deserializer, raw)
        return _decode(deserializer, raw)

    if not handler.response_streaming:
        inner_unary = cast(
            _UnaryOut, handler.unary_unary if handler.unary_unary else handler.stream_unary
        )

        async def unary_behaviour(request: Any, context: Context) -> Any:
            async with guard(context):
                return await inner_unary(requests(request), context)

        make = (
            grpc.stream_unary_rpc_method_handler
            if handler.request_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        return make(
            unary_behaviour,
            request_deserializer=request_deserializer,
            response_serializer=serializer,
        )

    inner_stream = cast(
        _StreamOut, handler.stream_stream if handler.stream_stream else handler.unary_stream
    )

    async def stream_behaviour(request: Any, context: Context) -> AsyncIterator[Any]:
        async with guard(context):
            async for response in inner_stream(requests(request), context):
                yield response

    make_stream = (
        grpc.stream_stream_rpc_method_handler
        if handler.request_streaming
        else grpc.unary_stream_rpc_method_handler
    )
    return make_stream(
        stream_behaviour,
        request_deserializer=request_deserializer,
        response_serializer=serializer,
    )


class WrappedHandlers:
    """The wrapped handler of each method, built on its first call and reused after.

    An interceptor sees every call, but a method's handler is the same object each time: one
    wrapped copy per method (instead of new closures for every call, held as long as the call
    lasts — for a ``Connect`` stream, as long as the agent is connected) is enough.
    """

    def __init__(self, wrap: Callable[[str, Handler], Handler]) -> None:
        self._wrap = wrap
        self._by_method: dict[str, tuple[Handler, Handler]] = {}

    def get(self, method: str, handler: Handler) -> Handler:
        known = self._by_method.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrap(method, handler)
        self._by_method[method] = (handler, wrapped)
        return wrapped
