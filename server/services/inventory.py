"""Storing an inventory's sections: hardware, software and licences, each with its hash.

An agent sends a section in full when it changed and as its hash alone otherwise
(``plan_sections`` decides what to store and whether to ask for a full resend). Software
is stored as titles shared by every device plus per-device links, and links (like
activations and package licences) are updated by difference: the device's current rows
are loaded once, then only new rows are inserted, only gone rows deleted and only changed
rows updated, each kind in one statement. Every function here runs inside the caller's
write transaction, after ``lock_device``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, event, insert, select, update
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from server.services.records import (
    InventorySnapshot,
    LicenceFacts,
    PackageLicence,
    ProductActivation,
    SoftwarePackage,
)
from server.store.dialect import upsert_insert
from server.store.models import (
    DeclaredLicenceRow,
    DeviceActivationRow,
    DeviceInventoryRow,
    DevicePackageLicenceRow,
    DeviceRow,
    DeviceSoftwareRow,
    InventoryReportRow,
    InventorySectionRow,
    SoftwareTitleRow,
)

HARDWARE, SOFTWARE, LICENCES = "hardware", "software", "licences"
CHUNK = 500  # ids per IN (...) list: well under every database's limit on parameters

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# What identifies an installed application on a device; only the install time changes.
LinkKey = tuple[str, str, str, str, str, str]  # name, publisher, source, version, arch, id


@dataclass(frozen=True)
class HeldSection:
    """What the collector holds of one section of a device."""

    content_hash: str
    collect_time: datetime


@dataclass(frozen=True)
class SectionPlan:
    """The newest full section of each kind in a batch, and whether to ask for a resend."""

    to_store: dict[str, InventorySnapshot]
    full_inventory_requested: bool


@dataclass
class Difference(Generic[K, V]):
    """How a device's stored rows (by id) differ from what it reports now."""

    added: list[tuple[K, V]] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    changed: list[tuple[int, V]] = field(default_factory=list)


@dataclass(frozen=True)
class Changes:
    """How many rows a difference inserted, deleted and updated."""

    added: int
    removed: int
    changed: int


def _sections(snapshot: InventorySnapshot) -> Iterator[tuple[str, bool, str]]:
    """(section, sent in full, hash) for each section the report says anything about."""
    yield HARDWARE, snapshot.hardware_included, snapshot.hardware_hash
    yield SOFTWARE, snapshot.software is not None, snapshot.software_hash
    yield LICENCES, snapshot.licences is not None, snapshot.licences_hash


def plan_sections(
    held: Mapping[str, HeldSection], snapshots: Sequence[InventorySnapshot]
) -> SectionPlan:
    """Walk a batch in order: keep the newest full section of each kind (by collect time);
    compare each hash-only section with the one held at that point of the batch.

    A hash-only section the collector does not hold, or holds with another hash, asks for
    a full resend. A section with neither content nor hash was not collected: nothing changes.
    """
    state = dict(held)
    to_store: dict[str, InventorySnapshot] = {}
    full_requested = False
    for snapshot in snapshots:
        for section, in_full, digest in _sections(snapshot):
            current = state.get(section)
            if in_full:
                if current is None or snapshot.collect_time >= current.collect_time:
                    state[section] = HeldSection(digest, snapshot.collect_time)
                    to_store[section] = snapshot
            elif digest and (current is None or current.content_hash != digest):
                full_requested = True
    return SectionPlan(to_store, full_requested)


def difference(current: Iterable[tuple[int, K, V]], wanted: Mapping[K, V]) -> Difference[K, V]:
    """Compare stored rows (id, key, values) with the wanted values by key.

    A key stored twice (which the lock prevents, but a difference should not assume) keeps
    its first row; the others are removed.
    """
    result: Difference[K, V] = Difference()
    seen: set[K] = set()
    for row_id, key, values in current:
        if key in seen or key not in wanted:
            result.removed.append(row_id)
            continue
        seen.add(key)
        if wanted[key] != values:
            result.changed.append((row_id, wanted[key]))
    result.added = [(key, values) for key, values in wanted.items() if key not in seen]
    return result


async def lock_device(session: AsyncSession, device_id: str) -> None:
    """Serialise inventory writes of one device (PostgreSQL: row lock; SQLite: one writer).

    On SQLite the write transaction (``BEGIN IMMEDIATE``) already holds the only write lock,
    and SQLite has no row locks: no statement is sent.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    await session.execute(
        select(DeviceRow.id).where(DeviceRow.id == device_id).with_for_update(key_share=True)
    )


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


_SECTIONS = _table(InventorySectionRow)
_HELD_SECTIONS = select(
    _SECTIONS.c.section, _SECTIONS.c.content_hash, _SECTIONS.c.collect_time
).where(_SECTIONS.c.device_id == bindparam("device_id"))
_REPORTS = _table(InventoryReportRow)
_STORED_REPORT_IDS = select(_REPORTS.c.report_id).where(
    _REPORTS.c.device_id == bindparam("device_id"),
    _REPORTS.c.report_id.in_(bindparam("report_ids", expanding=True)),
)


async def held_sections(session: AsyncSession, device_id: str) -> dict[str, HeldSection]:
    connection = await session.connection()
    rows = await connection.execute(_HELD_SECTIONS, {"device_id": device_id})
    return {section: HeldSection(digest, when) for section, digest, when in rows}


async def stored_report_ids(
    session: AsyncSession, device_id: str, report_ids: Sequence[str]
) -> set[str]:
    """Which of the device's ``report_ids`` (a batch's: a few) are stored already."""
    connection = await session.connection()
    result = await connection.execute(
        _STORED_REPORT_IDS, {"device_id": device_id, "report_ids": list(report_ids)}
    )
    return set(result.scalars())


async def record_reports(
    session: AsyncSession, device_id: str, snapshots: Sequence[InventorySnapshot], now: datetime
) -> None:
    """Record the reports as received (each report id once)."""
    if not snapshots:
        return
    await session.execute(
        _statement(
            session,
            "record_reports",
            lambda: upsert_insert(session, InventoryReportRow).on_conflict_do_nothing(
                index_elements=[InventoryReportRow.device_id, InventoryReportRow.report_id]
            ),
        ),
        [
            {
                "device_id": device_id,
                "report_id": snapshot.report_id,
                "collect_time": snapshot.collect_time,
                "received_at": now,
            }
            for snapshot in snapshots
        ],
    )


async def save_sections(
    session: AsyncSession,
    device_id: str,
    sections: Sequence[tuple[str, str, InventorySnapshot]],
    now: datetime,
) -> None:
    """Record the (section, content hash, report) just stored for the device, in one go."""
    if not sections:
        return
    await session.execute(
        _statement(session, "save_sections", lambda: _upsert(session, InventorySectionRow)),
        [
            {
                "device_id": device_id,
                "section": section,
                "content_hash": content_hash,
                "report_id": snapshot.report_id,
                "collect_time": snapshot.collect_time,
                "received_at": now,
            }
            for section, content_hash, snapshot in sections
        ],
    )


def _upsert(session: AsyncSession, model: type[Any]) -> Any:
    """INSERT … ON CONFLICT (primary key) DO UPDATE every other column, for parameters given
    at execution (built once per dialect: see ``_statement``). Every column must be given a
    value: one left out would be overwritten with its default."""
    table = _table(model)
    keys = [column.name for column in table.primary_key.columns]
    statement = upsert_insert(session, model)
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={
            column.name: statement.excluded[column.name]
            for column in table.columns
            if column.name not in keys
        },
    )


# --- hardware ---------------------------------------------------------------------------------


async def store_hardware(
    session: AsyncSession, device_id: str, snapshot: InventorySnapshot, now: datetime
) -> None:
    await session.execute(
        _statement(session, "store_hardware", lambda: _upsert(session, DeviceInventoryRow)),
        hardware_values(device_id, snapshot, now),
    )


def hardware_values(device_id: str, snapshot: InventorySnapshot, now: datetime) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "report_id": snapshot.report_id,
        "collect_time": snapshot.collect_time,
        "received_at": now,
        "os_family": snapshot.os_family,
        "os_name": snapshot.os_name,
        "os_version": snapshot.os_version,
        "os_build": snapshot.os_build,
        "kernel": snapshot.kernel,
        "hostname": snapshot.hostname,
        "vendor": snapshot.vendor,
        "model": snapshot.model,
        "serial_number": snapshot.serial_number,
        "uuid": snapshot.uuid,
        "bios_vendor": snapshot.bios_vendor,
        "bios_version": snapshot.bios_version,
        "bios_date": snapshot.bios_date,
        "chassis_type": snapshot.chassis_type,
        "form_factor": snapshot.form_factor,
        "virtualization": snapshot.virtualization,
        "cpu_model": snapshot.cpu_model,
        "cpu_sockets": snapshot.cpu_sockets,
        "cpu_cores": snapshot.cpu_cores,
        "cpu_threads": snapshot.cpu_threads,
        "memory_total_bytes": snapshot.memory_total_bytes,
        "memory_modules": [asdict(module) for module in snapshot.memory_modules],
        "disks": [asdict(disk) for disk in snapshot.disks],
        "interfaces": [
            {**asdict(interface), "addresses": list(interface.addresses)}
            for interface in snapshot.interfaces
        ],
    }


# --- software ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def content_key(*parts: str) -> str:
    """SHA-256 (hex) of strings, unambiguous however they are split.

    Cached: machines of a fleet share most of their titles and licences, so the same keys
    come back with every inventory (a few thousand a report otherwise).
    """
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def link_key(package: SoftwarePackage) -> LinkKey:
    return (
        package.name,
        package.publisher,
        package.source,
        package.version,
        package.architecture,
        package.identifier,
    )


_LINKS = _table(DeviceSoftwareRow)
_TITLES = _table(SoftwareTitleRow)
# Statements built once: SQLAlchemy then finds their compiled form without deriving a cache
# key from a new statement object each time (a few of these run per inventory).
_STORED_LINKS = (
    select(
        _LINKS.c.id,
        _TITLES.c.name,
        _TITLES.c.publisher,
        _TITLES.c.source,
        _LINKS.c.version,
        _LINKS.c.architecture,
        _LINKS.c.identifier,
        _LINKS.c.install_time,
    )
    .join(_TITLES, _TITLES.c.id == _LINKS.c.title_id)
    .where(_LINKS.c.device_id == bindparam("device_id"))
)
_UPDATE_INSTALL_TIME = (
    update(_LINKS)
    .where(_LINKS.c.id == bindparam("link_id"))
    .values(install_time=bindparam("new_install_time"))
)


async def store_software(
    session: AsyncSession, device_id: str, packages: Sequence[SoftwarePackage]
) -> Changes:
    """Bring the device's software links to ``packages`` by difference."""
    wanted: dict[LinkKey, SoftwarePackage] = {}
    for package in packages:
        wanted.setdefault(link_key(package), package)
    stored = await session.execute(_STORED_LINKS, {"device_id": device_id})
    found = difference(
        ((row[0], cast(LinkKey, tuple(row[1:7])), row[7]) for row in stored),
        {key: package.install_time for key, package in wanted.items()},
    )
    connection = await session.connection()
    if found.added:
        added = [wanted[key] for key, _ in found.added]
        title_ids = await ensure_titles(session, added)
        rows = [
            (
                device_id,
                title_ids[package.name, package.publisher, package.source],
                package.version,
                package.architecture,
                package.identifier,
                install_time,
            )
            for package, (_, install_time) in zip(added, found.added, strict=True)
        ]
        # In title order: consecutive rows then go to neighbouring places of the title index.
        rows.sort(key=_by_title)
        await insert_rows(
            connection,
            _LINKS,
            ("device_id", "title_id", "version", "architecture", "identifier", "install_time"),
            rows,
        )
    await _delete_ids(connection, _LINKS, found.removed)
    if found.changed:
        await connection.execute(
            _UPDATE_INSTALL_TIME,
            [{"link_id": i, "new_install_time": when} for i, when in found.changed],
        )
    return Changes(len(found.added), len(found.removed), len(found.changed))


def _by_title(row: tuple[Any, ...]) -> int:
    title_id: int = row[1]
    return title_id


def title_key(package: SoftwarePackage) -> str:
    return content_key(package.name, package.publisher, package.source)


TitleNames = tuple[str, str, str]  # name, publisher, source


async def ensure_titles(
    session: AsyncSession, packages: Sequence[SoftwarePackage]
) -> dict[TitleNames, int]:
    """The title id of each package (by name, publisher, source), creating those not known.

    Ids come from the in-process cache of ids already committed (``KnownIds``) when it has
    them. For the others: one INSERT … ON CONFLICT DO NOTHING (in key order, so concurrent
    writers take the same locks in the same order), then one SELECT per CHUNK keys for the
    ids, which the cache learns once this transaction commits.
    """
    return await _ids_of(
        session,
        "titles",
        _TITLES,
        "title_key",
        ((package.name, package.publisher, package.source) for package in packages),
        lambda names: {
            "title_key": content_key(*names),
            "name": names[0],
            "publisher": names[1],
            "source": names[2],
        },
    )


async def _ids_of(
    session: AsyncSession,
    kind: str,
    table: Table,
    key_name: str,
    wanted: Iterable[K],
    row_of: Callable[[K], dict[str, str]],
) -> dict[K, int]:
    """The id of each wanted item: from ``KnownIds`` of ``kind`` when it has it, else by
    ``_ensure_rows`` of ``row_of(item)`` (keyed by its ``key_name``), learnt on commit."""
    known = KnownIds.of(session, kind)
    ids: dict[K, int] = {}
    missing: dict[str, dict[str, str]] = {}
    item_of: dict[str, K] = {}
    for item in dict.fromkeys(wanted):
        found = known.get(item)
        if found is not None:
            ids[item] = found
            continue
        row = row_of(item)
        missing[row[key_name]] = row
        item_of[row[key_name]] = item
    if missing:
        by_key = await _ensure_rows(session, table, key_name, missing)
        for key, row_id in by_key.items():
            ids[item_of[key]] = row_id
            known.learn(session, item_of[key], row_id)
    return ids


async def _ensure_rows(
    session: AsyncSession, table: Table, key_name: str, rows: Mapping[str, Mapping[str, Any]]
) -> dict[str, int]:
    """Insert the rows (by unique key) not there yet; the id of every one, by key."""
    connection = await session.connection()
    keys = sorted(rows)
    await connection.execute(
        _statement(
            session, ("ensure", table.name), lambda: _insert_missing(session, table, key_name)
        ),
        [rows[key] for key in keys],
    )
    key_column = table.c[key_name]
    ids_of = _statement(
        session,
        ("ids", table.name),
        lambda: select(key_column, table.c.id).where(
            key_column.in_(bindparam("keys", expanding=True))
        ),
    )
    ids: dict[str, int] = {}
    for start in range(0, len(keys), CHUNK):
        result = await connection.execute(ids_of, {"keys": keys[start : start + CHUNK]})
        ids.update({key: row_id for key, row_id in result})
    return ids


def _insert_missing(session: AsyncSession, table: Table, key_name: str) -> Any:
    return upsert_insert(session, table).on_conflict_do_nothing(index_elements=[key_name])


# Parameters per statement on SQLite: 32,766 since SQLite 3.32 (every distribution with
# Python 3.11 has it), 999 before.
SQLITE_MAX_PARAMETERS = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
# Rows per INSERT on SQLite, at most: a whole inventory's links in one or two statements.
SQLITE_MAX_ROWS_PER_INSERT = 1000


def sqlite_rows_per_insert(columns: int) -> int:
    """Rows of ``columns`` values each that one SQLite INSERT may carry."""
    return max(1, min(SQLITE_MAX_ROWS_PER_INSERT, SQLITE_MAX_PARAMETERS // columns))


async def insert_rows(
    connection: AsyncConnection,
    table: Table,
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """INSERT ``rows`` (values in the order of ``columns``) into ``table``, without RETURNING.

    PostgreSQL: one executemany (psycopg sends it in a pipeline). SQLite: multi-row INSERTs
    of as many rows as its parameter limit allows (``sqlite_rows_per_insert``). aiosqlite
    runs statements in a thread of its own, and an executemany there gives up and takes back
    the GIL for every row, each time waiting for the event loop's thread, which is busy under
    an inventory storm; and every statement is several round trips to that thread. Values go
    through the columns' type processing as they would in an executemany.
    """
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name != "sqlite":
        await connection.execute(
            _statement_for(dialect.name, ("insert", table.name), lambda: insert(table)),
            [dict(zip(columns, row, strict=True)) for row in rows],
        )
        return
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    process = [(index, p) for index, p in enumerate(processors) if p is not None]
    per_insert = sqlite_rows_per_insert(len(columns))
    for start in range(0, len(rows), per_insert):
        chunk = rows[start : start + per_insert]
        values: list[Any] = []
        for row in chunk:
            if process:
                processed = list(row)
                for index, processor in process:
                    processed[index] = processor(processed[index])
                values.extend(processed)
            else:
                values.extend(row)
        await connection.exec_driver_sql(_sqlite_insert(table, columns, len(chunk)), tuple(values))


@functools.lru_cache(maxsize=512)
def _sqlite_insert(table: Table, columns: tuple[str, ...], count: int) -> str:
    """INSERT of ``count`` rows of ``columns`` as SQLite text, parameters row after row.

    SQLAlchemy compiles the one-row form (names quoted as needed); its VALUES group is then
    repeated, which costs nothing like compiling a thousand-row statement.
    """
    statement = insert(table).values({name: bindparam(name) for name in columns})
    compiled = statement.compile(dialect=SQLiteDialect(paramstyle="qmark"))
    if list(compiled.positiontup or ()) != list(columns):
        raise AssertionError("INSERT parameters out of order")
    head, separator, group = str(compiled).rpartition(" VALUES ")
    if not separator or group != "(" + ", ".join("?" * len(columns)) + ")":
        raise AssertionError(f"unexpected INSERT form: {compiled}")
    return head + separator + ", ".join([group] * count)


_STATEMENTS: dict[tuple[str, Hashable], Any] = {}


def _statement_for(dialect: str, name: Hashable, build: Callable[[], Any]) -> Any:
    key = (dialect, name)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = build()
    return statement


def _statement(session: AsyncSession, name: Hashable, build: Callable[[], Any]) -> Any:
    """A statement built once per database dialect (see ``_STORED_LINKS``)."""
    return _statement_for(session.get_bind().dialect.name, name, build)


async def _delete_ids(connection: AsyncConnection, table: Table, ids: Sequence[int]) -> None:
    statement = _DELETES.get(table.name)
    if statement is None:
        statement = _DELETES[table.name] = delete(table).where(
            table.c.id.in_(bindparam("ids", expanding=True))
        )
    for start in range(0, len(ids), CHUNK):
        await connection.execute(statement, {"ids": ids[start : start + CHUNK]})


_DELETES: dict[str, Any] = {}


class KnownIds:
    """Ids of shared rows (software titles, declared licences) this process saw committed.

    Titles and licences are never deleted or changed once stored, so an id seen committed
    stays right, whichever collector stored it. Ids found inside a transaction are learnt only
    when it commits: one rolled back may have inserted them, and its ids would be reused.
    One cache per database engine and kind, emptied when it reaches ``MAX_KNOWN`` ids.
    """

    MAX_KNOWN = 100_000

    def __init__(self) -> None:
        self._ids: dict[Hashable, int] = {}

    @classmethod
    def of(cls, session: AsyncSession, kind: str) -> KnownIds:
        engine = session.get_bind()
        caches = _KNOWN.get(engine)
        if caches is None:
            caches = _KNOWN[engine] = {}
        cache = caches.get(kind)
        if cache is None:
            cache = caches[kind] = cls()
        return cache

    def get(self, key: Hashable) -> int | None:
        return self._ids.get(key)

    def learn(self, session: AsyncSession, key: Hashable, row_id: int) -> None:
        """Know ``key`` as ``row_id`` once ``session``'s transaction commits."""
        pending: list[tuple[KnownIds, Hashable, int]] = session.info.setdefault(_PENDING, [])
        pending.append((self, key, row_id))

    def _add(self, key: Hashable, row_id: int) -> None:
        if len(self._ids) >= self.MAX_KNOWN:
            self._ids.clear()
        self._ids[key] = row_id


_KNOWN: weakref.WeakKeyDictionary[Any, dict[str, KnownIds]] = weakref.WeakKeyDictionary()
_PENDING = "parc_known_ids_pending"


@event.listens_for(Session, "after_commit")
def _learn_committed(session: Session) -> None:
    for cache, key, row_id in session.info.pop(_PENDING, ()):
        cache._add(key, row_id)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # After a rollback, or a session closed without committing: those ids may not exist.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# --- licences ---------------------------------------------------------------------------------


async def store_licences(session: AsyncSession, device_id: str, licences: LicenceFacts) -> Changes:
    """Bring the device's activations and package licences to ``licences`` by difference."""
    first = await _store_activations(session, device_id, licences.activations)
    second = await _store_package_licences(session, device_id, licences.packages)
    return Changes(
        first.added + second.added, first.removed + second.removed, first.changed + second.changed
    )


_ACTIVATIONS = _table(DeviceActivationRow)
_STORED_ACTIVATIONS = select(
    _ACTIVATIONS.c.id,
    _ACTIVATIONS.c.product,
    _ACTIVATIONS.c.name,
    _ACTIVATIONS.c.channel,
    _ACTIVATIONS.c.state,
    _ACTIVATIONS.c.partial_product_key,
).where(_ACTIVATIONS.c.device_id == bindparam("device_id"))
_INSERT_ACTIVATIONS = insert(_ACTIVATIONS)
_UPDATE_ACTIVATIONS = (
    update(_ACTIVATIONS)
    .where(_ACTIVATIONS.c.id == bindparam("row_id"))
    .values(
        channel=bindparam("new_channel"),
        state=bindparam("new_state"),
        partial_product_key=bindparam("new_key"),
    )
)


async def _store_activations(
    session: AsyncSession, device_id: str, activations: Sequence[ProductActivation]
) -> Changes:
    wanted: dict[tuple[str, str], tuple[str, str, str]] = {}
    for activation in activations:
        wanted.setdefault(
            (activation.product, activation.name),
            (activation.channel, activation.state, activation.partial_product_key),
        )
    stored = await session.execute(_STORED_ACTIVATIONS, {"device_id": device_id})
    found = difference(((r[0], (r[1], r[2]), (r[3], r[4], r[5])) for r in stored), wanted)
    connection = await session.connection()
    if found.added:
        await connection.execute(
            _INSERT_ACTIVATIONS,
            [
                {
                    "device_id": device_id,
                    "product": product,
                    "name": name,
                    "channel": channel,
                    "state": state,
                    "partial_product_key": key,
                }
                for (product, name), (channel, state, key) in found.added
            ],
        )
    await _delete_ids(connection, _ACTIVATIONS, found.removed)
    if found.changed:
        await connection.execute(
            _UPDATE_ACTIVATIONS,
            [
                {"row_id": i, "new_channel": ch, "new_state": st, "new_key": key}
                for i, (ch, st, key) in found.changed
            ],
        )
    return Changes(len(found.added), len(found.removed), len(found.changed))


def licence_key(licence: PackageLicence) -> str:
    return content_key(licence.source, licence.spdx, licence.declared)


_LICENCE_LINKS = _table(DevicePackageLicenceRow)
_TERMS = _table(DeclaredLicenceRow)
_STORED_LICENCE_LINKS = (
    select(_LICENCE_LINKS.c.id, _LICENCE_LINKS.c.package, _TERMS.c.source, _TERMS.c.licence_key)
    .join(_TERMS, _TERMS.c.id == _LICENCE_LINKS.c.licence_id)
    .where(_LICENCE_LINKS.c.device_id == bindparam("device_id"))
)
_UPDATE_LICENCE_LINKS = (
    update(_LICENCE_LINKS)
    .where(_LICENCE_LINKS.c.id == bindparam("row_id"))
    .values(licence_id=bindparam("new_licence_id"))
)


async def _store_package_licences(
    session: AsyncSession, device_id: str, licences: Sequence[PackageLicence]
) -> Changes:
    wanted: dict[tuple[str, str], PackageLicence] = {}
    for licence in licences:
        wanted.setdefault((licence.package, licence.source), licence)
    stored = await session.execute(_STORED_LICENCE_LINKS, {"device_id": device_id})
    keys = {key: licence_key(licence) for key, licence in wanted.items()}
    found = difference(((r[0], (r[1], r[2]), r[3]) for r in stored), keys)
    needed = {key for _, key in found.added} | {key for _, key in found.changed}
    ids = await _ensure_licences(
        session, [licence for key, licence in wanted.items() if keys[key] in needed]
    )
    connection = await session.connection()
    if found.added:
        await insert_rows(
            connection,
            _LICENCE_LINKS,
            ("device_id", "package", "licence_id"),
            [(device_id, package, ids[key]) for (package, _), key in found.added],
        )
    await _delete_ids(connection, _LICENCE_LINKS, found.removed)
    if found.changed:
        await connection.execute(
            _UPDATE_LICENCE_LINKS,
            [{"row_id": i, "new_licence_id": ids[key]} for i, key in found.changed],
        )
    return Changes(len(found.added), len(found.removed), len(found.changed))


async def _ensure_licences(
    session: AsyncSession, licences: Sequence[PackageLicence]
) -> dict[str, int]:
    """The id of each licence (by licence key), creating those not stored yet (as titles)."""
    by_key: dict[str, PackageLicence] = {}
    for licence in licences:
        by_key.setdefault(licence_key(licence), licence)
    return await _ids_of(
        session,
        "licences",
        _TERMS,
        "licence_key",
        by_key,
        lambda key: {
            "licence_key": key,
            "source": by_key[key].source,
            "spdx": by_key[key].spdx,
            "declared": by_key[key].declared,
        },
    )
