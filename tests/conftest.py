"""Shared database and PKI fixtures.

``database_url`` runs a test on SQLite (a temporary file) and on PostgreSQL (the server named
by ``PARC_TEST_DATABASE_URL``, each test in a fresh schema of its own, dropped afterwards).
Without that variable the PostgreSQL runs are skipped, with the reason shown.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from server.pki import CertificateAuthority, PkiPaths, init_pki
from server.store.database import (
    create_engine,
    migrate,
    resolve_database_url,
    session_factory,
    sync_url,
)

POSTGRES_ENV = "PARC_TEST_DATABASE_URL"


@dataclass
class FakeClock:
    """A clock tests move by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 1, 9, 30, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated): a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield resolve_database_url(tmp_path, None)
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} not set (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    base_url = resolve_database_url(tmp_path, base)
    schema = f"parc_t_{secrets.token_hex(6)}"
    admin = create_sync_engine(sync_url(base_url), poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """``database_url`` with the schema migrated to the newest revision."""
    migrate(database_url)
    return database_url


@pytest.fixture
async def sessions(migrated_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on a freshly migrated database."""
    engine = create_engine(migrated_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def pki_paths(tmp_path: Path) -> PkiPaths:
    """An initialised PKI in a temporary data directory."""
    paths = PkiPaths.from_data_dir(tmp_path / "data")
    init_pki(paths, ["localhost", "127.0.0.1"])
    return paths


@pytest.fixture
def ca(pki_paths: PkiPaths) -> CertificateAuthority:
    return CertificateAuthority.load(pki_paths)
