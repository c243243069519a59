"""End to end: a real collector and real agents as processes, mutual TLS over loopback."""

from __future__ import annotations

import itertools
import sqlite3
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.processes import (
    Collector,
    enroll_agent,
    free_port,
    init_collector,
    running,
    start_collector,
    wait_for,
)

pytestmark = pytest.mark.e2e

FAST = ("--heartbeat-interval", "1", "--health-interval", "1")


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    data_dir = tmp_path / "collector"
    init_collector(data_dir)
    started = start_collector(data_dir)
    yield started
    assert started.stop() == 0, started.log()


def health_rows(data_dir: Path, device_id: str) -> list[tuple[str, datetime]]:
    """(report id, sample time) of every stored health sample of a device, in storage order."""
    with sqlite3.connect(data_dir / "parc.db") as db:
        rows = db.execute(
            "SELECT report_id, sample_time FROM health_samples WHERE device_id = ? ORDER BY id",
            (device_id,),
        ).fetchall()
    return [(str(r), _as_datetime(t)) for r, t in rows]


def _as_datetime(value: object) -> datetime:
    # SQLite holds the collector's timestamps as naive UTC.
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def test_agent_enrols_and_its_health_reaches_the_store(
    collector: Collector, tmp_path: Path
) -> None:
    agent = enroll_agent(collector, tmp_path / "agent", collector.create_token("Acme", "Paris"))
    key = agent.state_dir / "identity" / "device.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    with running(agent, collector.agent_address, *FAST):
        device = wait_for(
            lambda: (
                (d := collector.device(agent.device_id))
                and d["online"]
                and d["cpu_percent"] is not None
                and d
            ),
            30,
            "the device to be online with health figures",
        )
        assert device["tenant"] == "Acme"
        assert device["site"] == "Paris"
        assert 0.0 <= device["memory_percent"] <= 100.0
        rows = wait_for(
            lambda: (r := health_rows(collector.data_dir, agent.device_id))[1:] and r,
            30,
            "two health samples in the store",
        )
        assert len({report_id for report_id, _ in rows}) == len(rows)
        status = agent.status()
        assert status["device_id"] == agent.device_id
    assert agent.proc is not None and agent.proc.returncode == 0, agent.log()


def test_revoked_device_is_cut_off_and_nothing_more_is_stored(
    collector: Collector, tmp_path: Path
) -> None:
    agent = enroll_agent(collector, tmp_path / "agent", collector.create_token())
    with running(agent, collector.agent_address, *FAST):
        wait_for(
            lambda: len(health_rows(collector.data_dir, agent.device_id)) >= 2,
            30,
            "health samples before the revocation",
        )
        collector.cli("device", "revoke", agent.device_id)
        wait_for(
            lambda: (d := collector.device(agent.device_id)) and d["revoked"] and not d["online"],
            10,
            "the device to show as revoked",
        )
        time.sleep(5)  # let anything already in flight land
        before = len(health_rows(collector.data_dir, agent.device_id))
        time.sleep(4)  # the agent keeps sampling every second; the collector must refuse it all
        after = len(health_rows(collector.data_dir, agent.device_id))
        assert after == before
        assert agent.proc is not None and agent.proc.poll() is None, "the agent must keep running"


def test_samples_taken_while_the_collector_is_down_arrive_once_and_in_order(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "collector"
    init_collector(data_dir)
    ports = (free_port(), free_port())
    collector = start_collector(data_dir, *ports)
    agent = enroll_agent(collector, tmp_path / "agent", collector.create_token())
    try:
        with running(agent, collector.agent_address, *FAST):
            wait_for(
                lambda: len(health_rows(data_dir, agent.device_id)) >= 2,
                30,
                "health samples before the outage",
            )
            assert collector.stop() == 0, collector.log()
            down_at = datetime.now().astimezone()
            time.sleep(6)
            up_at = datetime.now().astimezone()
            collector = start_collector(data_dir, *ports)
            wait_for(
                lambda: any(t > up_at for _, t in health_rows(data_dir, agent.device_id)),
                60,
                "samples taken after the collector came back",
            )
        rows = health_rows(data_dir, agent.device_id)
        times = [t for _, t in rows]
        assert len({r for r, _ in rows}) == len(rows), "a report was stored twice"
        assert times == sorted(times), "samples were stored out of order"
        during_outage = [t for t in times if down_at < t < up_at]
        assert len(during_outage) >= 3, "samples taken during the outage were lost"
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert max(gaps) < 5, f"a sample went missing (gap of {max(gaps):.1f} s)"
    finally:
        collector.stop()
