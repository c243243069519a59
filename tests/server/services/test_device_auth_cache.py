"""``DeviceService.authenticate`` remembers certificates, and refuses as strictly as before.

A revocation by this process is refused on the next call; one by another process sharing the
database (the CLI) within ``REVOCATION_CHECK``; expiry is checked on every call.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from server.services.certificate_cache import (
    ENTRY_TTL,
    REVOCATION_CHECK,
    CertificateCache,
    CertificateFacts,
)
from server.services.devices import DeviceService
from server.services.errors import Unauthenticated
from tests.conftest import FakeClock
from tests.server.services.support import Collector


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0
        self.seen: list[str] = []

    def __call__(self, *args: Any) -> None:
        statement = str(args[2])
        if statement.split(maxsplit=1)[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK"}:
            return  # SQLite's transaction control: not a query
        self.count += 1
        self.seen.append(statement)


@pytest.fixture
def statements(collector: Collector) -> Iterator[StatementCounter]:
    bind = collector.sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    counter = StatementCounter()
    event.listen(bind.sync_engine, "before_cursor_execute", counter)
    yield counter
    event.remove(bind.sync_engine, "before_cursor_execute", counter)


async def test_a_remembered_certificate_needs_no_query(
    collector: Collector, statements: StatementCounter
) -> None:
    _, identity = await collector.enroll()  # enrol authenticates once
    before = statements.count
    for _ in range(5):
        again = await collector.devices.authenticate(identity.serial, identity.device_id)
        assert again == identity
    assert statements.count == before


async def test_revocation_here_is_refused_on_the_next_call(collector: Collector) -> None:
    _, identity = await collector.enroll()
    await collector.devices.authenticate(identity.serial, identity.device_id)
    await collector.devices.revoke(identity.device_id)
    with pytest.raises(Unauthenticated, match="revoked"):
        await collector.devices.authenticate(identity.serial, identity.device_id)


async def test_revocation_by_another_process_is_refused_within_the_check_interval(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    _, other = await collector.enroll()
    await collector.devices.authenticate(identity.serial, identity.device_id)
    # The CLI: its own DeviceService (its own cache) on the same database.
    cli = DeviceService(collector.sessions, collector.clock)
    await cli.revoke(identity.device_id)
    collector.clock.advance(REVOCATION_CHECK)
    with pytest.raises(Unauthenticated, match="revoked"):
        await collector.devices.authenticate(identity.serial, identity.device_id)
    # Devices not revoked still authenticate.
    assert await collector.devices.authenticate(other.serial, other.device_id) == other


async def test_revocations_read_by_the_watcher_are_refused_at_once(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    await collector.devices.authenticate(identity.serial, identity.device_id)
    await DeviceService(collector.sessions, collector.clock).revoke(identity.device_id)
    # The watcher's tick (it then closes the device's stream): no clock advance needed.
    assert await collector.devices.revoked_since(None) == (
        [identity.device_id],
        collector.clock.now,
    )
    with pytest.raises(Unauthenticated, match="revoked"):
        await collector.devices.authenticate(identity.serial, identity.device_id)


async def test_revoking_again_here_drops_what_another_process_revoked(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    await collector.devices.authenticate(identity.serial, identity.device_id)
    await DeviceService(collector.sessions, collector.clock).revoke(identity.device_id)
    assert not await collector.devices.revoke(identity.device_id)  # already revoked
    with pytest.raises(Unauthenticated, match="revoked"):
        await collector.devices.authenticate(identity.serial, identity.device_id)


async def test_expiry_is_checked_on_every_call_of_a_remembered_certificate(
    collector: Collector,
) -> None:
    enrollment, identity = await collector.enroll()
    not_after = x509.load_pem_x509_certificate(
        enrollment.certificate_pem.encode("ascii")
    ).not_valid_after_utc
    # A minute before expiry (well inside the entry's lifetime), then at it.
    collector.clock.now = not_after - timedelta(minutes=1)
    assert await collector.devices.authenticate(identity.serial, identity.device_id) == identity
    collector.clock.advance(timedelta(minutes=1))
    with pytest.raises(Unauthenticated, match="expired"):
        await collector.devices.authenticate(identity.serial, identity.device_id)


async def test_a_remembered_certificate_still_checks_the_common_name(
    collector: Collector,
) -> None:
    _, first = await collector.enroll()
    _, second = await collector.enroll()
    await collector.devices.authenticate(first.serial, first.device_id)
    with pytest.raises(Unauthenticated, match="does not belong"):
        await collector.devices.authenticate(first.serial, second.device_id)


async def test_revocations_are_read_once_per_interval(
    collector: Collector, statements: StatementCounter
) -> None:
    _, identity = await collector.enroll()
    collector.clock.advance(REVOCATION_CHECK)
    before = statements.count
    for _ in range(3):
        await collector.devices.authenticate(identity.serial, identity.device_id)
    # One check of the revocations; nothing was revoked, so the entry stays.
    assert statements.count == before + 1, statements.seen[before:]


# The cache on its own.


def _facts(clock: FakeClock, device_id: str = "d1", *, revoked: bool = False) -> CertificateFacts:
    return CertificateFacts(
        device_id=device_id,
        tenant_id=1,
        site_id=1,
        not_after=clock.now + timedelta(days=1),
        revoked=revoked,
        read_at=clock.now,
    )


def test_a_lookup_begun_before_a_revocation_does_not_store_what_it_read() -> None:
    clock = FakeClock()
    cache = CertificateCache()
    generation = cache.generation
    cache.forget_devices(["d1"])  # revoked while the lookup ran
    cache.put(1, _facts(clock), generation)
    assert cache.get(1, clock.now) is None
    cache.put(1, _facts(clock), cache.generation)
    assert cache.get(1, clock.now) is not None


def test_revoked_devices_are_not_remembered() -> None:
    clock = FakeClock()
    cache = CertificateCache()
    cache.put(1, _facts(clock, revoked=True), cache.generation)
    assert cache.get(1, clock.now) is None


def test_entries_expire_after_their_lifetime_and_when_the_clock_goes_back() -> None:
    clock = FakeClock()
    cache = CertificateCache()
    cache.put(1, _facts(clock), cache.generation)
    cache.put(2, _facts(clock), cache.generation)
    assert cache.get(1, clock.now + ENTRY_TTL - timedelta(seconds=1)) is not None
    assert cache.get(1, clock.now + ENTRY_TTL) is None
    assert cache.get(2, clock.now - timedelta(seconds=1)) is None
    assert len(cache) == 0


def test_the_least_recently_used_entry_goes_first() -> None:
    clock = FakeClock()
    cache = CertificateCache(max_entries=2)
    for serial in (1, 2):
        cache.put(serial, _facts(clock, f"d{serial}"), cache.generation)
    assert cache.get(1, clock.now) is not None  # 2 is now the oldest
    cache.put(3, _facts(clock, "d3"), cache.generation)
    assert cache.get(2, clock.now) is None
    assert cache.get(1, clock.now) is not None
    assert cache.get(3, clock.now) is not None


def test_a_changed_revocation_mark_drops_everything() -> None:
    clock = FakeClock()
    cache = CertificateCache()
    cache.observe((0, None), clock.now)
    cache.put(1, _facts(clock), cache.generation)
    assert not cache.check_due(clock.now + REVOCATION_CHECK - timedelta(microseconds=1))
    assert cache.check_due(clock.now + REVOCATION_CHECK)
    assert cache.check_due(clock.now - timedelta(seconds=1))
    cache.observe((0, None), clock.now + REVOCATION_CHECK)
    assert cache.get(1, clock.now) is not None
    cache.observe((1, clock.now), clock.now + REVOCATION_CHECK)
    assert cache.get(1, clock.now) is None
