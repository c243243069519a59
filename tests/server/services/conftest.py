"""The collector's services on a fresh database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.pki import CertificateAuthority
from tests.conftest import FakeClock
from tests.server.services.support import Collector


@pytest.fixture
def collector(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, ca: CertificateAuthority
) -> Collector:
    return Collector(sessions, clock, ca)
