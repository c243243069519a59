"""Full inventories: sections in full or as hashes, software and licences by difference."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase

from server.services.errors import InvalidArgument, NotFound
from server.services.inventory import HeldSection, plan_sections
from server.services.records import LicenceFacts, ProductActivation
from server.services.validation import MAX_PACKAGES
from server.store.models import (
    DeclaredLicenceRow,
    DeviceActivationRow,
    DeviceInventoryRow,
    DevicePackageLicenceRow,
    DeviceSoftwareRow,
    HealthSampleRow,
    InventoryReportRow,
    InventorySectionRow,
    SoftwareTitleRow,
)
from tests.server.services.support import (
    Collector,
    full_inventory,
    hash_only,
    health,
    health_with_signals,
    licences,
    package,
    sha,
)

STORE_TABLES: tuple[type[DeclarativeBase], ...] = (
    InventoryReportRow,
    DeviceInventoryRow,
    InventorySectionRow,
    SoftwareTitleRow,
    DeviceSoftwareRow,
    DeviceActivationRow,
    DeclaredLicenceRow,
    DevicePackageLicenceRow,
    HealthSampleRow,
)


async def links(collector: Collector, device_id: str) -> dict[tuple[str, str, str], int]:
    """The device's software links as (name, version, architecture) → row id."""
    async with collector.sessions() as session:
        rows = await session.execute(
            select(
                SoftwareTitleRow.name,
                DeviceSoftwareRow.version,
                DeviceSoftwareRow.architecture,
                DeviceSoftwareRow.id,
            )
            .join(SoftwareTitleRow, SoftwareTitleRow.id == DeviceSoftwareRow.title_id)
            .where(DeviceSoftwareRow.device_id == device_id)
        )
        return {(name, version, arch): row_id for name, version, arch, row_id in rows}


async def counts(collector: Collector) -> dict[str, int]:
    return {model.__tablename__: await collector.count(model) for model in STORE_TABLES}


async def snapshot_of_store(collector: Collector) -> dict[str, list[Any]]:
    """Every row of the inventory tables, to compare before and after."""
    tables: dict[str, list[Any]] = {}
    async with collector.sessions() as session:
        for model in STORE_TABLES:
            result = await session.execute(select(model.__table__))
            tables[model.__tablename__] = sorted(map(tuple, result), key=repr)
    return tables


async def test_a_full_inventory_stores_every_section(collector: Collector) -> None:
    _, identity = await collector.enroll()
    report = full_inventory("inv-1", collector.clock.now)
    receipt = await collector.reports.store_inventory(identity, [report])
    assert receipt.accepted_report_ids == ["inv-1"]
    assert not receipt.full_inventory_requested

    details = await collector.devices.details(identity.device_id)
    stored = details.inventory
    assert stored is not None
    assert (stored.uuid, stored.bios_version, stored.bios_date) == (
        "4c4c4544-0042-3510-8052-b4c04f4e3332",
        "R1MET56W (1.26)",
        "2023-05-11",
    )
    assert (stored.chassis_type, stored.form_factor, stored.cpu_sockets) == (10, "laptop", 1)
    assert stored.os_build == "6.1.76-1"
    assert stored.memory_modules == report.memory_modules
    assert stored.disks == report.disks
    assert stored.disks[0].type == "nvme" and stored.disks[0].serial_number == "S6Z1NX0T"
    assert stored.interfaces == report.interfaces
    assert [p.name for p in details.software] == ["bash", "curl"]
    assert details.software == report.software
    assert details.licences == licences()
    assert {s.section: s.content_hash for s in details.sections} == {
        "hardware": report.hardware_hash,
        "software": report.software_hash,
        "licences": report.licences_hash,
    }
    assert details.summary.form_factor == "laptop"
    assert details.summary.os_version == "12"


async def test_software_is_updated_by_difference(collector: Collector) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    installed = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = [
        package("bash", "5.2"),
        package("curl", "7.88"),
        package("vim", "9.0", install_time=installed),
        package("libc6", "2.36", architecture="amd64"),
        package("libc6", "2.36", architecture="i386"),  # multi-arch: two links, one title
    ]
    await collector.reports.store_inventory(identity, [full_inventory("a", t0, first)])
    # Another device's links come after: rewriting all of the first device's rows would give
    # them new ids (SQLite reuses ids only above the largest one in use).
    _, other = await collector.enroll()
    await collector.reports.store_inventory(other, [full_inventory("a", t0, first)])
    before = await links(collector, identity.device_id)
    assert len(before) == 5
    assert await collector.count(SoftwareTitleRow) == 4

    reinstalled = installed + timedelta(days=30)
    second = [
        package("bash", "5.2"),  # unchanged
        package("curl", "8.0"),  # upgraded: the old link goes, a new one comes
        package("vim", "9.0", install_time=reinstalled),  # changed install time only
        package("libc6", "2.36", architecture="amd64"),  # unchanged; i386 removed
        package("git", "2.39"),  # new
    ]
    receipt = await collector.reports.store_inventory(
        identity, [full_inventory("b", t0 + timedelta(hours=1), second)]
    )
    assert not receipt.full_inventory_requested
    after = await links(collector, identity.device_id)

    kept = [("bash", "5.2", "amd64"), ("vim", "9.0", "amd64"), ("libc6", "2.36", "amd64")]
    for key in kept:
        assert after[key] == before[key], f"{key} must keep its row"
    assert ("curl", "7.88", "amd64") not in after
    assert ("libc6", "2.36", "i386") not in after
    assert {("curl", "8.0", "amd64"), ("git", "2.39", "amd64")} <= set(after)
    assert len(after) == 5
    new_ids = {after[("curl", "8.0", "amd64")], after[("git", "2.39", "amd64")]}
    assert not new_ids & set(before.values())

    assert len(await links(collector, other.device_id)) == 5  # the other device is untouched
    details = await collector.devices.details(identity.device_id)
    vim = next(p for p in details.software if p.name == "vim")
    assert vim.install_time == reinstalled
    # Titles are kept (their ids stay valid); git is the only new one.
    assert await collector.count(SoftwareTitleRow) == 5


async def test_titles_are_shared_between_devices(collector: Collector) -> None:
    _, first = await collector.enroll()
    _, second = await collector.enroll()
    now = collector.clock.now
    common = [package("bash", "5.2"), package("curl", "7.88")]
    await collector.reports.store_inventory(first, [full_inventory("a", now, common)])
    await collector.reports.store_inventory(
        second, [full_inventory("a", now, [*common, package("htop", "3.2")])]
    )
    assert await collector.count(SoftwareTitleRow) == 3
    assert await collector.count(DeviceSoftwareRow) == 5
    async with collector.sessions() as session:
        title_ids = await session.execute(
            select(DeviceSoftwareRow.device_id, DeviceSoftwareRow.title_id, SoftwareTitleRow.name)
            .join(SoftwareTitleRow, SoftwareTitleRow.id == DeviceSoftwareRow.title_id)
            .where(SoftwareTitleRow.name == "bash")
        )
        rows = list(title_ids)
    assert {device for device, _, _ in rows} == {first.device_id, second.device_id}
    assert len({title for _, title, _ in rows}) == 1
    # The same licence text on both devices is stored once.
    assert await collector.count(DeclaredLicenceRow) == 2
    assert await collector.count(DevicePackageLicenceRow) == 4


async def test_a_package_under_another_publisher_or_source_is_another_title(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    packages = [
        package("firefox", "128.0"),
        package("firefox", "128.0", source="snap", publisher="Mozilla"),
    ]
    await collector.reports.store_inventory(
        identity, [full_inventory("a", collector.clock.now, packages)]
    )
    assert await collector.count(SoftwareTitleRow) == 2
    assert await collector.count(DeviceSoftwareRow) == 2


async def test_hash_only_sections_that_match_change_nothing(collector: Collector) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    full = full_inventory("a", t0)
    await collector.reports.store_inventory(identity, [full])
    before = await snapshot_of_store(collector)

    unchanged = hash_only(
        "b", t0 + timedelta(hours=1), full.hardware_hash, full.software_hash, full.licences_hash
    )
    receipt = await collector.reports.store_inventory(identity, [unchanged])
    assert receipt.accepted_report_ids == ["b"]
    assert not receipt.full_inventory_requested
    after = await snapshot_of_store(collector)
    assert len(after["inventory_reports"]) == 2  # the report id is recorded, once
    for table in STORE_TABLES:
        if table is not InventoryReportRow:
            name = table.__tablename__
            assert after[name] == before[name], f"{name} changed"


async def test_a_hash_the_collector_lacks_asks_for_a_full_inventory(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    full = full_inventory("a", t0)
    await collector.reports.store_inventory(identity, [full])

    # Software changed on the agent, but the collector never got it (a lost spool entry):
    # the hash is unknown. Hardware comes in full and must be stored all the same.
    changed_hardware = dataclasses.replace(
        full_inventory("b", t0 + timedelta(hours=1)),
        os_version="13",
        hardware_hash=sha("new hardware"),
        software=None,
        software_hash=sha("software the collector never saw"),
        licences=None,
    )
    receipt = await collector.reports.store_inventory(identity, [changed_hardware])
    assert receipt.accepted_report_ids == ["b"]
    assert receipt.full_inventory_requested
    details = await collector.devices.details(identity.device_id)
    assert details.inventory is not None and details.inventory.os_version == "13"
    assert details.software == full.software  # nothing lost
    assert await collector.count(InventoryReportRow) == 2
    sections = {s.section: s.content_hash for s in details.sections}
    assert sections["hardware"] == sha("new hardware")
    assert sections["software"] == full.software_hash

    # The resend of that very report is stored once: nothing more happens to the store.
    again = await collector.reports.store_inventory(identity, [changed_hardware])
    assert again.accepted_report_ids == ["b"]
    assert await collector.count(InventoryReportRow) == 2


async def test_a_first_report_of_hashes_alone_asks_for_everything(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    report = hash_only("a", collector.clock.now, sha("h"), sha("s"), sha("l"))
    receipt = await collector.reports.store_inventory(identity, [report])
    assert receipt.full_inventory_requested
    assert await collector.count(InventoryReportRow) == 1
    assert await collector.count(InventorySectionRow) == 0


async def test_a_batch_is_read_in_order(collector: Collector) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    full = full_inventory("a", t0)
    follow = hash_only(
        "b", t0 + timedelta(hours=1), full.hardware_hash, full.software_hash, full.licences_hash
    )
    receipt = await collector.reports.store_inventory(identity, [full, follow])
    assert receipt == type(receipt)(["a", "b"], full_inventory_requested=False)


def test_plan_keeps_the_newest_full_section_and_compares_hashes() -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    newer = full_inventory("new", t0 + timedelta(hours=2))
    older = full_inventory("old", t0 + timedelta(hours=1))
    held = {"software": HeldSection(sha("held"), t0)}
    plan = plan_sections(held, [newer, older])
    assert {section: s.report_id for section, s in plan.to_store.items()} == {
        "hardware": "new",
        "software": "new",
        "licences": "new",
    }
    assert not plan.full_inventory_requested
    # A section held from a later collect time is not replaced by an older one.
    late = {"software": HeldSection(sha("held"), t0 + timedelta(days=1))}
    assert "software" not in plan_sections(late, [newer]).to_store
    # Not collected at all (no content, no hash): nothing to store, nothing to ask.
    nothing = hash_only("n", t0, sha("x"), "", "")
    assert plan_sections({"hardware": HeldSection(sha("x"), t0)}, [nothing]) == type(plan)(
        {}, False
    )


async def test_licences_are_updated_by_difference(collector: Collector) -> None:
    _, identity = await collector.enroll()
    t0 = collector.clock.now
    await collector.reports.store_inventory(identity, [full_inventory("a", t0)])
    async with collector.sessions() as session:
        activation_ids = list(await session.scalars(select(DeviceActivationRow.id)))
        bash_id = await session.scalar(
            select(DevicePackageLicenceRow.id).where(DevicePackageLicenceRow.package == "bash")
        )
    changed = LicenceFacts(
        activations=(ProductActivation("windows", "Windows 11 Pro", "OEM_DM", "grace", "3V66T"),),
        packages=(licences().packages[0],),  # curl's licence gone, bash's unchanged
    )
    await collector.reports.store_inventory(
        identity, [full_inventory("b", t0 + timedelta(hours=1), licence_facts=changed)]
    )
    details = await collector.devices.details(identity.device_id)
    assert details.licences == changed
    async with collector.sessions() as session:
        assert list(await session.scalars(select(DeviceActivationRow.id))) == activation_ids
        assert list(await session.scalars(select(DevicePackageLicenceRow.id))) == [bash_id]


def with_packages(count: int) -> list[Any]:
    return [package(f"pkg-{index}") for index in range(count)]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(
            lambda now: full_inventory("bad", now, licence_facts=licences(key="ABCDEF")),
            id="partial-key-of-6",
        ),
        pytest.param(
            lambda now: full_inventory("bad", now, with_packages(MAX_PACKAGES + 1)),
            id="20001-packages",
        ),
        pytest.param(
            lambda now: dataclasses.replace(full_inventory("bad", now), software_hash="XYZ"),
            id="malformed-hash",
        ),
        pytest.param(
            lambda now: full_inventory("bad", now, [package("x", source="ppa")]),
            id="unknown-source",
        ),
        pytest.param(
            lambda now: full_inventory("bad", now, [package("x" * 1025)]),
            id="long-name",
        ),
        pytest.param(
            lambda now: dataclasses.replace(full_inventory("bad", now), form_factor="phone"),
            id="unknown-form-factor",
        ),
        pytest.param(
            lambda now: hash_only("bad", now, "", sha("s"), ""),
            id="hardware-left-out-without-hash",
        ),
    ],
)
async def test_a_bad_inventory_stores_nothing(collector: Collector, bad: Any) -> None:
    _, identity = await collector.enroll()
    now = collector.clock.now
    with pytest.raises(InvalidArgument):
        await collector.reports.store_inventory(identity, [full_inventory("good", now), bad(now)])
    assert all(count == 0 for count in (await counts(collector)).values())
    assert (await collector.devices.get(identity.device_id)).last_seen_at is None


async def test_the_largest_software_list_is_accepted(collector: Collector) -> None:
    _, identity = await collector.enroll()
    now = collector.clock.now
    report = full_inventory("big", now, with_packages(MAX_PACKAGES))
    await collector.reports.store_inventory(identity, [report])
    assert await collector.count(DeviceSoftwareRow) == MAX_PACKAGES
    # A second, identical list changes nothing and keeps every row.
    before = await links(collector, identity.device_id)
    again = dataclasses.replace(report, report_id="big-2", collect_time=now + timedelta(hours=1))
    await collector.reports.store_inventory(identity, [again])
    assert await links(collector, identity.device_id) == before


@pytest.mark.parametrize(
    ("change", "value"),
    [
        ("temperature", math.nan),
        ("temperature", math.inf),
        ("wear", 101.0),
        ("batteries", 65),
        ("pending_updates", -1),
    ],
)
async def test_bad_health_signals_store_nothing(
    collector: Collector, change: str, value: float
) -> None:
    _, identity = await collector.enroll()
    now = collector.clock.now
    good = health_with_signals("bad", now)
    bad = {
        "temperature": lambda: dataclasses.replace(
            good, temperatures=(dataclasses.replace(good.temperatures[0], celsius=value),)
        ),
        "wear": lambda: dataclasses.replace(
            good, batteries=(dataclasses.replace(good.batteries[0], wear_percent=value),)
        ),
        "batteries": lambda: dataclasses.replace(good, batteries=good.batteries * int(value)),
        "pending_updates": lambda: dataclasses.replace(good, pending_updates=int(value)),
    }[change]()
    with pytest.raises(InvalidArgument):
        await collector.reports.store_health(identity, [health("ok", now), bad])
    assert await collector.count(HealthSampleRow) == 0


async def test_health_signals_round_trip(collector: Collector) -> None:
    _, identity = await collector.enroll()
    sample = health_with_signals("h-1", collector.clock.now)
    await collector.reports.store_health(identity, [sample])
    details = await collector.devices.details(identity.device_id)
    assert details.health == sample
    async with collector.sessions() as session:
        row = await session.scalar(select(HealthSampleRow))
    assert row is not None
    # Columns a dashboard charts or filters on directly.
    assert (row.oom_kills, row.reboot_pending, row.pending_updates) == (2, True, 12)
    assert row.load1_per_core == 0.0625
    assert row.temperatures[0]["celsius"] == 54.0
    assert row.batteries[0]["wear_percent"] == 15.0


async def test_health_without_the_new_signals_reads_back_as_unknown(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    sample = health("plain", collector.clock.now)
    await collector.reports.store_health(identity, [sample])
    details = await collector.devices.details(identity.device_id)
    assert details.health == sample
    assert details.health is not None
    assert details.health.reboot_pending is None and details.health.temperatures == ()


async def test_details_of_an_unknown_device(collector: Collector) -> None:
    with pytest.raises(NotFound):
        await collector.devices.details("no-such-device")


async def test_details_of_a_device_with_nothing_reported(collector: Collector) -> None:
    _, identity = await collector.enroll()
    details = await collector.devices.details(identity.device_id)
    assert details.inventory is None and details.health is None
    assert details.software == () and details.sections == ()
    assert details.licences == LicenceFacts()


async def test_devices_reporting_the_same_new_titles_at_once_share_them(
    collector: Collector,
) -> None:
    identities = [(await collector.enroll())[1] for _ in range(4)]
    now = collector.clock.now
    shared = [package(f"shared-{index}") for index in range(50)]
    await asyncio.gather(
        *(
            collector.reports.store_inventory(
                identity,
                [full_inventory("a", now, [*reversed(shared), package(f"own-{number}")])],
            )
            for number, identity in enumerate(identities)
        )
    )
    assert await collector.count(SoftwareTitleRow) == 50 + len(identities)
    assert await collector.count(DeviceSoftwareRow) == 51 * len(identities)
