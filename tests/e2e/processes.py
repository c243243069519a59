"""Real collector and agent processes for end-to-end tests.

Each helper runs the installed commands' modules (`python -m server.cli`, `python -m agent.cli`)
as separate processes that talk mutual TLS over loopback, exactly as on a real machine.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

START_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``check`` until it returns something other than None/False, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def server_cli(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"parc-server {' '.join(args)} failed: {done.stderr}")
    return done


def agent_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"parc-agent {' '.join(args)} failed: {done.stderr}")
    return done


def _stop(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@dataclass
class Collector:
    """A running `parc-server run` process."""

    data_dir: Path
    proc: subprocess.Popen[bytes]
    agent_address: str
    enroll_address: str
    log_path: Path

    @property
    def ca_cert(self) -> Path:
        return self.data_dir / "pki" / "ca.crt"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return server_cli(self.data_dir, *args, check=check)

    def devices(self) -> list[dict[str, Any]]:
        listing: list[dict[str, Any]] = json.loads(self.cli("devices", "--json").stdout)
        return listing

    def device(self, device_id: str) -> dict[str, Any] | None:
        return next((d for d in self.devices() if d["device_id"] == device_id), None)

    def create_token(self, tenant: str = "Acme", site: str = "HQ", uses: int = 1) -> str:
        out = self.cli(
            "token",
            "create",
            "--tenant",
            tenant,
            "--site",
            site,
            "--uses",
            str(uses),
            "--expires",
            "1h",
            "--json",
        ).stdout
        secret: str = json.loads(out)["secret"]
        return secret

    def stop(self) -> int:
        return _stop(self.proc)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def init_collector(data_dir: Path) -> None:
    server_cli(data_dir, "init", "--hostname", "localhost", "--hostname", "127.0.0.1")


def start_collector(data_dir: Path, agent_port: int = 0, enroll_port: int = 0) -> Collector:
    log_path = data_dir.parent / f"{data_dir.name}-collector.log"
    run_file = data_dir / "run" / "collector.json"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "run",
                "--data-dir",
                str(data_dir),
                "--listen",
                f"127.0.0.1:{agent_port}",
                "--enroll-listen",
                f"127.0.0.1:{enroll_port}",
                "--http-listen",
                "127.0.0.1:0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def ready() -> dict[str, Any] | None:
        if proc.poll() is not None:
            raise AssertionError(f"collector exited early: {log_path.read_text()}")
        try:
            info: dict[str, Any] = json.loads(run_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return info if info.get("pid") == proc.pid else None

    info = wait_for(ready, START_TIMEOUT_S, "the collector to listen")
    return Collector(
        data_dir, proc, str(info["agent_address"]), str(info["enroll_address"]), log_path
    )


@dataclass
class Agent:
    """An enrolled agent's state directory, and its `parc-agent run` process when started."""

    state_dir: Path
    device_id: str
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    extra_args: list[str] = field(default_factory=list)

    def start(self, server: str, *args: str) -> None:
        self.log_path = self.state_dir.parent / f"{self.state_dir.name}-agent.log"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "agent.cli",
                    "run",
                    "--state-dir",
                    str(self.state_dir),
                    "--server",
                    server,
                    *args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def stop(self) -> int:
        assert self.proc is not None
        return _stop(self.proc)

    def status(self) -> dict[str, Any]:
        out = agent_cli("status", "--state-dir", str(self.state_dir), "--json").stdout
        status: dict[str, Any] = json.loads(out)
        return status

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


def enroll_agent(collector: Collector, state_dir: Path, token: str) -> Agent:
    agent_cli(
        "enroll",
        "--server",
        collector.agent_address,
        "--enroll-server",
        collector.enroll_address,
        "--token",
        token,
        "--ca-cert",
        str(collector.ca_cert),
        "--state-dir",
        str(state_dir),
    )
    identity = json.loads((state_dir / "identity" / "device.json").read_text())
    return Agent(state_dir, str(identity["device_id"]))


@contextmanager
def running(agent: Agent, server: str, *args: str) -> Iterator[Agent]:
    agent.start(server, *args)
    try:
        yield agent
    finally:
        if agent.proc is not None and agent.proc.poll() is None:
            agent.stop()
