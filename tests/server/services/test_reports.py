"""Health and inventory reports: validated as a batch, each report id stored once."""

from __future__ import annotations

import dataclasses
import math
import string
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from server.services.errors import InvalidArgument
from server.services.records import (
    FilesystemSample,
    HealthSample,
    InventoryReceipt,
    InventorySnapshot,
)
from server.services.reports import MAX_BATCH, validate_report_id
from server.store.models import DeviceInventoryRow, HealthSampleRow, InventoryReportRow
from tests.server.services.support import Collector, health, inventory

ID_ALPHABET = string.ascii_letters + string.digits + "-_"


@given(st.text(alphabet=ID_ALPHABET, min_size=1, max_size=64))
def test_report_ids_of_allowed_characters_are_accepted(report_id: str) -> None:
    validate_report_id(report_id)


@given(st.text(max_size=80))
def test_report_ids_outside_the_rule_are_refused(report_id: str) -> None:
    allowed = 1 <= len(report_id) <= 64 and all(char in ID_ALPHABET for char in report_id)
    if allowed:
        validate_report_id(report_id)
    else:
        with pytest.raises(InvalidArgument):
            validate_report_id(report_id)


async def stored_health_ids(collector: Collector) -> list[str]:
    async with collector.sessions() as session:
        return sorted(await session.scalars(select(HealthSampleRow.report_id)))


async def test_health_is_stored_and_marks_the_device_seen(collector: Collector) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    accepted = await collector.reports.store_health(identity, [health("a", t0), health("b", t0)])
    assert accepted == ["a", "b"]
    assert await stored_health_ids(collector) == ["a", "b"]
    async with collector.sessions() as session:
        row = await session.scalar(select(HealthSampleRow).where(HealthSampleRow.report_id == "a"))
    assert row is not None
    assert row.device_id == identity.device_id
    assert row.sample_time == t0
    assert row.memory_total_bytes == 8 << 30
    assert row.filesystems[0] == {
        "mountpoint": "/",
        "device": "/dev/sda1",
        "fstype": "ext4",
        "total_bytes": 100 << 30,
        "used_bytes": 40 << 30,
        "percent": 40.0,
    }
    assert (await collector.devices.get(identity.device_id)).last_seen_at == t0


async def test_duplicate_health_report_ids_are_stored_once(collector: Collector) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    batch = [health("r-1", t0), health("r-2", t0)]
    assert await collector.reports.store_health(identity, batch) == ["r-1", "r-2"]
    # The agent resends after a lost answer, with one new sample and a repeat inside.
    resend = [*batch, health("r-3", t0), health("r-3", t0)]
    assert await collector.reports.store_health(identity, resend) == ["r-1", "r-2", "r-3", "r-3"]
    assert await stored_health_ids(collector) == ["r-1", "r-2", "r-3"]


async def test_same_report_id_from_two_devices_is_two_reports(collector: Collector) -> None:
    _, first = await collector.enroll()
    _, second = await collector.enroll()
    await collector.reports.store_health(first, [health("same", collector.clock.now)])
    await collector.reports.store_health(second, [health("same", collector.clock.now)])
    assert await stored_health_ids(collector) == ["same", "same"]


def bad_samples(good: HealthSample) -> list[HealthSample]:
    replace = dataclasses.replace
    filesystem = good.filesystems[0]
    return [
        replace(good, report_id=""),
        replace(good, report_id="x" * 65),
        replace(good, report_id="has space"),
        replace(good, cpu_percent=math.nan),
        replace(good, cpu_percent=100.5),
        replace(good, memory_percent=-1.0),
        replace(good, load1=math.inf),
        replace(good, load5=-0.1),
        replace(good, memory_total_bytes=-1),
        replace(good, uptime_seconds=1 << 64),
        replace(good, filesystems=(replace(filesystem, percent=101.0),)),
        replace(good, filesystems=(replace(filesystem, used_bytes=-5),)),
        replace(good, filesystems=(filesystem,) * 257),
        replace(good, filesystems=(replace(filesystem, mountpoint="/\x00"),)),
    ]


async def test_a_bad_item_in_a_health_batch_stores_nothing(collector: Collector) -> None:
    _, identity = await collector.enroll()
    good = health("good", collector.clock.now)
    for bad in bad_samples(health("bad", collector.clock.now)):
        with pytest.raises(InvalidArgument):
            await collector.reports.store_health(identity, [good, bad])
    assert await stored_health_ids(collector) == []
    assert (await collector.devices.get(identity.device_id)).last_seen_at is None


async def test_health_batches_have_a_size_limit(collector: Collector) -> None:
    _, identity = await collector.enroll()
    now = collector.clock.now
    full = [health(f"r{index}", now) for index in range(MAX_BATCH)]
    assert len(await collector.reports.store_health(identity, full)) == MAX_BATCH
    with pytest.raises(InvalidArgument, match="at most 500"):
        await collector.reports.store_health(identity, [*full, health("one-more", now)])
    assert len(await stored_health_ids(collector)) == MAX_BATCH


async def test_an_empty_batch_only_marks_the_device_seen(collector: Collector) -> None:
    _, identity = await collector.enroll()
    assert await collector.reports.store_health(identity, []) == []
    assert await collector.reports.store_inventory(identity, []) == InventoryReceipt([])
    assert await stored_health_ids(collector) == []
    assert (await collector.devices.get(identity.device_id)).last_seen_at == collector.clock.now


async def stored_inventory(collector: Collector) -> list[DeviceInventoryRow]:
    async with collector.sessions() as session:
        return list(await session.scalars(select(DeviceInventoryRow)))


async def test_inventory_keeps_the_newest_snapshot(collector: Collector) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    older = inventory("inv-1", t0, os_name="Debian 11")
    newer = inventory("inv-2", t0 + timedelta(hours=1), os_name="Debian 12")

    assert (await collector.reports.store_inventory(identity, [newer])).accepted_report_ids == [
        "inv-2"
    ]
    # An older snapshot arriving late does not replace the newer one.
    assert (await collector.reports.store_inventory(identity, [older])).accepted_report_ids == [
        "inv-1"
    ]
    [row] = await stored_inventory(collector)
    assert (row.report_id, row.os_name, row.collect_time) == (
        "inv-2",
        "Debian 12",
        newer.collect_time,
    )
    assert row.disks == [
        {
            "name": "nvme0n1",
            "model": "Samsung PM9A1",
            "size_bytes": 512 << 30,
            "serial_number": "",
            "type": "",
        }
    ]
    assert row.interfaces == [
        {
            "name": "eth0",
            "mac_address": "00:11:22:33:44:55",
            "addresses": ["192.0.2.10", "fe80::1"],
            "speed_mbps": 0,
            "physical": False,
        }
    ]

    newest = inventory("inv-3", t0 + timedelta(hours=2), os_name="Debian 13")
    await collector.reports.store_inventory(identity, [older, newest, newer])
    [row] = await stored_inventory(collector)
    assert (row.report_id, row.os_name) == ("inv-3", "Debian 13")
    assert (await collector.devices.get(identity.device_id)).os_name == "Debian 13"


async def test_inventory_report_ids_are_stored_once(collector: Collector) -> None:
    _, identity = await collector.enroll()
    snapshot = inventory("inv-1", collector.clock.now)
    await collector.reports.store_inventory(identity, [snapshot])
    receipt = await collector.reports.store_inventory(identity, [snapshot, snapshot])
    assert receipt == InventoryReceipt(["inv-1", "inv-1"], full_inventory_requested=False)
    assert await collector.count(InventoryReportRow) == 1
    assert len(await stored_inventory(collector)) == 1


def bad_snapshots(good: InventorySnapshot) -> list[InventorySnapshot]:
    replace = dataclasses.replace
    return [
        replace(good, report_id="inv/1"),
        replace(good, cpu_cores=-1),
        replace(good, memory_total_bytes=1 << 63),
        replace(good, os_name="x" * 1025),
        replace(good, disks=good.disks * 257),
        replace(good, interfaces=good.interfaces * 257),
    ]


async def test_a_bad_item_in_an_inventory_batch_stores_nothing(collector: Collector) -> None:
    _, identity = await collector.enroll()
    good = inventory("good", collector.clock.now)
    for bad in bad_snapshots(inventory("bad", collector.clock.now)):
        with pytest.raises(InvalidArgument):
            await collector.reports.store_inventory(identity, [good, bad])
    assert await collector.count(InventoryReportRow) == 0
    assert await stored_inventory(collector) == []


async def test_largest_values_fit(collector: Collector) -> None:
    _, identity = await collector.enroll()
    huge = (1 << 63) - 1
    sample = dataclasses.replace(
        health("big", collector.clock.now),
        memory_total_bytes=huge,
        uptime_seconds=huge,
        cpu_percent=100.0,
        filesystems=(FilesystemSample("/" * 4096, "d", "zfs", huge, huge, 100.0),),
    )
    await collector.reports.store_health(identity, [sample])
    async with collector.sessions() as session:
        row = await session.scalar(select(HealthSampleRow))
    assert row is not None
    assert row.memory_total_bytes == huge
    assert row.uptime_seconds == huge
