"""The fleet load generator against a real collector, at small N (the large runs stay out of CI)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.loadgen import LoadgenConfig, LoadResult, run_load
from tests.e2e.processes import Collector, init_collector, start_collector

pytestmark = pytest.mark.e2e

AGENTS = 50
PACKAGES = 200


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    data_dir = tmp_path_factory.mktemp("loadgen") / "collector"
    init_collector(data_dir)
    started = start_collector(data_dir)
    yield started
    assert started.stop() == 0, started.log()


def rows(collector: Collector, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(collector.data_dir / "parc.db") as db:
        return db.execute(sql).fetchall()


def count(collector: Collector, sql: str) -> int:
    value: int = rows(collector, sql)[0][0]
    return value


@pytest.fixture(scope="module")
def result(collector: Collector) -> LoadResult:
    config = LoadgenConfig(
        server=collector.agent_address,
        enroll_server=collector.enroll_address,
        ca_cert=collector.ca_cert,
        token=collector.create_token("Bench", "Load", uses=AGENTS),
        agents=AGENTS,
        duration=10,
        heartbeat_interval=1,
        health_interval=1,
        inventory_interval=3600,  # once, at start
        packages=PACKAGES,
        seed=7,
    )
    return asyncio.run(run_load(config))


def test_every_agent_enrols_connects_and_is_acknowledged(result: LoadResult) -> None:
    assert result.errors == {}
    assert result.enrolled == AGENTS
    assert result.connected == AGENTS
    assert 0 < result.heartbeats_acked <= result.heartbeats_sent
    assert set(result.latency_ms) >= {"enroll", "heartbeat", "health", "inventory"}
    assert result.reconnects == 0


def test_every_first_inventory_is_stored_with_shared_titles(
    result: LoadResult, collector: Collector
) -> None:
    assert result.inventories_full == AGENTS
    assert result.inventories_accepted == AGENTS
    devices = collector.devices()
    assert len(devices) == AGENTS
    stored = rows(collector, "SELECT device_id, section FROM inventory_sections")
    assert {d["device_id"] for d in devices} == {device for device, _ in stored}
    assert len(stored) == 3 * AGENTS
    links = count(collector, "SELECT count(*) FROM device_software")
    titles = count(collector, "SELECT count(*) FROM software_titles")
    assert links == AGENTS * PACKAGES
    # Machines share most of their packages: titles are stored once across the fleet.
    assert 0 < titles < PACKAGES * 3
    licences = count(collector, "SELECT count(*) FROM device_package_licences")
    assert 0 < licences <= AGENTS * PACKAGES


def test_health_reports_are_stored(result: LoadResult, collector: Collector) -> None:
    assert result.health_accepted == result.health_sent > 0
    stored = count(collector, "SELECT count(*) FROM health_samples")
    # A report in flight when the run stopped may be stored without its answer being counted.
    assert result.health_accepted <= stored <= result.health_accepted + AGENTS


def test_the_command_line_runs_and_writes_json(collector: Collector, tmp_path: Path) -> None:
    out = tmp_path / "loadgen.json"
    # As the issue names it, a script path run from elsewhere (a second machine's checkout).
    script = Path(__file__).resolve().parents[2] / "bench" / "loadgen.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "--server",
            collector.agent_address,
            "--enroll-server",
            collector.enroll_address,
            "--ca-cert",
            str(collector.ca_cert),
            "--token",
            collector.create_token("Bench", "Cli", uses=5),
            "--agents",
            "5",
            "--duration",
            "3",
            "--heartbeat-interval",
            "0.5",
            "--packages",
            "50",
            "--inventory-interval",
            "0.5",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "heartbeats acked" in done.stdout
    payload = json.loads(out.read_text())
    assert set(payload) >= {"title", "command", "machine", "config", "result", "figures"}
    assert payload["config"]["agents"] == 5
    assert payload["result"]["enrolled"] == 5
    assert payload["result"]["errors"] == {}
    assert payload["result"]["heartbeats_acked"] > 0
    # Churned inventories go with the unchanged sections as hashes alone, and the collector
    # holds what they refer to.
    assert payload["result"]["inventories_partial"] > 0
    assert payload["result"]["full_inventory_requests"] == 0
    names = {f["name"] for f in payload["figures"]}
    assert {"agents enrolled", "heartbeats acked", "heartbeat latency p99", "errors"} <= names
