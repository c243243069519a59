"""Ids of shared rows (titles, declared licences) known in the process, and the bulk checks.

The collector keeps the ids of software titles and declared licences it saw committed, so an
inventory of known packages neither inserts nor looks them up again. These tests check that
only committed ids are kept, that stored rows stay the same with or without the cache, and
that the fast checks of a report's packages refuse exactly what the full checks refuse.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from server.services import inventory
from server.services.errors import InvalidArgument
from server.services.inventory import KnownIds
from server.services.records import LicenceFacts, PackageLicence, SoftwarePackage
from server.services.validation import MAX_TEXT, validate_licences, validate_software
from server.store.database import begin_write
from server.store.models import (
    DeclaredLicenceRow,
    DeviceInventoryRow,
    DevicePackageLicenceRow,
    DeviceSoftwareRow,
    SoftwareTitleRow,
)
from tests.server.services.support import Collector, full_inventory, package


class Abandon(Exception):
    """Raised to roll a transaction back."""


def licence_of(name: str, spdx: str = "MIT") -> PackageLicence:
    return PackageLicence(name, "debian-copyright", spdx, spdx)


async def test_ids_of_a_rolled_back_transaction_are_not_kept(collector: Collector) -> None:
    _, identity = await collector.enroll()
    fresh = [package("ghost"), package("spectre")]
    with pytest.raises(Abandon):
        async with collector.sessions.begin() as session:
            await begin_write(session)
            await inventory.store_software(session, identity.device_id, fresh)
            await inventory.store_licences(
                session, identity.device_id, LicenceFacts(packages=(licence_of("ghost", "0BSD"),))
            )
            known = KnownIds.of(session, "titles")
            raise Abandon
    assert known.get(("ghost", "Debian", "deb")) is None
    assert await collector.count(SoftwareTitleRow) == 0
    assert await collector.count(DeclaredLicenceRow) == 0
    # The same titles stored for real afterwards get rows of their own, and are then known.
    report = full_inventory(
        "r1", collector.clock.now, fresh, LicenceFacts(packages=(licence_of("ghost", "0BSD"),))
    )
    await collector.reports.store_inventory(identity, [report])
    async with collector.sessions() as session:
        titles = dict(
            (await session.execute(select(SoftwareTitleRow.name, SoftwareTitleRow.id))).all()
        )
        linked = set(await session.scalars(select(DeviceSoftwareRow.title_id)))
        terms = set(await session.scalars(select(DeclaredLicenceRow.id)))
        licence_links = set(await session.scalars(select(DevicePackageLicenceRow.licence_id)))
        assert KnownIds.of(session, "titles").get(("ghost", "Debian", "deb")) == titles["ghost"]
        assert len(terms) == 1
        (term,) = terms
        key = inventory.licence_key(licence_of("ghost", "0BSD"))
        assert KnownIds.of(session, "licences").get(key) == term
    assert linked == {titles["ghost"], titles["spectre"]}
    assert licence_links == terms


async def test_known_titles_link_to_the_same_rows_as_new_ones(collector: Collector) -> None:
    first = (await collector.enroll())[1]
    second = (await collector.enroll())[1]
    shared = [package(f"pkg-{index}") for index in range(30)]
    facts = LicenceFacts(packages=tuple(licence_of(f"pkg-{index}") for index in range(30)))
    now = collector.clock.now
    await collector.reports.store_inventory(first, [full_inventory("a", now, shared, facts)])
    # The second device's titles and licences all come from the ids known in the process.
    await collector.reports.store_inventory(second, [full_inventory("b", now, shared, facts)])
    assert await collector.count(SoftwareTitleRow) == 30
    assert await collector.count(DeclaredLicenceRow) == 1
    async with collector.sessions() as session:
        rows = (
            await session.execute(select(DeviceSoftwareRow.device_id, DeviceSoftwareRow.title_id))
        ).all()
    by_device: dict[str, set[int]] = {}
    for device_id, title_id in rows:
        by_device.setdefault(device_id, set()).add(title_id)
    assert by_device[first.device_id] == by_device[second.device_id]
    assert len(by_device[first.device_id]) == 30


def test_a_full_cache_starts_again() -> None:
    known = KnownIds()
    for index in range(KnownIds.MAX_KNOWN):
        known._add(index, index)
    known._add("one more", 7)
    assert known.get("one more") == 7
    assert known.get(0) is None


WHEN = datetime(2024, 5, 1, tzinfo=UTC)
GOOD = SoftwarePackage("curl", "8.5.0", "Debian", "deb", "amd64", WHEN, "curl")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "x" * (MAX_TEXT + 1)}, "software name must be text"),
        ({"version": "1\x00"}, "software version must not contain NUL"),
        ({"publisher": 7}, "software publisher must be text"),
        ({"architecture": "a" * (MAX_TEXT + 1)}, "software architecture must be text"),
        ({"identifier": "i\x00d"}, "software identifier must not contain NUL"),
        ({"source": "ppa"}, "software source 'ppa' is not one of"),
        ({"source": ["deb"]}, "software source"),
        ({"install_time": "2024-05-01"}, "software install_time must be a time"),
        # The first field in the order of the checks is the one named.
        ({"name": 1, "source": "ppa"}, "software name must be text"),
    ],
)
def test_bad_packages_are_refused_with_the_field_named(
    change: dict[str, object], message: str
) -> None:
    bad = dataclasses.replace(GOOD, **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match=message):
        validate_software("report r", [GOOD, bad])


def test_well_formed_packages_pass() -> None:
    edge = dataclasses.replace(GOOD, name="n" * MAX_TEXT, source="", install_time=None)
    validate_software("report r", [GOOD, edge])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"package": "p\x00"}, "package licence package must not contain NUL"),
        ({"spdx": "s" * (MAX_TEXT + 1)}, "package licence spdx must be text"),
        ({"declared": None}, "package licence declared must be text"),
        ({"source": "s" * 17}, "package licence source must be text of at most 16"),
    ],
)
def test_bad_package_licences_are_refused_with_the_field_named(
    change: dict[str, object], message: str
) -> None:
    good = licence_of("curl")
    bad = dataclasses.replace(good, **change)  # type: ignore[arg-type]
    validate_licences("report r", LicenceFacts(packages=(good, dataclasses.replace(good))))
    with pytest.raises(InvalidArgument, match=message):
        validate_licences("report r", LicenceFacts(packages=(good, bad)))


async def test_a_large_inventory_goes_in_few_statements_and_every_link_is_stored(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    count = 2 * inventory.SQLITE_MAX_ROWS_PER_INSERT + 100
    installed = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    packages = [package(f"pkg-{index:04d}", install_time=installed) for index in range(count)]
    engine = collector.sessions.kw["bind"].sync_engine
    inserts: list[str] = []

    def record(
        _conn: object, _cursor: object, statement: str, *_args: object, **_kw: object
    ) -> None:
        if statement.startswith("INSERT INTO device_software"):
            inserts.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        await collector.reports.store_inventory(
            identity, [full_inventory("big", collector.clock.now, packages)]
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    async with collector.sessions() as session:
        stored = (
            await session.execute(
                select(SoftwareTitleRow.name, DeviceSoftwareRow.install_time).join(
                    SoftwareTitleRow, SoftwareTitleRow.id == DeviceSoftwareRow.title_id
                )
            )
        ).all()
    assert sorted(stored) == [(p.name, installed) for p in packages]
    if engine.dialect.name == "sqlite":
        # 1,000 rows a statement (SQLite 3.32+ takes 32,766 parameters), not 128.
        assert len(inserts) == 3
    else:
        assert len(inserts) == 1  # one executemany


def test_hardware_values_name_every_column_of_the_hardware_row() -> None:
    # The hardware upsert updates every column from the values given: one left out would be
    # overwritten with its default on each inventory.
    snapshot = full_inventory("r", datetime(2026, 1, 1, tzinfo=UTC), [])
    columns = {column.name for column in DeviceInventoryRow.__table__.columns}
    assert set(inventory.hardware_values("d", snapshot, snapshot.collect_time)) == columns
