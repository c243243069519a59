"""Connecting to the collector's database (SQLite by default, PostgreSQL to scale out).

Write transactions on SQLite start with ``BEGIN IMMEDIATE`` (see ``begin_write``): a
deferred transaction that reads and then writes fails at once with "database is locked"
when another writer committed in between, instead of waiting for ``busy_timeout``.

SQLite has one writer at a time, and its busy handler is not fair: under a burst of writers
(an enrolment storm) one of them can sleep past ``busy_timeout`` and fail. So within one
process, writers also queue on an ``asyncio.Lock`` per engine, taken before ``BEGIN IMMEDIATE``
and given back when that transaction commits or rolls back; ``busy_timeout`` is left for
writers in other processes (the CLI beside a running collector).
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_POOL_SIZE = 10
POSTGRES_MAX_OVERFLOW = 20
# Every agent RPC reads (its certificate is checked against the database): under a burst more
# sessions are open at once than a small pool keeps, and each connection beyond it is opened
# and closed again (for aiosqlite: a new thread, a new file handle and the PRAGMAs each time).
# A larger pool keeps them; SQLite connections are cheap.
SQLITE_POOL_SIZE = 32
SQLITE_MAX_OVERFLOW = 32
# WAL pages written before SQLite copies them back into the database (its default is 1,000,
# 4 MiB). A full inventory dirties hundreds of index pages; checkpointing every 4 MiB wrote
# and synced the same pages again and again: with 10,000 pages (40 MiB) an inventory storm's
# writes took a quarter less time. The WAL file is cut back to 64 MiB after a checkpoint.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000
SQLITE_JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024

_WRITE_OPTION = "parc_write"
_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()
_HELD_LOCKS: weakref.WeakKeyDictionary[Connection, asyncio.Lock] = weakref.WeakKeyDictionary()


def resolve_database_url(data_dir: Path, explicit: str | None) -> str:
    """The async SQLAlchemy URL to use: ``explicit`` if given, else SQLite in ``data_dir``."""
    if explicit and explicit.strip():
        url = explicit.strip()
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
    return f"sqlite+aiosqlite:///{data_dir.absolute() / 'parc.db'}"


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``, set up for the collector's use of that database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_memory = _sqlite_in_memory(parsed)
        pool: dict[str, Any] = (
            {}
            if in_memory
            else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_MAX_OVERFLOW}
        )
        engine = create_async_engine(parsed, **pool)
        _configure_sqlite(engine, in_memory=in_memory)
        return engine
    return create_async_engine(
        parsed,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_MAX_OVERFLOW,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def begin_write(session: AsyncSession) -> None:
    """Start ``session``'s transaction as a writer. Call before anything else in it."""
    bind = session.bind
    lock = _WRITER_LOCKS.get(bind.sync_engine) if isinstance(bind, AsyncEngine) else None
    if lock is None:
        await session.connection(execution_options={_WRITE_OPTION: True})
        return
    await lock.acquire()
    try:
        connection = await session.connection(execution_options={_WRITE_OPTION: True})
    except BaseException:
        lock.release()
        raise
    # Given back by the commit/rollback listeners of _configure_sqlite.
    if connection.sync_connection is not None:
        _HELD_LOCKS[connection.sync_connection] = lock


def migrate(url: str) -> None:
    """Bring the schema at ``url`` to the newest revision (Alembic ``upgrade head``)."""
    target = sync_url(url)
    if target.get_backend_name() == "sqlite" and not _sqlite_in_memory(target) and target.database:
        Path(target.database).parent.mkdir(parents=True, exist_ok=True)
    # A collector may be running on this database (``init`` beside it, a restart): wait for
    # its writers like every other process does, instead of failing at once.
    connect_args = (
        {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000} if target.get_backend_name() == "sqlite" else {}
    )
    engine = create_sync_engine(target, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def alembic_config() -> Config:
    """An Alembic configuration for the collector's migrations, built in code."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def sync_url(url: str) -> URL:
    """The synchronous driver form of ``url`` (for Alembic)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or bool(url.query.get("mode") == "memory")


def _configure_sqlite(engine: AsyncEngine, *, in_memory: bool) -> None:
    _WRITER_LOCKS[engine.sync_engine] = asyncio.Lock()

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (so BEGIN IMMEDIATE is possible).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
                cursor.execute(f"PRAGMA journal_size_limit={SQLITE_JOURNAL_SIZE_LIMIT}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def on_end(connection: Connection) -> None:
        lock = _HELD_LOCKS.pop(connection, None)
        if lock is not None:
            lock.release()
