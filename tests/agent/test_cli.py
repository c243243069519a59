"""The parc-agent command line: enroll, status, run (as a real process), inventory."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format

from agent.cli import main
from agent.state import StatePaths
from parc.v1 import agent_service_pb2 as pb
from tests.agent.collector_double import GOOD_TOKEN, CollectorState, RunningCollector

REPO = Path(__file__).resolve().parents[2]


def enroll_args(collector: RunningCollector, ca_file: Path, state: Path, token: str) -> list[str]:
    return [
        "enroll",
        "--server",
        f"127.0.0.1:{collector.agent_port}",
        "--enroll-server",
        f"127.0.0.1:{collector.enroll_port}",
        "--token",
        token,
        "--ca-cert",
        str(ca_file),
        "--state-dir",
        str(state),
    ]


async def test_enroll_then_status(
    tmp_path: Path,
    collector: RunningCollector,
    ca_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = tmp_path / "state"
    code = await asyncio.to_thread(main, enroll_args(collector, ca_file, state, GOOD_TOKEN))
    assert code == 0
    assert "dev-0001" in capsys.readouterr().out

    assert main(["status", "--state-dir", str(state), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["device_id"] == "dev-0001"
    assert (status["tenant"], status["site"]) == ("acme", "paris")
    assert status["server"] == f"127.0.0.1:{collector.agent_port}"
    assert status["certificate"]["serial"]
    assert status["spool"] == {"health": 0, "inventory": 0}
    assert status["last_contact"] is None

    assert main(["status", "--state-dir", str(state)]) == 0
    text = capsys.readouterr().out
    assert "device id:" in text and "certificate expires:" in text and "never" in text


async def test_enroll_refused_exits_1_without_echoing_the_token(
    tmp_path: Path,
    collector: RunningCollector,
    ca_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = tmp_path / "state"
    token = "secret-but-stale-token"
    code = await asyncio.to_thread(main, enroll_args(collector, ca_file, state, token))
    assert code == 1
    err = capsys.readouterr().err
    assert "enrolment token expired" in err
    assert token not in err
    assert not state.exists()


def test_status_when_not_enrolled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    assert "not enrolled" in capsys.readouterr().err


def test_run_rejects_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "agent.toml").write_text("health_interval = -5\n")
    assert main(["run", "--state-dir", str(tmp_path)]) == 1
    assert "health_interval must be between" in capsys.readouterr().err


def test_run_when_not_enrolled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--state-dir", str(tmp_path), "--server", "127.0.0.1:9"]) == 1
    assert "not enrolled" in capsys.readouterr().err


def test_inventory_json_is_what_would_be_sent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    inventory = json_format.ParseDict(output["inventory"], pb.InventoryReport())
    health = json_format.ParseDict(output["health"], pb.HealthReport())
    assert inventory.report_id and health.report_id
    assert inventory.os.family == "linux"
    assert health.HasField("sample_time") and inventory.HasField("collect_time")


async def test_run_process_reports_and_stops_on_sigterm(
    enrolled: StatePaths, collector_state: CollectorState
) -> None:
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{REPO / 'proto'}")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agent.cli",
        "run",
        "--state-dir",
        str(enrolled.root),
        "--heartbeat-interval",
        "1",
        "--health-interval",
        "1",
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        await collector_state.wait_for(
            lambda: (
                collector_state.health_ids
                and collector_state.inventory_ids
                and collector_state.heartbeats
            ),
            limit=60,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert "stopped" in log
    assert "PRIVATE KEY" not in log and GOOD_TOKEN not in log
