"""Database URLs, engines, migrations from empty, and the schema matching the models."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, inspect, select, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from server.store.database import (
    SQLITE_BUSY_TIMEOUT_MS,
    SQLITE_JOURNAL_SIZE_LIMIT,
    SQLITE_WAL_AUTOCHECKPOINT_PAGES,
    alembic_config,
    begin_write,
    create_engine,
    migrate,
    resolve_database_url,
    sync_url,
)
from server.store.models import Base, SiteRow, TenantRow, serial_hex

TABLES = {
    "inventory_sections",
    "software_titles",
    "device_software",
    "device_activations",
    "declared_licences",
    "device_package_licences",
    "tenants",
    "sites",
    "enrollment_tokens",
    "devices",
    "certificates",
    "health_samples",
    "inventory_reports",
    "device_inventory",
    "commands",
    "device_events",
    "device_tags",
}


@pytest.fixture
def sync_engine(migrated_url: str) -> Iterator[Engine]:
    engine = create_sync_engine(sync_url(migrated_url), poolclass=NullPool)
    yield engine
    engine.dispose()


def schema_differences(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


@pytest.mark.parametrize(
    ("explicit", "expected"),
    [
        ("postgresql://u@db:5432/parc", "postgresql+psycopg://u@db:5432/parc"),
        ("postgres://u@db/parc", "postgresql+psycopg://u@db/parc"),
        ("postgresql+psycopg://u@db/parc", "postgresql+psycopg://u@db/parc"),
        ("sqlite+aiosqlite:////srv/x.db", "sqlite+aiosqlite:////srv/x.db"),
    ],
)
def test_explicit_database_url_wins(explicit: str, expected: str) -> None:
    assert resolve_database_url(Path("/var/lib/parc"), explicit) == expected


def test_default_database_is_sqlite_in_the_data_dir() -> None:
    assert (
        resolve_database_url(Path("/var/lib/parc"), None)
        == "sqlite+aiosqlite:////var/lib/parc/parc.db"
    )
    assert resolve_database_url(Path("/var/lib/parc"), "") == (
        "sqlite+aiosqlite:////var/lib/parc/parc.db"
    )


def test_sync_url_uses_synchronous_drivers() -> None:
    assert sync_url("sqlite+aiosqlite:////d/parc.db").drivername == "sqlite"
    assert sync_url("postgresql+psycopg://u@h/d").drivername == "postgresql+psycopg"
    assert sync_url("postgresql+asyncpg://u@h/d").drivername == "postgresql+psycopg"


def test_migration_from_empty_creates_every_table_at_head(
    sync_engine: Engine, migrated_url: str
) -> None:
    assert set(inspect(sync_engine).get_table_names()) >= TABLES
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with sync_engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
    migrate(migrated_url)  # a second run is a no-op
    with sync_engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head


def test_models_match_the_migrated_schema(sync_engine: Engine) -> None:
    assert schema_differences(sync_engine, Base.metadata) == []


def test_schema_comparison_does_notice_a_difference(sync_engine: Engine) -> None:
    # Guards the test above: the comparison must be able to fail.
    altered = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(altered)
    altered.tables["tenants"].append_column(Column("extra", Integer, nullable=True))
    differences = schema_differences(sync_engine, altered)
    assert [difference[0] for difference in differences] == ["add_column"]


async def test_times_come_back_timezone_aware_utc(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    paris_winter = timezone(timedelta(hours=1))
    written = datetime(2026, 1, 15, 10, 30, 0, 123456, tzinfo=paris_winter)
    async with sessions.begin() as session:
        session.add(TenantRow(name="Acme", created_at=written))
    async with sessions() as session:
        read = await session.scalar(select(TenantRow.created_at))
    assert read is not None
    assert read.tzinfo is not None
    assert read.utcoffset() == timedelta(0)
    assert read == written
    assert read == datetime(2026, 1, 15, 9, 30, 0, 123456, tzinfo=UTC)


async def test_time_comparisons_happen_in_utc(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        session.add(TenantRow(name="early", created_at=datetime(2026, 1, 1, 8, tzinfo=UTC)))
        session.add(TenantRow(name="late", created_at=datetime(2026, 1, 1, 10, tzinfo=UTC)))
    # 10:30 in UTC+2 is 08:30 UTC: only "late" is after it.
    cutoff = datetime(2026, 1, 1, 10, 30, tzinfo=timezone(timedelta(hours=2)))
    async with sessions() as session:
        names = list(
            await session.scalars(select(TenantRow.name).where(TenantRow.created_at > cutoff))
        )
    assert names == ["late"]


async def test_sqlite_connections_use_wal_and_their_pragmas(tmp_path: Path) -> None:
    url = resolve_database_url(tmp_path, None)
    migrate(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
            checkpoint = (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar()
            size_limit = (await connection.exec_driver_sql("PRAGMA journal_size_limit")).scalar()
    finally:
        await engine.dispose()
    assert journal == "wal"
    assert foreign_keys == 1
    assert timeout == SQLITE_BUSY_TIMEOUT_MS
    assert checkpoint == SQLITE_WAL_AUTOCHECKPOINT_PAGES
    assert size_limit == SQLITE_JOURNAL_SIZE_LIMIT


async def test_a_burst_of_sqlite_writers_all_commit_even_with_a_tiny_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the in-process writer queue, 40 writers that each read, yield to the event loop
    # and write fail with "database is locked" once busy_timeout (here 1 ms) runs out.
    monkeypatch.setattr("server.store.database.SQLITE_BUSY_TIMEOUT_MS", 1)
    url = resolve_database_url(tmp_path, None)
    migrate(url)
    engine = create_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def writer(index: int) -> None:
        async with sessions.begin() as session:
            await begin_write(session)
            await session.execute(text("SELECT count(*) FROM tenants"))
            await asyncio.sleep(0.001)
            session.add(TenantRow(name=f"t{index}", created_at=datetime.now(UTC)))

    try:
        await asyncio.gather(*(writer(i) for i in range(40)))
        async with sessions() as session:
            count = (await session.execute(text("SELECT count(*) FROM tenants"))).scalar()
    finally:
        await engine.dispose()
    assert count == 40


async def test_a_failed_sqlite_write_gives_the_writer_queue_back(tmp_path: Path) -> None:
    url = resolve_database_url(tmp_path, None)
    migrate(url)
    engine = create_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        with pytest.raises(IntegrityError):
            async with sessions.begin() as session:
                await begin_write(session)
                session.add(SiteRow(tenant_id=999, name="orphan", created_at=datetime.now(UTC)))
        with pytest.raises(RuntimeError, match="changed my mind"):
            async with sessions.begin() as session:
                await begin_write(session)
                raise RuntimeError("changed my mind")
        # Were the queue still held, this would wait forever; the timeout turns that into a failure.
        async with asyncio.timeout(10):
            async with sessions.begin() as session:
                await begin_write(session)
                session.add(TenantRow(name="after", created_at=datetime.now(UTC)))
        async with sessions() as session:
            names = list(await session.scalars(select(TenantRow.name)))
    finally:
        await engine.dispose()
    assert names == ["after"]


async def test_foreign_keys_are_enforced(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(SiteRow(tenant_id=999, name="orphan", created_at=datetime.now(UTC)))
    async with sessions() as session:
        assert (await session.execute(text("SELECT count(*) FROM sites"))).scalar() == 0


def test_serials_are_forty_hex_digits() -> None:
    assert serial_hex(1) == "0" * 39 + "1"
    big = (1 << 159) - 1
    assert serial_hex(big) == f"{big:x}".rjust(40, "0")
    assert int(serial_hex(big), 16) == big
    with pytest.raises(ValueError):
        serial_hex(1 << 160)
    with pytest.raises(ValueError):
        serial_hex(-1)


def test_migrate_creates_the_sqlite_file_and_its_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "yet"
    migrate(resolve_database_url(data_dir, None))
    assert (data_dir / "parc.db").is_file()


def test_migration_0002_keeps_existing_inventories_and_downgrades(migrated_url: str) -> None:
    from alembic import command

    engine = create_sync_engine(sync_url(migrated_url), poolclass=NullPool)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        assert "software_titles" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO tenants (id, name, created_at) VALUES (1, 'Acme', :t)"),
                {"t": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            connection.execute(
                text("INSERT INTO sites (id, tenant_id, name, created_at) VALUES (1, 1, 'HQ', :t)"),
                {"t": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            connection.execute(
                text(
                    "INSERT INTO devices (id, tenant_id, site_id, hostname, os_family,"
                    " agent_version, enrolled_at, current_serial)"
                    " VALUES ('d1', 1, 1, 'pc', 'linux', '0.1', :t, 'ab')"
                ),
                {"t": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            connection.execute(
                text(
                    "INSERT INTO device_inventory (device_id, report_id, collect_time,"
                    " received_at, os_family, os_name, os_version, kernel, hostname, vendor,"
                    " model, serial_number, cpu_model, cpu_cores, cpu_threads,"
                    " memory_total_bytes, disks, interfaces) VALUES ('d1', 'inv-0', :t, :t,"
                    " 'linux', 'Debian', '12', 'k', 'pc', 'v', 'm', 's', 'c', 1, 2, 3,"
                    " '[]', '[]')"
                ),
                {"t": datetime(2026, 1, 1, tzinfo=UTC)},
            )
        migrate(migrated_url)
        with engine.connect() as connection:
            sections = connection.execute(
                text("SELECT device_id, section, content_hash, report_id FROM inventory_sections")
            ).all()
            identity = connection.execute(
                text("SELECT form_factor, chassis_type, memory_modules FROM device_inventory")
            ).one()
    finally:
        engine.dispose()
    assert [tuple(row) for row in sections] == [("d1", "hardware", "", "inv-0")]
    assert identity[0] == "" and identity[1] == 0
    assert identity[2] in ([], "[]")


def test_migration_0003_adds_the_account_tables_and_downgrades(migrated_url: str) -> None:
    from alembic import command

    tables = {"users", "user_tenants", "sessions", "api_tokens", "audit_events"}
    engine = create_sync_engine(sync_url(migrated_url), poolclass=NullPool)
    config = alembic_config()
    try:
        assert tables <= set(inspect(engine).get_table_names())
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        assert not tables & set(inspect(engine).get_table_names())
        migrate(migrated_url)
        assert tables <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_0004_keeps_devices_gives_them_an_ok_state_and_downgrades(
    migrated_url: str,
) -> None:
    from alembic import command

    tables = {"device_events", "device_tags"}
    engine = create_sync_engine(sync_url(migrated_url), poolclass=NullPool)
    config = alembic_config()
    when = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
        assert not tables & set(inspect(engine).get_table_names())
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO tenants (id, name, created_at) VALUES (1, 'Acme', :t)"),
                {"t": when},
            )
            connection.execute(
                text("INSERT INTO sites (id, tenant_id, name, created_at) VALUES (1, 1, 'HQ', :t)"),
                {"t": when},
            )
            connection.execute(
                text(
                    "INSERT INTO devices (id, tenant_id, site_id, hostname, os_family,"
                    " agent_version, enrolled_at, current_serial)"
                    " VALUES ('d1', 1, 1, 'pc', 'linux', '0.1', :t, 'ab')"
                ),
                {"t": when},
            )
        migrate(migrated_url)
        assert tables <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            device = connection.execute(
                text("SELECT hostname, health_state, health_summary, online FROM devices")
            ).one()
        assert tuple(device) == ("pc", 0, "", False)
    finally:
        engine.dispose()
