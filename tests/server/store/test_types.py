"""Timestamps on SQLite: the one-step bind gives the same text as the declared two steps."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.types import DateTime

from server.store.database import create_engine
from server.store.types import UTCDateTime, sqlite_text


def declared_steps(value: datetime | None) -> str | None:
    """process_bind_param, then SQLAlchemy's own SQLite DATETIME processor."""
    dialect = SQLiteDialect()
    naive = UTCDateTime().process_bind_param(value, dialect)
    processor = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    result: str | None = processor(naive)
    return result


def samples() -> list[datetime]:
    rng = random.Random(11)
    zones = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)), None]
    values = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999_999),
        datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999),
    ]
    for _ in range(500):
        zone = rng.choice(zones)
        moment = datetime(1970, 1, 1) + timedelta(
            seconds=rng.randrange(0, 4_000_000_000), microseconds=rng.choice((0, 1, 999_999))
        )
        values.append(moment.replace(tzinfo=zone))
    return values


def test_the_one_step_text_is_the_declared_steps_text() -> None:
    for value in [None, *samples()]:
        assert sqlite_text(value) == declared_steps(value), value


def test_sqlite_binds_through_the_one_step_and_other_dialects_do_not() -> None:
    assert UTCDateTime().bind_processor(SQLiteDialect()) is sqlite_text
    assert UTCDateTime().bind_processor(PGDialect_psycopg()) is not sqlite_text  # type: ignore[no-untyped-call]


def test_a_value_that_is_not_a_datetime_is_refused() -> None:
    with pytest.raises(TypeError):
        sqlite_text("2026-01-01")  # type: ignore[arg-type]


async def test_stored_and_read_back_unchanged(tmp_path: Path) -> None:
    table = Table(
        "t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
    )
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'types.db'}")
    values = samples()[:50]
    try:
        async with engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
            await connection.execute(insert(table), [{"at": value} for value in values])
            stored = list(
                (await connection.execute(select(table.c.at).order_by(table.c.id))).scalars()
            )
    finally:
        await engine.dispose()
    expected = [v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC) for v in values]
    assert stored == expected
