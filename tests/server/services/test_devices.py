"""Authenticating devices, revoking them and listing the fleet."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from server.services.errors import NotFound, Unauthenticated
from server.services.presence import PresenceRecorder
from tests.server.pki.csrs import csr_der, new_key
from tests.server.services.support import Collector, health, inventory


async def test_authenticate_maps_the_certificate_to_the_device(collector: Collector) -> None:
    enrollment, identity = await collector.enroll()
    assert identity.device_id == enrollment.device_id
    assert identity.serial > 0
    tenant_ids = {tenant.id for tenant in await collector.tenancy.list_tenants()}
    assert identity.tenant_id in tenant_ids
    site = await collector.tenancy.ensure_site("Acme", "HQ")
    assert identity.site_id == site.id


async def test_unknown_serial_is_unauthenticated(collector: Collector) -> None:
    _, identity = await collector.enroll()
    for serial in (identity.serial + 1, 1 << 200, -5):
        with pytest.raises(Unauthenticated, match="not recognised"):
            await collector.devices.authenticate(serial, identity.device_id)


async def test_certificate_of_another_device_is_unauthenticated(collector: Collector) -> None:
    _, first = await collector.enroll()
    _, second = await collector.enroll()
    with pytest.raises(Unauthenticated, match="does not belong"):
        await collector.devices.authenticate(first.serial, second.device_id)


async def test_revoked_device_is_unauthenticated(collector: Collector) -> None:
    _, identity = await collector.enroll()
    await collector.devices.revoke(identity.device_id)
    with pytest.raises(Unauthenticated, match="revoked"):
        await collector.devices.authenticate(identity.serial, identity.device_id)


async def test_expired_certificate_is_unauthenticated(collector: Collector) -> None:
    _, identity = await collector.enroll()
    collector.clock.advance(timedelta(days=30, seconds=1))
    with pytest.raises(Unauthenticated, match="expired"):
        await collector.devices.authenticate(identity.serial, identity.device_id)


async def test_revoke_unknown_device(collector: Collector) -> None:
    with pytest.raises(NotFound):
        await collector.devices.revoke("00000000-0000-4000-8000-000000000000")


async def test_revoke_is_idempotent_and_revoked_since_follows_a_cursor(
    collector: Collector,
) -> None:
    _, first = await collector.enroll()
    _, second = await collector.enroll()
    assert await collector.devices.revoked_since(None) == ([], None)

    first_revoked_at = collector.clock.now
    await collector.devices.revoke(first.device_id)
    revoked, cursor = await collector.devices.revoked_since(None)
    assert (revoked, cursor) == ([first.device_id], first_revoked_at)
    assert await collector.devices.revoked_since(cursor) == ([], cursor)

    collector.clock.advance(timedelta(seconds=3))
    await collector.devices.revoke(first.device_id)  # again: nothing changes
    assert await collector.devices.revoked_since(cursor) == ([], cursor)

    await collector.devices.revoke(second.device_id)
    revoked, newer = await collector.devices.revoked_since(cursor)
    assert revoked == [second.device_id]
    assert newer == collector.clock.now
    summary = await collector.devices.get(first.device_id)
    assert summary.revoked


async def test_touch_moves_last_seen_forward_only(collector: Collector) -> None:
    _, identity = await collector.enroll()
    assert (await collector.devices.get(identity.device_id)).last_seen_at is None
    later = collector.clock.now + timedelta(seconds=30)
    await collector.devices.touch(identity.device_id, later)
    await collector.devices.touch(identity.device_id, later - timedelta(seconds=20))
    assert (await collector.devices.get(identity.device_id)).last_seen_at == later


async def test_online_means_seen_recently_and_not_revoked(collector: Collector) -> None:
    _, identity = await collector.enroll()
    assert not (await collector.devices.get(identity.device_id)).online
    await collector.devices.touch(identity.device_id, collector.clock.now)
    assert (await collector.devices.get(identity.device_id)).online
    collector.clock.advance(timedelta(seconds=90))
    assert (await collector.devices.get(identity.device_id)).online
    collector.clock.advance(timedelta(seconds=1))
    assert not (await collector.devices.get(identity.device_id)).online
    await collector.devices.touch(identity.device_id, collector.clock.now)
    await collector.devices.revoke(identity.device_id)
    summary = await collector.devices.get(identity.device_id)
    assert summary.revoked
    assert not summary.online


async def test_get_unknown_device(collector: Collector) -> None:
    with pytest.raises(NotFound):
        await collector.devices.get("no-such-device")


async def test_list_devices_shows_the_latest_health_of_each(collector: Collector) -> None:
    _, busy = await collector.enroll("Acme", "HQ")
    _, quiet = await collector.enroll("Globex", "Paris")
    _, silent = await collector.enroll("Acme", "Lyon")
    t0 = collector.clock.now
    # Sent out of order: the newest by sample time wins, not the last stored.
    await collector.reports.store_health(
        busy,
        [
            health("b-2", t0 + timedelta(minutes=2), cpu=80.0, disk=91.5),
            health("b-1", t0 + timedelta(minutes=1), cpu=10.0, disk=50.0),
        ],
    )
    await collector.reports.store_health(busy, [health("b-0", t0, cpu=5.0, disk=20.0)])
    await collector.reports.store_health(quiet, [health("q-1", t0, cpu=1.0, disk=5.0)])
    await collector.reports.store_inventory(quiet, [inventory("q-inv", t0, os_name="Windows 11")])

    summaries = {summary.device_id: summary for summary in await collector.devices.list_devices()}
    assert set(summaries) == {busy.device_id, quiet.device_id, silent.device_id}

    latest = summaries[busy.device_id]
    assert (latest.tenant, latest.site, latest.hostname) == ("Acme", "HQ", "pc-042")
    assert latest.cpu_percent == 80.0
    assert latest.disk_percent_max == 91.5
    assert latest.memory_percent == 25.0
    assert latest.load1 == 0.5
    assert latest.uptime_seconds == 3600
    assert latest.health_time == t0 + timedelta(minutes=2)
    assert latest.os_name == "linux"  # no inventory yet: the family it enrolled with
    assert latest.online

    assert summaries[quiet.device_id].cpu_percent == 1.0
    assert summaries[quiet.device_id].os_name == "Windows 11"
    assert (summaries[quiet.device_id].tenant, summaries[quiet.device_id].site) == (
        "Globex",
        "Paris",
    )

    nothing = summaries[silent.device_id]
    assert nothing.cpu_percent is None
    assert nothing.disk_percent_max is None
    assert nothing.health_time is None
    assert not nothing.online


async def test_old_certificate_still_authenticates_until_it_expires(collector: Collector) -> None:
    _, identity = await collector.enroll()
    await collector.enrollment.renew(identity, csr_der(new_key()))
    again = await collector.devices.authenticate(identity.serial, identity.device_id)
    assert again == identity


async def test_touch_many_writes_every_mark_and_never_moves_backwards(
    collector: Collector,
) -> None:
    _, first = await collector.enroll()
    _, second = await collector.enroll()
    later = collector.clock.now + timedelta(seconds=30)
    await collector.devices.touch(first.device_id, later)
    await collector.devices.touch_many(
        {first.device_id: later - timedelta(seconds=10), second.device_id: later}
    )
    assert (await collector.devices.get(first.device_id)).last_seen_at == later
    assert (await collector.devices.get(second.device_id)).last_seen_at == later


async def test_presence_recorder_coalesces_marks_into_one_write(collector: Collector) -> None:
    _, identity = await collector.enroll()
    presence = PresenceRecorder(collector.devices)
    newest = collector.clock.now + timedelta(seconds=5)
    presence.seen(identity.device_id, newest)
    presence.seen(identity.device_id, newest - timedelta(seconds=3))
    assert presence.pending == 1
    assert (await collector.devices.get(identity.device_id)).last_seen_at is None
    assert await presence.flush() == 1
    assert presence.pending == 0
    assert (await collector.devices.get(identity.device_id)).last_seen_at == newest
    assert await presence.flush() == 0


class _FailingStore:
    async def touch_many(self, marks: Mapping[str, datetime]) -> None:
        raise OSError("database unreachable")


async def test_presence_marks_survive_a_failed_write() -> None:
    presence = PresenceRecorder(_FailingStore())
    when = datetime(2026, 1, 1, tzinfo=UTC)
    presence.seen("device-1", when)
    with pytest.raises(OSError, match="unreachable"):
        await presence.flush()
    assert presence.pending == 1
