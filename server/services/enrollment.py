"""Enrolment (token + CSR -> device identity and certificate) and certificate renewal."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.pki.authority import CertificateAuthority, IssuedCertificate
from server.services import device_events
from server.services.clock import Clock, utc_now
from server.services.errors import FailedPrecondition, InvalidArgument, Unauthenticated
from server.services.records import AgentFacts, DeviceIdentity, Enrollment
from server.services.tokens import hash_token
from server.store.database import begin_write
from server.store.models import (
    CertificateRow,
    DeviceRow,
    EnrollmentTokenRow,
    SiteRow,
    TenantRow,
    serial_hex,
)

MAX_TOKEN_LENGTH = 256
_FACT_LIMITS = {"hostname": 255, "os_family": 32, "agent_version": 64}


def _validate_facts(facts: AgentFacts) -> None:
    for name, limit in _FACT_LIMITS.items():
        value: str = getattr(facts, name)
        if len(value) > limit:
            raise InvalidArgument(f"agent {name} must be at most {limit} characters")
        if not value.isprintable():
            raise InvalidArgument(f"agent {name} must contain only printable characters")


class EnrollmentService:
    """Turns enrolment tokens into devices, and renews device certificates."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ca: CertificateAuthority,
        clock: Clock = utc_now,
        certificate_lifetime: timedelta = timedelta(days=30),
    ) -> None:
        self._sessions = sessions
        self._ca = ca
        self._clock = clock
        self._certificate_lifetime = certificate_lifetime

    async def enroll(self, token: str, csr_der: bytes, facts: AgentFacts) -> Enrollment:
        """Spend one use of ``token`` and enrol a new device for the CSR's key.

        All in one transaction: on any refusal there is no device, no certificate and the
        token's use count is unchanged.
        """
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthenticated("enrolment token not recognised")
        _validate_facts(facts)
        now = self._clock()
        async with self._sessions.begin() as session:
            await begin_write(session)
            row = (
                await session.execute(
                    select(EnrollmentTokenRow, TenantRow.name, SiteRow.name)
                    .join(TenantRow, TenantRow.id == EnrollmentTokenRow.tenant_id)
                    .join(SiteRow, SiteRow.id == EnrollmentTokenRow.site_id)
                    .where(EnrollmentTokenRow.token_hash == hash_token(token))
                )
            ).one_or_none()
            if row is None:
                raise Unauthenticated("enrolment token not recognised")
            token_row, tenant, site = row
            _check_token_usable(token_row, now)
            # Race-safe: of concurrent enrolments, only as many as there are uses left
            # see their conditional update succeed.
            spent = await session.execute(
                update(EnrollmentTokenRow)
                .where(
                    EnrollmentTokenRow.id == token_row.id,
                    EnrollmentTokenRow.uses_count < EnrollmentTokenRow.uses_allowed,
                    EnrollmentTokenRow.revoked_at.is_(None),
                    EnrollmentTokenRow.expires_at > now,
                )
                .values(uses_count=EnrollmentTokenRow.uses_count + 1)
                .execution_options(synchronize_session=False)
            )
            if spent.rowcount != 1:  # type: ignore[attr-defined]
                raise Unauthenticated("enrolment token has no uses left")
            device_id = str(uuid.uuid4())
            issued = self._issue(device_id, csr_der, now)
            session.add(
                DeviceRow(
                    id=device_id,
                    tenant_id=token_row.tenant_id,
                    site_id=token_row.site_id,
                    hostname=facts.hostname,
                    os_family=facts.os_family,
                    agent_version=facts.agent_version,
                    enrolled_at=now,
                    last_seen_at=None,
                    revoked_at=None,
                    current_serial=serial_hex(issued.serial),
                )
            )
            await session.flush()
            session.add(_certificate_row(device_id, issued, now))
            device_events.record_event_in(
                session,
                now,
                device_id,
                token_row.tenant_id,
                device_events.ENROLLED,
                f"enrolled as {facts.hostname} into {tenant} / {site}",
                {"token_id": token_row.id, "agent_version": facts.agent_version},
            )
        return Enrollment(
            device_id=device_id,
            certificate_pem=issued.certificate_pem,
            ca_certificate_pem=self._ca.ca_certificate_pem,
            signing_public_key=self._ca.signing_public_key,
            tenant=tenant,
            site=site,
        )

    async def renew(self, identity: DeviceIdentity, csr_der: bytes) -> str:
        """Issue a new certificate for the CSR's key; return it as PEM.

        Honoured only from the newest certificate issued to the device.
        """
        now = self._clock()
        old_serial = serial_hex(identity.serial)
        async with self._sessions.begin() as session:
            await begin_write(session)
            device = await session.get(DeviceRow, identity.device_id)
            if device is None or device.revoked_at is not None:
                raise Unauthenticated("device is not enrolled or has been revoked")
            if device.current_serial != old_serial:
                raise FailedPrecondition(
                    "renewal refused: not the newest certificate for this device"
                )
            issued = self._issue(identity.device_id, csr_der, now)
            swapped = await session.execute(
                update(DeviceRow)
                .where(
                    DeviceRow.id == identity.device_id,
                    DeviceRow.current_serial == old_serial,
                    DeviceRow.revoked_at.is_(None),
                )
                .values(current_serial=serial_hex(issued.serial))
                .execution_options(synchronize_session=False)
            )
            if swapped.rowcount != 1:  # type: ignore[attr-defined]
                raise FailedPrecondition(
                    "renewal refused: not the newest certificate for this device"
                )
            session.add(_certificate_row(identity.device_id, issued, now))
        return issued.certificate_pem

    def _issue(self, device_id: str, csr_der: bytes, now: datetime) -> IssuedCertificate:
        return self._ca.issue_device_certificate(
            device_id, csr_der, self._certificate_lifetime, now
        )


def _check_token_usable(token: EnrollmentTokenRow, now: datetime) -> None:
    if token.revoked_at is not None:
        raise Unauthenticated("enrolment token has been revoked")
    if token.expires_at <= now:
        raise Unauthenticated("enrolment token has expired")
    if token.uses_count >= token.uses_allowed:
        raise Unauthenticated("enrolment token has no uses left")


def _certificate_row(device_id: str, issued: IssuedCertificate, now: datetime) -> CertificateRow:
    return CertificateRow(
        serial=serial_hex(issued.serial),
        device_id=device_id,
        not_before=issued.not_before,
        not_after=issued.not_after,
        issued_at=now,
    )
