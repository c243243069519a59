"""The stored health state follows the samples; presence flips; each change is an event."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from sqlalchemy import select

from server.services.device_events import recent_events
from server.services.device_state import PresenceSweep
from server.services.health_state import HealthState
from server.services.reports import ReportService
from server.store.batch import BatchWriter
from server.store.models import DeviceRow
from tests.server.services.support import Collector, health


async def device_row(collector: Collector, device_id: str) -> DeviceRow:
    async with collector.sessions() as session:
        row = await session.scalar(select(DeviceRow).where(DeviceRow.id == device_id))
    assert row is not None
    return row


async def event_kinds(collector: Collector, device_id: str) -> list[str]:
    async with collector.sessions() as session:
        return [event.kind for event in await recent_events(session, device_id)]


async def test_enrolment_is_the_first_event_and_the_state_starts_ok(collector: Collector) -> None:
    _, identity = await collector.enroll()
    row = await device_row(collector, identity.device_id)
    assert (row.health_state, row.health_summary, row.online) == (0, "", False)
    assert await event_kinds(collector, identity.device_id) == ["enrolled"]


async def test_a_full_disk_makes_the_device_critical_and_back_ok_with_two_events(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    await collector.reports.store_health(identity, [health("a", t0, disk=99.0)])
    row = await device_row(collector, identity.device_id)
    assert HealthState(row.health_state) is HealthState.CRITICAL
    assert row.health_summary == "/ is 99 % full"
    assert row.health_changed_at == t0

    collector.clock.advance(timedelta(minutes=1))
    await collector.reports.store_health(identity, [health("b", collector.clock.now, disk=95.0)])
    row = await device_row(collector, identity.device_id)
    assert HealthState(row.health_state) is HealthState.WARNING
    assert row.health_summary == "/ is 95 % full"

    collector.clock.advance(timedelta(minutes=1))
    await collector.reports.store_health(identity, [health("c", collector.clock.now)])
    row = await device_row(collector, identity.device_id)
    assert (HealthState(row.health_state), row.health_summary) == (HealthState.OK, "")
    async with collector.sessions() as session:
        events = await recent_events(session, identity.device_id)
    assert [(e.kind, e.details.get("from"), e.details.get("to")) for e in events] == [
        ("health", "warning", "ok"),
        ("health", "critical", "warning"),
        ("health", "ok", "critical"),
        ("enrolled", None, None),
    ]
    assert events[2].message == "health ok → critical: / is 99 % full"


async def test_the_same_state_again_writes_no_event(collector: Collector) -> None:
    _, identity = await collector.enroll()
    for index in range(3):
        collector.clock.advance(timedelta(minutes=1))
        sample = health(f"r{index}", collector.clock.now, disk=92.0 + index)
        await collector.reports.store_health(identity, [sample])
    assert await event_kinds(collector, identity.device_id) == ["health", "enrolled"]
    assert (await device_row(collector, identity.device_id)).health_summary == "/ is 94 % full"


async def test_high_memory_warns_only_after_fifteen_minutes_of_samples(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    start = collector.clock.now
    states = []
    for minute in range(17):
        collector.clock.now = start + timedelta(minutes=minute)
        sample = dataclasses.replace(health(f"m{minute}", collector.clock.now), memory_percent=95.0)
        await collector.reports.store_health(identity, [sample])
        states.append((await device_row(collector, identity.device_id)).health_state)
    assert states[:15] == [0] * 15
    assert states[15:] == [1, 1]


async def test_the_presence_sweep_writes_offline_and_online_events_once(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    sweep = PresenceSweep(collector.sessions, collector.clock)
    assert await sweep.sweep() == (0, 0)  # never seen: already offline, nothing flips
    await collector.devices.touch(identity.device_id, collector.clock.now)
    assert await sweep.sweep() == (1, 0)
    assert await sweep.sweep() == (0, 0)
    collector.clock.advance(timedelta(seconds=91))
    assert await sweep.sweep() == (0, 1)
    assert await sweep.sweep() == (0, 0)
    assert (await device_row(collector, identity.device_id)).online is False
    assert await event_kinds(collector, identity.device_id) == ["offline", "online", "enrolled"]


async def test_revoked_devices_are_left_out_of_the_sweep_and_revoking_is_an_event(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    await collector.devices.touch(identity.device_id, collector.clock.now)
    await collector.devices.revoke(identity.device_id)
    await collector.devices.revoke(identity.device_id)  # again: no second event
    assert await PresenceSweep(collector.sessions, collector.clock).sweep() == (0, 0)
    assert await event_kinds(collector, identity.device_id) == ["revoked", "enrolled"]


async def test_a_late_sample_is_judged_with_the_newest_stored_one(collector: Collector) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    await collector.reports.store_health(identity, [health("new", t0, disk=99.0)])
    collector.clock.advance(timedelta(minutes=1))
    # Sent late (spooled while offline): older than the one stored, and fine on its own.
    late = health("late", t0 - timedelta(minutes=5), disk=10.0)
    await collector.reports.store_health(identity, [late])
    row = await device_row(collector, identity.device_id)
    assert (HealthState(row.health_state), row.health_summary) == (
        HealthState.CRITICAL,
        "/ is 99 % full",
    )
    assert await event_kinds(collector, identity.device_id) == ["health", "enrolled"]


async def test_a_resent_report_id_is_judged_as_first_stored(collector: Collector) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    await collector.reports.store_health(identity, [health("same", t0, disk=99.0)])
    collector.clock.advance(timedelta(minutes=1))
    # The same report id again with other values: stored once, so judged as first sent.
    await collector.reports.store_health(identity, [health("same", t0, disk=10.0)])
    row = await device_row(collector, identity.device_id)
    assert HealthState(row.health_state) is HealthState.CRITICAL
    assert row.health_summary == "/ is 99 % full"


async def test_high_memory_in_a_late_batch_counts_with_the_stored_samples(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    start = collector.clock.now
    high = [
        dataclasses.replace(
            health(f"m{minute}", start + timedelta(minutes=minute)), memory_percent=95.0
        )
        for minute in range(16)
    ]
    # The newer half first, then the older half in one batch: together 15 minutes of high use.
    collector.clock.now = start + timedelta(minutes=16)
    await collector.reports.store_health(identity, high[8:])
    assert (await device_row(collector, identity.device_id)).health_state == 0
    await collector.reports.store_health(identity, high[:8])
    row = await device_row(collector, identity.device_id)
    assert HealthState(row.health_state) is HealthState.WARNING
    assert row.health_summary == "memory over 90 % for 15 minutes"


async def test_a_health_report_never_moves_last_seen_backwards(collector: Collector) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    await collector.devices.touch(identity.device_id, t0 + timedelta(seconds=30))
    await collector.reports.store_health(identity, [health("a", t0)])
    assert (await device_row(collector, identity.device_id)).last_seen_at == t0 + timedelta(
        seconds=30
    )
    collector.clock.advance(timedelta(minutes=1))
    await collector.reports.store_health(identity, [health("b", collector.clock.now)])
    row = await device_row(collector, identity.device_id)
    assert row.last_seen_at == collector.clock.now


async def test_reports_batched_by_the_writer_are_judged_as_if_one_by_one(
    collector: Collector,
) -> None:
    (_, first), (_, second) = await collector.enroll(), await collector.enroll()
    writer = BatchWriter(collector.sessions)
    writer.start()
    reports = ReportService(collector.sessions, collector.clock, writer)
    t0 = collector.clock.now
    # All queued before the writer task runs again: one batch, the first device's in order.
    pending = [
        reports.store_health(first, [health("a", t0, disk=99.0)]),
        reports.store_health(second, [health("x", t0, disk=95.0)]),
        reports.store_health(first, [health("b", t0 + timedelta(minutes=1))]),
        reports.store_health(first, [health("c", t0 + timedelta(minutes=2), disk=93.0)]),
    ]
    tasks = [asyncio.create_task(call) for call in pending]
    assert [await task for task in tasks] == [["a"], ["x"], ["b"], ["c"]]
    await writer.stop()
    assert writer.batches == 1
    async with collector.sessions() as session:
        events = await recent_events(session, first.device_id)
    assert [(e.details.get("from"), e.details.get("to")) for e in events] == [
        ("ok", "warning"),
        ("critical", "ok"),
        ("ok", "critical"),
        (None, None),
    ]
    row = await device_row(collector, first.device_id)
    assert (row.health_summary, row.last_seen_at) == ("/ is 93 % full", t0)
    other = await device_row(collector, second.device_id)
    assert (HealthState(other.health_state), other.health_summary) == (
        HealthState.WARNING,
        "/ is 95 % full",
    )
