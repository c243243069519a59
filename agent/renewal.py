"""Certificate renewal at about half the certificate's life, with jitter.

The renewal point is ``not_before + lifetime * f`` with ``f`` drawn once per certificate
from [0.4, 0.6], so a fleet enrolled together does not renew together. A new key and CSR
are made on the device; the collector signs them over the current mTLS channel; the new
pair replaces the old atomically and the channel is rebuilt. A refusal is logged and
retried later with backoff.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc

from agent.backoff import Backoff
from agent.channel import RPC_TIMEOUT_S, ChannelFactory, ChannelHolder
from agent.identity import (
    CertificateInfo,
    Identity,
    IdentityError,
    certificate_info,
    certificate_matches_key,
    load_identity,
    new_key_and_csr,
    store_renewed,
)
from agent.state import StatePaths
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

RENEW_FRACTION = (0.4, 0.6)


class CertificateRenewer:
    """Decides when to renew the device certificate, and renews it."""

    def __init__(
        self,
        paths: StatePaths,
        channels: ChannelHolder,
        channel_factory: Callable[[Identity], ChannelFactory],
        *,
        uniform: Callable[[float, float], float] = random.uniform,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        backoff: Backoff | None = None,
        rpc_timeout: float = RPC_TIMEOUT_S,
    ) -> None:
        self._paths = paths
        self._channels = channels
        self._channel_factory = channel_factory
        self._uniform = uniform
        self._now = now
        self._backoff = backoff or Backoff(base=60.0, cap=3600.0, uniform=uniform)
        self._rpc_timeout = rpc_timeout
        self._retry_at: datetime | None = None
        self._set_certificate(load_identity(paths).cert_pem)

    def _set_certificate(self, cert_pem: bytes) -> None:
        self.certificate: CertificateInfo = certificate_info(cert_pem)
        fraction = self._uniform(*RENEW_FRACTION)
        lifetime = self.certificate.not_after - self.certificate.not_before
        self.due: datetime = self.certificate.not_before + lifetime * fraction
        log.info(
            "certificate %s valid until %s; renewal from %s",
            self.certificate.serial_hex,
            self.certificate.not_after.isoformat(timespec="seconds"),
            self.due.isoformat(timespec="seconds"),
        )

    def check_interval(self) -> float:
        """How often to check, in seconds: often enough for short-lived certificates."""
        return min(300.0, max(5.0, self.certificate.lifetime_seconds / 50))

    async def check(self) -> bool:
        """Renews when due (and not waiting after a failure); returns whether it renewed."""
        now = self._now()
        if now < self.due or (self._retry_at is not None and now < self._retry_at):
            return False
        return await self.renew()

    async def renew(self) -> bool:
        key_pem, csr_der = new_key_and_csr()
        stub = pb_grpc.AgentServiceStub(self._channels.channel)
        try:
            reply = await stub.RenewCertificate(
                pb.RenewCertificateRequest(csr_der=csr_der), timeout=self._rpc_timeout
            )
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAUTHENTICATED):
                log.error(
                    "the collector refused to renew certificate %s (%s: %s)",
                    self.certificate.serial_hex,
                    code.name,
                    exc.details(),
                )
            else:
                log.warning("certificate renewal failed (%s: %s)", code.name, exc.details())
            self._schedule_retry()
            return False
        cert_pem = reply.certificate_pem.encode()
        try:
            if not certificate_matches_key(cert_pem, key_pem):
                raise IdentityError("the renewed certificate is not for the new key")
            self._store(key_pem, cert_pem)
        except (IdentityError, OSError) as exc:
            log.error("cannot use the renewed certificate: %s", exc)
            self._schedule_retry()
            return False
        self._retry_at = None
        self._backoff.reset()
        self._set_certificate(cert_pem)
        await self._channels.rebuild(self._channel_factory(load_identity(self._paths)))
        return True

    def _store(self, key_pem: bytes, cert_pem: bytes) -> None:
        store_renewed(self._paths, key_pem, cert_pem)

    def _schedule_retry(self) -> None:
        delay = self._backoff.next_delay()
        self._retry_at = self._now() + timedelta(seconds=delay)
        log.info("next renewal attempt in %.0f s", delay)
