"""`parc-server quickstart`: a collector and a local agent come up; Ctrl-C stops both."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.processes import wait_for
from tests.web.conftest import csrf_from

pytestmark = pytest.mark.e2e


def test_quickstart_brings_up_a_reporting_device_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    root = tmp_path / "quickstart"
    out = tmp_path / "quickstart.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "quickstart",
                "--root",
                str(root),
                "--listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal would give it
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        wait_for(lambda: "Parc is running" in out.read_text(), 90, "quickstart to report ready")
        collector_pid = json.loads((root / "collector" / "run" / "collector.json").read_text())[
            "pid"
        ]
        children = psutil.Process(proc.pid).children()
        assert len(children) == 2, "a collector and an agent process"
        assert collector_pid in {c.pid for c in children}
        text = out.read_text()
        assert "is online" in text
        assert (root / "agent" / "identity" / "device.json").exists()
        run_info = json.loads((root / "collector" / "run" / "collector.json").read_text())
        assert f"dashboard: {run_info['http_url']}" in text
        found = re.search(r"sign in:   admin / (\S+)  \(one-time password", text)
        assert found is not None, text
        assert_signs_in(run_info["http_url"], "admin", found.group(1))

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        assert proc.wait(timeout=60) == 0, out.read_text()
        for child in children:
            assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
        assert "stopped the agent and the collector" in out.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def assert_signs_in(base_url: str, username: str, password: str) -> None:
    """The printed password opens a session (which must first set a new password and TOTP)."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        form = client.get("/login")
        wrong = client.post(
            "/login",
            data={
                "username": username,
                "password": password + "x",
                "csrf_token": csrf_from(form.text),
            },
        )
        assert wrong.status_code != 303
        form = client.get("/login")
        right = client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_from(form.text)},
        )
        assert right.status_code == 303, right.text
        assert right.headers["location"].startswith("/account/")
