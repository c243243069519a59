"""Fixtures for the transport tests: a throwaway CA and a running collector double."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.address import Address
from agent.identity import enroll
from agent.state import StatePaths
from tests.agent.collector_double import (
    GOOD_TOKEN,
    CollectorState,
    RunningCollector,
    start_collector,
)
from tests.agent.pki import ThrowawayCA


@pytest.fixture(scope="session")
def ca() -> ThrowawayCA:
    return ThrowawayCA()


@pytest.fixture
def ca_file(tmp_path: Path, ca: ThrowawayCA) -> Path:
    path = tmp_path / "collector-ca.pem"
    path.write_bytes(ca.cert_pem)
    return path


@pytest.fixture
def collector_state(ca: ThrowawayCA) -> CollectorState:
    return CollectorState(ca=ca)


@pytest.fixture
async def collector(collector_state: CollectorState) -> AsyncIterator[RunningCollector]:
    running = await start_collector(collector_state)
    yield running
    await running.stop()


@pytest.fixture
async def enrolled(tmp_path: Path, collector: RunningCollector, ca_file: Path) -> StatePaths:
    """A state directory enrolled with the running collector double."""
    paths = StatePaths(tmp_path / "state")
    await enroll(
        paths=paths,
        server=Address("127.0.0.1", collector.agent_port),
        enroll_server=Address("127.0.0.1", collector.enroll_port),
        token=GOOD_TOKEN,
        ca_file=ca_file,
    )
    return paths
