"""Who is calling: the client certificate → the device, checked on every call but Enroll.

The agent port requires a client certificate issued by the collector's CA (TLS verifies the
chain); the enrolment port asks for none. This interceptor lets ``Enroll`` through without a
certificate and, for every other method, maps the verified peer certificate to a device
through ``DeviceService.authenticate`` (which refuses unknown, revoked and expired serials;
the serial and CN of each certificate are read once, then remembered by its SHA-256). A
non-Enroll call on the enrolment port has no certificate and is refused UNAUTHENTICATED.

The identity reaches the servicer through a context variable: grpc.aio runs each call in its
own task, whose context is a copy, so a value set inside one call is seen by that call only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import grpc

from server.api.handlers import Context, Handler, WrappedHandlers, wrap_handler
from server.pki.peer import PeerIdentityCache
from server.services.errors import Unauthenticated
from server.services.records import DeviceIdentity

PEER_CERTIFICATE_KEY = "x509_pem_cert"
ENROLL_METHOD = "/parc.v1.AgentService/Enroll"

_caller: ContextVar[DeviceIdentity | None] = ContextVar("parc_caller", default=None)


class DeviceAuthenticator(Protocol):
    """What the interceptor needs from ``DeviceService``."""

    async def authenticate(self, serial: int, device_id: str) -> DeviceIdentity: ...


def current_device() -> DeviceIdentity:
    """The authenticated device of the running call (set by ``AuthInterceptor``)."""
    identity = _caller.get()
    if identity is None:
        raise Unauthenticated("this call needs a client certificate")
    return identity


def peer_certificate(context: Context) -> bytes | None:
    """The client certificate (PEM) TLS verified for this call, if any."""
    certificates = list(context.auth_context().get(PEER_CERTIFICATE_KEY, ()))
    return certificates[0] if certificates else None


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates every call except the ones in ``public_methods``."""

    def __init__(
        self,
        devices: DeviceAuthenticator,
        public_methods: Collection[str] = (ENROLL_METHOD,),
    ) -> None:
        self._devices = devices
        # Parsing a PEM on every call is costly: each certificate is read once (bounded LRU).
        self._peer_identity = PeerIdentityCache()
        self._public = frozenset(public_methods)
        self._wrapped = WrappedHandlers(
            lambda _, handler: wrap_handler(handler, self._authenticated)
        )

    @asynccontextmanager
    async def _authenticated(self, context: Context) -> AsyncIterator[None]:
        certificate = peer_certificate(context)
        if certificate is None:
            raise Unauthenticated("a client certificate is required; enrol first")
        serial, device_id = self._peer_identity(certificate)
        # This frame lives as long as the call (a stream: as long as the agent is connected):
        # it keeps no certificate.
        del certificate
        identity = await self._devices.authenticate(serial, device_id)
        # Not reset afterwards: the call's task and its context end with the call, and a
        # streaming behaviour may be closed from another context.
        _caller.set(identity)
        del identity
        yield

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler: Handler | None = await continuation(handler_call_details)
        if handler is None or handler_call_details.method in self._public:
            return handler
        return self._wrapped.get(handler_call_details.method, handler)
