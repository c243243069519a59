"""`parc-server` as a real process: init, tokens, devices, run and a clean SIGTERM."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

WAIT_S = 30.0


def parc_server(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARC_")}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr
    return done


def tree(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "collector"
    ok(parc_server(directory, "init", "--hostname", "localhost", "--hostname", "127.0.0.1"))
    return directory


def test_init_creates_a_private_folder_pki_database_and_server_toml(data_dir: Path) -> None:
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "pki" / "ca.key").stat().st_mode) == 0o600
    assert (data_dir / "pki" / "ca.crt").exists()
    assert (data_dir / "parc.db").exists()
    assert 'hostnames = ["localhost", "127.0.0.1"]' in (data_dir / "server.toml").read_text()


def test_init_twice_refuses_and_changes_nothing(data_dir: Path) -> None:
    before = tree(data_dir)
    done = parc_server(data_dir, "init", "--hostname", "other.example")
    assert done.returncode == 1
    assert "already" in done.stderr
    assert tree(data_dir) == before


def test_token_create_prints_the_secret_once_and_stores_only_its_hash(data_dir: Path) -> None:
    done = ok(
        parc_server(
            data_dir,
            "token",
            "create",
            "--tenant",
            "Acme",
            "--site",
            "HQ",
            "--uses",
            "3",
            "--expires",
            "24h",
        )
    )
    secret = done.stdout.strip()
    assert secret and "\n" not in secret
    assert secret not in done.stderr
    assert "parc-agent enroll" in done.stderr
    with sqlite3.connect(data_dir / "parc.db") as db:
        rows = db.execute("SELECT token_hash, uses_allowed FROM enrollment_tokens").fetchall()
        dump = "\n".join(db.iterdump())
    assert rows == [(hashlib.sha256(secret.encode()).hexdigest(), 3)]
    assert secret not in dump


def test_token_create_json_and_token_list(data_dir: Path) -> None:
    created = json.loads(
        ok(
            parc_server(
                data_dir,
                "token",
                "create",
                "--tenant",
                "Acme",
                "--site",
                "HQ",
                "--json",
            )
        ).stdout
    )
    assert created["tenant"] == "Acme" and created["site"] == "HQ"
    listing = json.loads(ok(parc_server(data_dir, "token", "list", "--json")).stdout)
    assert [t["token_id"] for t in listing] == [created["token_id"]]
    assert created["secret"] not in json.dumps(listing)
    ok(parc_server(data_dir, "token", "revoke", str(created["token_id"])))


def test_tenant_create_and_list(data_dir: Path) -> None:
    ok(parc_server(data_dir, "tenant", "create", "Acme", "--site", "Paris", "--site", "Lyon"))
    listing = ok(parc_server(data_dir, "tenant", "list")).stdout
    assert "Acme" in listing
    again = parc_server(data_dir, "tenant", "create", "Acme")
    assert again.returncode == 1 and again.stderr.strip()


def test_devices_json_on_an_empty_store(data_dir: Path) -> None:
    assert json.loads(ok(parc_server(data_dir, "devices", "--json")).stdout) == []


def test_revoking_an_unknown_device_fails_clearly(data_dir: Path) -> None:
    done = parc_server(data_dir, "device", "revoke", "no-such-device")
    assert done.returncode == 1
    assert "no-such-device" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_command_on_an_uninitialised_folder_says_to_run_init(tmp_path: Path) -> None:
    done = parc_server(tmp_path / "nothing", "devices")
    assert done.returncode == 1
    assert "parc-server init" in done.stderr
    assert not (tmp_path / "nothing").exists()


def test_bad_usage_exits_2(data_dir: Path) -> None:
    done = parc_server(data_dir, "token", "create", "--tenant", "Acme")
    assert done.returncode == 2


def _wait_for_run_file(path: Path, proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the collector exited early"
        try:
            info: dict[str, Any] = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.1)
            continue
        if info.get("pid") == proc.pid:
            return info
        time.sleep(0.1)
    raise AssertionError("the collector did not write its run file")


def test_run_writes_its_addresses_and_sigterm_stops_it_cleanly(data_dir: Path) -> None:
    run_file = data_dir / "run" / "collector.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARC_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "run",
            "--data-dir",
            str(data_dir),
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        info = _wait_for_run_file(run_file, proc)
        agent_host, agent_port = info["agent_address"].rsplit(":", 1)
        enroll_host, enroll_port = info["enroll_address"].rsplit(":", 1)
        assert agent_host == enroll_host == "127.0.0.1"
        assert int(agent_port) > 0 and int(enroll_port) > 0 and agent_port != enroll_port
        assert info["http_url"].startswith("http://127.0.0.1:")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr.decode(errors="replace")
    assert "collector listening on" in stderr.decode()
    assert not run_file.exists()


def test_requesting_inventory_from_an_unknown_device_fails_clearly(data_dir: Path) -> None:
    done = parc_server(data_dir, "device", "request-inventory", "no-such-device")
    assert done.returncode == 1
    assert "no-such-device" in done.stderr
    with sqlite3.connect(data_dir / "parc.db") as db:
        assert db.execute("SELECT COUNT(*) FROM commands").fetchone() == (0,)


def test_devices_table_on_an_empty_store_prints_the_header(data_dir: Path) -> None:
    out = ok(parc_server(data_dir, "devices")).stdout
    assert out.split() == [
        "DEVICE",
        "HOSTNAME",
        "TENANT",
        "SITE",
        "OS",
        "FORM",
        "LAST",
        "SEEN",
        "(UTC)",
        "STATE",
        "CPU%",
        "MEM%",
        "DISK%",
    ]
