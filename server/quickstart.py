"""`parc-server quickstart`: Parc running for real on one machine, in one command.

It initialises a collector data directory (SQLite) if there is none, starts the collector as a
process (its dashboard on a loopback address, so plain HTTP), creates the first admin account
when there is none (printing its one-time password once), creates an enrolment token, enrols a
local agent with it, starts the agent as a second process, waits until the device reports in,
and prints where to look. Ctrl-C (or SIGTERM) stops
both processes cleanly. Everything goes through the real commands (`parc-server …`,
`parc-agent …`), so what a newcomer sees is exactly what an admin would do by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

DEFAULT_ROOT = Path("var/quickstart")
DEFAULT_HTTP_LISTEN = "127.0.0.1:8443"
FIRST_ADMIN = "admin"
READY_TIMEOUT_S = 60.0


class QuickstartError(Exception):
    """A step of the quickstart failed; the message says which and why."""


@dataclass(frozen=True)
class Layout:
    """Where the quickstart keeps the collector's and the agent's files."""

    root: Path

    @property
    def collector_dir(self) -> Path:
        return self.root / "collector"

    @property
    def agent_dir(self) -> Path:
        return self.root / "agent"

    @property
    def ca_cert(self) -> Path:
        return self.collector_dir / "pki" / "ca.crt"

    @property
    def collector_log(self) -> Path:
        return self.root / "collector.log"

    @property
    def agent_log(self) -> Path:
        return self.root / "agent.log"

    @property
    def run_file(self) -> Path:
        return self.collector_dir / "run" / "collector.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `parc-server quickstart` (its --data-dir is the collector's directory)."""
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help="folder for the collector's and the local agent's files (default: %(default)s)",
    )
    parser.add_argument(
        "--listen",
        default="127.0.0.1:50051",
        help="the collector's agent address (mTLS); enrolment listens on the next port",
    )
    parser.add_argument(
        "--http-listen",
        default=DEFAULT_HTTP_LISTEN,
        help="the dashboard's address; a loopback address serves plain HTTP (default: %(default)s)",
    )
    parser.add_argument(
        "--exit-when-ready",
        action="store_true",
        help="stop both processes as soon as the device has reported (for scripts and tests)",
    )


def _server_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "server.cli", *args]


def _agent_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent.cli", *args]


def _check(cmd: Sequence[str], what: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise QuickstartError(f"{what} failed: {detail}")
    return done.stdout


def _enroll_address(listen: str, run_info: dict[str, str]) -> str:
    return run_info.get("enroll_address", listen)


def _wait_for_run_file(layout: Layout, collector: subprocess.Popen[bytes]) -> dict[str, str]:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if collector.poll() is not None:
            raise QuickstartError(
                f"the collector exited with code {collector.returncode}; see {layout.collector_log}"
            )
        try:
            info: dict[str, str] = json.loads(layout.run_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.2)
            continue
        if int(info.get("pid", 0)) == collector.pid:
            return info
        time.sleep(0.2)
    raise QuickstartError(f"the collector did not start listening; see {layout.collector_log}")


def _device_list(layout: Layout) -> list[dict[str, object]]:
    out = _check(
        _server_cmd("devices", "--json", "--data-dir", str(layout.collector_dir)), "listing devices"
    )
    devices: list[dict[str, object]] = json.loads(out)
    return devices


def _wait_until_reporting(
    layout: Layout, device_id: str, processes: Sequence[subprocess.Popen[bytes]]
) -> dict[str, object]:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        for proc in processes:
            if proc.poll() is not None:
                raise QuickstartError(
                    f"a process exited early (code {proc.returncode}); see {layout.root}/*.log"
                )
        for device in _device_list(layout):
            if device.get("device_id") == device_id and device.get("online"):
                return device
        time.sleep(0.5)
    raise QuickstartError(f"the agent did not report within {READY_TIMEOUT_S:.0f} s; see logs")


def _agent_identity(layout: Layout) -> str | None:
    try:
        identity = json.loads((layout.agent_dir / "identity" / "device.json").read_text())
    except FileNotFoundError:
        return None
    device_id = identity.get("device_id")
    return str(device_id) if device_id else None


def _first_admin(layout: Layout) -> str | None:
    """Create the admin account when there is no user yet; its one-time password, else None."""
    users = json.loads(
        _check(
            _server_cmd("user", "list", "--json", "--data-dir", str(layout.collector_dir)),
            "listing users",
        )
    )
    if users:
        return None
    out = _check(
        _server_cmd(
            "user",
            "create",
            FIRST_ADMIN,
            "--role",
            "admin",
            "--data-dir",
            str(layout.collector_dir),
        ),
        "creating the first admin",
    )
    return out.strip()


def _stop(proc: subprocess.Popen[bytes], name: str) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop within 15 s; killing it", file=sys.stderr)
        proc.kill()
        proc.wait()


def run(layout: Layout, listen: str, http_listen: str, exit_when_ready: bool) -> int:
    """Bring up the collector and a local agent; return the exit code."""
    layout.root.mkdir(parents=True, exist_ok=True)
    if not layout.ca_cert.exists():
        print(f"initialising a collector in {layout.collector_dir}")
        _check(
            _server_cmd("init", "--data-dir", str(layout.collector_dir)),
            "initialising the collector",
        )

    stopping = False

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = signal.signal(signal.SIGTERM, _on_signal)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with layout.collector_log.open("ab") as collector_log:
            collector = subprocess.Popen(
                _server_cmd(
                    "run",
                    "--data-dir",
                    str(layout.collector_dir),
                    "--listen",
                    listen,
                    "--http-listen",
                    http_listen,
                ),
                stdout=collector_log,
                stderr=subprocess.STDOUT,
            )
        processes.append(collector)
        info = _wait_for_run_file(layout, collector)
        agent_address = info["agent_address"]
        print(f"collector listening on {agent_address} (enrolment on {info['enroll_address']})")
        admin_password = _first_admin(layout)

        device_id = _agent_identity(layout)
        if device_id is None:
            token = json.loads(
                _check(
                    _server_cmd(
                        "token",
                        "create",
                        "--data-dir",
                        str(layout.collector_dir),
                        "--tenant",
                        "Quickstart",
                        "--site",
                        "Local",
                        "--uses",
                        "1",
                        "--expires",
                        "10m",
                        "--json",
                    ),
                    "creating an enrolment token",
                )
            )
            _check(
                _agent_cmd(
                    "enroll",
                    "--server",
                    agent_address,
                    "--enroll-server",
                    _enroll_address(listen, info),
                    "--token",
                    str(token["secret"]),
                    "--ca-cert",
                    str(layout.ca_cert),
                    "--state-dir",
                    str(layout.agent_dir),
                ),
                "enrolling the local agent",
            )
            device_id = _agent_identity(layout)
            if device_id is None:
                raise QuickstartError("the agent enrolled but wrote no identity")
            print(f"local agent enrolled as device {device_id}")

        with layout.agent_log.open("ab") as agent_log:
            agent = subprocess.Popen(
                _agent_cmd("run", "--state-dir", str(layout.agent_dir), "--server", agent_address),
                stdout=agent_log,
                stderr=subprocess.STDOUT,
            )
        processes.append(agent)
        device = _wait_until_reporting(layout, device_id, processes)
        if admin_password is not None:
            sign_in = (
                f"  sign in:   {FIRST_ADMIN} / {admin_password}  (one-time password, shown only "
                "now: you set a new one and TOTP at first sign-in)\n"
            )
        else:
            sign_in = f"  sign in:   as {FIRST_ADMIN} (or another account) with your password\n"
        print(
            "\nParc is running.\n"
            f"  device {device_id} ({device.get('hostname')}) is online\n"
            f"  dashboard: {info.get('http_url') or '(not served)'}\n"
            f"{sign_in}"
            f"  devices:   .venv/bin/parc-server devices --data-dir {layout.collector_dir}\n"
            f"  agent:     .venv/bin/parc-agent status --state-dir {layout.agent_dir}\n"
            f"  inventory: .venv/bin/parc-agent inventory --json\n"
            f"  logs:      {layout.collector_log}, {layout.agent_log}\n"
            "Press Ctrl-C to stop both."
        )
        sys.stdout.flush()
        while not stopping and not exit_when_ready:
            if any(proc.poll() is not None for proc in processes):
                raise QuickstartError(f"a process exited unexpectedly; see {layout.root}/*.log")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in reversed(processes):  # the agent first, then the collector
            _stop(proc, "the agent" if proc is not processes[0] else "the collector")
        signal.signal(signal.SIGTERM, previous)
    print("stopped the agent and the collector")
    return 0


def main(args: argparse.Namespace) -> int:
    """Entry point called by `parc-server quickstart`."""
    root: Path = args.root
    layout = Layout(root=root.resolve())
    os.environ.pop("PARC_DATA_DIR", None)
    try:
        return run(layout, args.listen, args.http_listen, args.exit_when_ready)
    except QuickstartError as exc:
        print(f"quickstart: {exc}", file=sys.stderr)
        return 1
