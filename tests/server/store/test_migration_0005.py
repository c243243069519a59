"""Migration 0005: the fleet pages' indexes appear and go away on downgrade."""

from __future__ import annotations

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import inspect
from sqlalchemy.pool import NullPool

from server.store.database import alembic_config, migrate, sync_url

EXPECTED = {
    "devices": {
        "ix_devices_tenant_id_hostname": ["tenant_id", "hostname"],
        "ix_devices_tenant_id_last_seen_at": ["tenant_id", "last_seen_at"],
        "ix_devices_hostname": ["hostname"],
    },
    "device_software": {
        "ix_device_software_title_id_device_id": ["title_id", "device_id"],
    },
}


def _indexes(url: str) -> dict[str, dict[str, list[str]]]:
    engine = create_sync_engine(sync_url(url), poolclass=NullPool)
    try:
        inspector = inspect(engine)
        return {
            table: {
                str(index["name"]): [str(column) for column in index["column_names"]]
                for index in inspector.get_indexes(table)
            }
            for table in EXPECTED
        }
    finally:
        engine.dispose()


def test_migration_0005_adds_the_fleet_indexes_and_downgrades(migrated_url: str) -> None:
    from alembic import command

    found = _indexes(migrated_url)
    for table, indexes in EXPECTED.items():
        for name, columns in indexes.items():
            assert found[table].get(name) == columns
    engine = create_sync_engine(sync_url(migrated_url), poolclass=NullPool)
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
    finally:
        engine.dispose()
    gone = _indexes(migrated_url)
    for table, indexes in EXPECTED.items():
        assert not set(indexes) & set(gone[table])
    # the older indexes stay
    assert "ix_devices_tenant_id_health_state" in gone["devices"]
    migrate(migrated_url)
    assert _indexes(migrated_url) == found
