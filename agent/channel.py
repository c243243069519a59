"""gRPC channels to the collector: the options, the enrolment channel, the one mTLS channel.

One mTLS channel serves every call of the process (stream and reports); it is rebuilt only
after a certificate renewal, through :class:`ChannelHolder`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc

from agent.address import Address

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
ENROLL_TIMEOUT_S = 15.0
RPC_TIMEOUT_S = 30.0
OLD_CHANNEL_GRACE_S = 5.0

CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
)


def _options(target: Address, tls_name: str) -> list[tuple[str, str | int]]:
    options: list[tuple[str, str | int]] = list(CHANNEL_OPTIONS)
    if tls_name != target.host:
        # The collector's certificate names the --server host; check against that name.
        options.append(("grpc.ssl_target_name_override", tls_name))
    return options


def enroll_channel(target: Address, ca_pem: bytes, *, tls_name: str) -> grpc.aio.Channel:
    """A server-authenticated channel to the enrolment port (no client certificate)."""
    credentials = grpc.ssl_channel_credentials(root_certificates=ca_pem)
    return grpc.aio.secure_channel(target.target, credentials, options=_options(target, tls_name))


def mtls_channel(
    target: Address, *, ca_pem: bytes, key_pem: bytes, cert_pem: bytes
) -> grpc.aio.Channel:
    """A mutual-TLS channel to the agent port, presenting the device certificate."""
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca_pem, private_key=key_pem, certificate_chain=cert_pem
    )
    return grpc.aio.secure_channel(
        target.target, credentials, options=_options(target, target.host)
    )


ChannelFactory = Callable[[], grpc.aio.Channel]


class ChannelHolder:
    """Owns the process's mTLS channel; replaces it after renewal and tells listeners."""

    def __init__(self, factory: ChannelFactory) -> None:
        self._factory = factory
        self._channel = factory()
        self._listeners: list[Callable[[], None]] = []
        self.generation = 0

    @property
    def channel(self) -> grpc.aio.Channel:
        return self._channel

    def on_rebuild(self, listener: Callable[[], None]) -> None:
        """Calls ``listener`` after each rebuild (the stream uses it to reconnect)."""
        self._listeners.append(listener)

    async def rebuild(self, factory: ChannelFactory | None = None) -> None:
        """Switches to a new channel (new credentials); the old one closes after a grace."""
        if factory is not None:
            self._factory = factory
        old = self._channel
        self._channel = self._factory()
        self.generation += 1
        for listener in self._listeners:
            listener()
        await old.close(grace=OLD_CHANNEL_GRACE_S)
        log.info("channel rebuilt with the renewed certificate")

    async def close(self) -> None:
        await self._channel.close()
