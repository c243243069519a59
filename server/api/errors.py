"""Domain errors to gRPC status codes: the one table, and the interceptor that applies it.

Every call runs inside ``mapped_errors``: a ``ParcError`` becomes its status with the error's
message (written for the caller, never holding secrets); anything unexpected is logged with
its traceback and answered INTERNAL with a generic message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, NoReturn

import grpc

from server.api.handlers import Context, Handler, WrappedHandlers, wrap_handler
from server.services import errors

log = logging.getLogger(__name__)

STATUS_BY_ERROR: Mapping[type[errors.ParcError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
}

INTERNAL_MESSAGE = "internal error"


def status_for(error: errors.ParcError) -> grpc.StatusCode:
    """The status for a domain error (its nearest mapped ancestor; UNKNOWN if none)."""
    for kind in type(error).__mro__:
        code = STATUS_BY_ERROR.get(kind)
        if code is not None:
            return code
    return grpc.StatusCode.UNKNOWN


async def abort_for(context: Context, error: Exception, method: str = "") -> NoReturn:
    """End the call with the status for ``error``."""
    if isinstance(error, errors.ParcError):
        await context.abort(status_for(error), str(error))
    log.error("unexpected error in %s", method or "a call", exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)


@asynccontextmanager
async def mapped_errors(context: Context, method: str = "") -> AsyncIterator[None]:
    """Turn exceptions raised inside into gRPC statuses."""
    try:
        yield
    except grpc.aio.AbortError:
        raise  # the call was already ended with a status
    except NotImplementedError:
        # What a generated servicer base raises for a method added to the contract but not
        # implemented yet.
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "method not implemented")
    except Exception as exc:
        await abort_for(context, exc, method)


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Applies ``mapped_errors`` to every call; parses requests inside it (malformed → INVALID)."""

    def __init__(self) -> None:
        self._wrapped = WrappedHandlers(_with_mapped_errors)

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler: Handler | None = await continuation(handler_call_details)
        if handler is None:
            return None
        return self._wrapped.get(handler_call_details.method, handler)


def _with_mapped_errors(method: str, handler: Handler) -> Handler:
    def guard(context: Context) -> Any:
        return mapped_errors(context, method)

    return wrap_handler(handler, guard, decode_inside=True)
