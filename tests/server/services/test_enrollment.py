"""Enrolment with a token and a CSR, and certificate renewal."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from server.pki import peer_identity
from server.services.errors import FailedPrecondition, InvalidArgument, Unauthenticated
from server.services.records import AgentFacts
from server.store.models import CertificateRow, DeviceRow, serial_hex
from tests.server.pki.csrs import csr_der, greedy_csr_der, new_key, tampered_csr_der
from tests.server.services.support import FACTS, Collector


async def uses_count(collector: Collector) -> int:
    [info] = await collector.tokens.list()
    return info.uses_count


async def assert_nothing_enrolled(collector: Collector) -> None:
    assert await collector.count(DeviceRow) == 0
    assert await collector.count(CertificateRow) == 0
    assert await uses_count(collector) == 0


async def test_enrol_creates_the_device_and_its_certificate(collector: Collector) -> None:
    token = await collector.tokens.create("Acme", "Lyon", uses=2, ttl=timedelta(hours=1))
    key = new_key()
    enrollment = await collector.enrollment.enroll(token.secret, greedy_csr_der(key), FACTS)

    assert uuid.UUID(enrollment.device_id).version == 4
    assert (enrollment.tenant, enrollment.site) == ("Acme", "Lyon")
    assert enrollment.ca_certificate_pem == collector.ca.ca_certificate_pem
    assert enrollment.signing_public_key == collector.ca.signing_public_key
    certificate = x509.load_pem_x509_certificate(enrollment.certificate_pem.encode())
    assert certificate.subject == x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, enrollment.device_id)]
    )
    assert certificate.public_key() == key.public_key()
    assert certificate.not_valid_after_utc == collector.clock.now + timedelta(days=30)

    async with collector.sessions() as session:
        device = await session.get(DeviceRow, enrollment.device_id)
        stored = await session.get(CertificateRow, serial_hex(certificate.serial_number))
    assert device is not None
    assert (device.hostname, device.os_family, device.agent_version) == ("pc-042", "linux", "0.1.0")
    assert device.enrolled_at == collector.clock.now
    assert device.current_serial == serial_hex(certificate.serial_number)
    assert stored is not None
    assert stored.device_id == enrollment.device_id
    assert stored.not_after == certificate.not_valid_after_utc
    assert await uses_count(collector) == 1


async def test_unknown_token(collector: Collector) -> None:
    await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(hours=1))
    for secret in ["parc_not-the-right-one", "", "x" * 10_000]:
        with pytest.raises(Unauthenticated, match="enrolment token not recognised"):
            await collector.enrollment.enroll(secret, csr_der(new_key()), FACTS)
    await assert_nothing_enrolled(collector)


async def test_expired_token(collector: Collector) -> None:
    token = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(hours=1))
    collector.clock.advance(timedelta(hours=1))
    with pytest.raises(Unauthenticated, match="enrolment token has expired"):
        await collector.enrollment.enroll(token.secret, csr_der(new_key()), FACTS)
    await assert_nothing_enrolled(collector)


async def test_revoked_token(collector: Collector) -> None:
    token = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(hours=1))
    await collector.tokens.revoke(token.token_id)
    with pytest.raises(Unauthenticated, match="enrolment token has been revoked"):
        await collector.enrollment.enroll(token.secret, csr_der(new_key()), FACTS)
    await assert_nothing_enrolled(collector)


async def test_used_up_token(collector: Collector) -> None:
    token = await collector.tokens.create("Acme", "HQ", uses=2, ttl=timedelta(hours=1))
    await collector.enrollment.enroll(token.secret, csr_der(new_key()), FACTS)
    await collector.enrollment.enroll(token.secret, csr_der(new_key()), FACTS)
    with pytest.raises(Unauthenticated, match="enrolment token has no uses left"):
        await collector.enrollment.enroll(token.secret, csr_der(new_key()), FACTS)
    assert await collector.count(DeviceRow) == 2
    assert await uses_count(collector) == 2


@pytest.mark.parametrize(
    "bad_csr", [b"", b"garbage", tampered_csr_der()], ids=["empty", "garbage", "bad-signature"]
)
async def test_bad_csr_changes_nothing(collector: Collector, bad_csr: bytes) -> None:
    token = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(hours=1))
    with pytest.raises(InvalidArgument):
        await collector.enrollment.enroll(token.secret, bad_csr, FACTS)
    await assert_nothing_enrolled(collector)
    # The use was not spent: the token still works.
    await collector.enrollment.enroll(token.secret, csr_der(new_key()), FACTS)
    assert await uses_count(collector) == 1


async def test_oversized_facts_are_refused(collector: Collector) -> None:
    token = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(hours=1))
    facts = AgentFacts(hostname="h" * 300, agent_version="0.1.0", os_family="linux")
    with pytest.raises(InvalidArgument, match="hostname"):
        await collector.enrollment.enroll(token.secret, csr_der(new_key()), facts)
    await assert_nothing_enrolled(collector)


async def test_concurrent_enrolments_with_a_single_use_token(collector: Collector) -> None:
    token = await collector.tokens.create("Acme", "HQ", uses=1, ttl=timedelta(hours=1))
    csrs = [csr_der(new_key()) for _ in range(8)]
    results = await asyncio.gather(
        *(collector.enrollment.enroll(token.secret, csr, FACTS) for csr in csrs),
        return_exceptions=True,
    )
    successes = [result for result in results if not isinstance(result, BaseException)]
    failures = [result for result in results if isinstance(result, BaseException)]
    assert len(successes) == 1
    assert len(failures) == 7
    assert all(isinstance(failure, Unauthenticated) for failure in failures), failures
    assert await collector.count(DeviceRow) == 1
    assert await collector.count(CertificateRow) == 1
    assert await uses_count(collector) == 1


async def test_renewal_from_the_newest_certificate(collector: Collector) -> None:
    enrollment, identity = await collector.enroll()
    key = new_key()
    renewed_pem = await collector.enrollment.renew(identity, csr_der(key, "ignored"))
    serial, device_id = peer_identity(renewed_pem)
    assert device_id == enrollment.device_id
    assert serial != identity.serial
    assert x509.load_pem_x509_certificate(renewed_pem.encode()).public_key() == key.public_key()
    async with collector.sessions() as session:
        device = await session.get(DeviceRow, device_id)
        serials = set(await session.scalars(select(CertificateRow.serial)))
    assert device is not None
    assert device.current_serial == serial_hex(serial)
    assert serials == {serial_hex(identity.serial), serial_hex(serial)}
    # The new certificate authenticates.
    renewed = await collector.devices.authenticate(serial, device_id)
    assert renewed.serial == serial


async def test_renewal_from_an_old_certificate_is_refused(collector: Collector) -> None:
    _, identity = await collector.enroll()
    await collector.enrollment.renew(identity, csr_der(new_key()))
    with pytest.raises(FailedPrecondition, match="not the newest certificate"):
        await collector.enrollment.renew(identity, csr_der(new_key()))
    assert await collector.count(CertificateRow) == 2


async def test_renewal_with_a_bad_csr_changes_nothing(collector: Collector) -> None:
    _, identity = await collector.enroll()
    with pytest.raises(InvalidArgument):
        await collector.enrollment.renew(identity, tampered_csr_der())
    async with collector.sessions() as session:
        device = await session.get(DeviceRow, identity.device_id)
    assert device is not None
    assert device.current_serial == serial_hex(identity.serial)
    assert await collector.count(CertificateRow) == 1


async def test_renewal_of_a_revoked_device_is_refused(collector: Collector) -> None:
    _, identity = await collector.enroll()
    await collector.devices.revoke(identity.device_id)
    with pytest.raises(Unauthenticated):
        await collector.enrollment.renew(identity, csr_der(new_key()))
    assert await collector.count(CertificateRow) == 1
