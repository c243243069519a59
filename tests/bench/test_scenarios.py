"""The collector scenarios at tiny N (a few agents, a few seconds), so that they keep working.

Their large runs stay out of CI; here each scenario runs end to end against a fresh collector
process and its result fields are checked, not its speed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.scenarios.__main__ import parse_args, run_scenario, write_json
from bench.scenarios.result import ScenarioResult

pytestmark = pytest.mark.e2e

AGENTS = 6


def scenario(*argv: str) -> ScenarioResult:
    args = parse_args([*argv, "--agents", str(AGENTS)])
    return run_scenario(args.scenario, args)


def figure(result: ScenarioResult, name: str) -> float:
    return next(f.value for f in result.figures if f.name == name)


def test_steady_state_keeps_every_agent_connected_without_errors(tmp_path: Path) -> None:
    result = scenario("steady", "--duration", "3")
    data = result.data
    assert data["connected_at_end"] == AGENTS
    assert data["errors"] == {}
    assert data["collector_cores"] > 0
    assert data["collector_cpu_per_message_ms"] > 0
    assert data["collector_rss_bytes"] > 0
    assert set(data["latency_ms"]) >= {"heartbeat"}
    assert figure(result, "agents connected at the end") == AGENTS
    # The JSON written for the benchmarks page holds the figures, the command and the machine.
    path = tmp_path / "steady.json"
    write_json(path, result, parse_args(["steady", "--agents", str(AGENTS)]), "cmd")
    payload = json.loads(path.read_text())
    assert payload["scenario"] == "steady"
    assert set(payload["machine"]) >= {"cpu", "cores", "memory_gib", "python", "os"}
    assert {f["name"] for f in payload["figures"]} >= {"heartbeat latency p99", "errors"}


def test_enrolment_storm_enrols_and_stores_every_agent() -> None:
    data = scenario("enrol").data
    assert data["enrolled"] == AGENTS
    assert data["devices_stored"] == AGENTS
    assert data["errors"] == {}
    assert data["per_second"] > 0


def test_inventory_storm_stores_every_full_inventory() -> None:
    data = scenario("inventory", "--packages", "120").data
    assert data["accepted"] == AGENTS
    assert data["stored"] == AGENTS
    assert data["software_links"] == AGENTS * 120
    assert data["errors"] == {}


def test_reconnect_storm_brings_every_agent_back_after_a_clean_restart() -> None:
    data = scenario("reconnect").data
    assert data["all_back"] is True
    assert data["connected"] == AGENTS
    # The old process exited with 0 (restart raises otherwise) and every stream was re-opened.
    assert data["stop_s"] > 0
    assert data["reconnects"] >= AGENTS


def test_fanout_gets_every_command_acknowledged() -> None:
    data = scenario("fanout").data
    assert data["queued"] == AGENTS
    assert data["acked"] == AGENTS
    assert data["all_acked"] is True


def test_the_benchmarks_page_is_generated_from_the_result_files(tmp_path: Path) -> None:
    from bench.benchmarks_doc import main as regenerate

    results = tmp_path / "results"
    results.mkdir()
    run = {
        "scenario": "fanout",
        "title": "Command fan-out: one command for each of 6 connected agents (sqlite)",
        "backend": "sqlite",
        "agents": 6,
        "command": ".venv/bin/python -m bench.scenarios fanout --agents 6 --json",
        "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 24, "python": "3.11", "os": "L"},
        "figures": [
            {
                "name": "all acknowledged after",
                "value": 0.5,
                "unit": "s",
                "goal": "<= 10 s",
                "verdict": "(met)",
            },
            {"name": "acks per second", "value": 12.0, "unit": "1/s", "goal": "", "verdict": ""},
        ],
    }
    (results / "fanout-sqlite-6.json").write_text(json.dumps(run))
    out = tmp_path / "benchmarks.md"
    regenerate(["--results", str(results), "--out", str(out)])
    page = out.read_text()
    assert "Test CPU, 2 cores, 24 GiB RAM, Python 3.11" in page
    assert "`.venv/bin/python -m bench.scenarios fanout --agents 6 --json`" in page
    assert "| fanout (sqlite, 6 agents) | all acknowledged after | 0.50 s | <= 10 s | met |" in page
    assert "| acks per second | 12 | 1/s |  |" in page
