"""Dashboard response times on a large store, through a real collector process.

For each data folder given (filled by ``bench.dashboard_fill``; SQLite or PostgreSQL, as its
``server.toml`` says), this creates a throw-away admin (password + TOTP, straight through
the accounts service as ``parc-server user create`` does), starts ``parc-server run`` on
loopback ports, signs in through the real /login form, then asks each page ``--requests``
times (after two warm-up requests) and prints the median and 95th percentile of

- ``server``: the ``Server-Timing: app;dur=`` the collector reports (for the streamed CSV
  export that is the time to its first byte), and
- ``client``: the wall time on this side until the last byte of the body.

The goal (issue 4) is under 300 ms median and p95 for pages and searches; the CSV export
of every device is judged by its client time to the last byte::

    .venv/bin/python -m bench.dashboard_http --data-dir /tmp/parc-bench/sqlite \\
        --data-dir /tmp/parc-bench/pg --requests 30 --json dashboard.json

The device page (/devices/{id}) is measured when the collector serves it; otherwise its
row says which status it answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.report import Figure, machine, this_command, verdict

GOAL_MS = 300.0
START_TIMEOUT_S = 60.0
PASSWORD = "bench dashboard password 2026"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')
_SERVER_TIMING = re.compile(r"\bapp;dur=([0-9.]+)")


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    goal: bool = True  # judged against GOAL_MS (server time; client time for streams)
    stream: bool = False


def targets(device_id: str | None) -> list[Target]:
    device = f"/devices/{device_id}" if device_id else "/devices/unknown"
    return [
        Target("fleet overview /", "/"),
        Target("devices page", "/devices"),
        Target("devices by last seen", "/devices?sort=-last_seen"),
        Target("devices by health", "/devices?sort=health"),
        Target("devices page 100 (offset 4950)", "/devices?page=100"),
        Target("text search (hostname)", "/devices?q=delta-win-0012"),
        Target("text search (serial)", "/devices?q=SN0004242"),
        Target("text search (IP)", "/devices?q=10.0.17.3"),
        Target("software search, common title", "/devices?software=7-Zip"),
        Target("software search, rare title", "/devices?software=Package+03999"),
        Target("filters: critical + tag + OS", "/devices?state=critical&tag=vip&os=Windows+11+Pro"),
        Target("API /api/v1/devices limit=500", "/api/v1/devices?limit=500"),
        Target("API /api/v1/fleet/overview", "/api/v1/fleet/overview"),
        Target("device page /devices/{id}", device),
        Target("CSV export, all devices", "/devices.csv", stream=True),
    ]


@dataclass
class Measured:
    backend: str
    name: str
    path: str
    status: int
    requests: int
    server_median_ms: float | None
    server_p95_ms: float | None
    client_median_ms: float
    client_p95_ms: float
    body_bytes: int
    judged_on: str
    goal_met: bool | None
    notes: list[str] = field(default_factory=list)


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def server_ms(response: httpx.Response) -> float | None:
    found = _SERVER_TIMING.search(response.headers.get("server-timing", ""))
    return float(found.group(1)) if found else None


async def create_admin(data_dir: Path, username: str) -> str:
    """A signed-in-able admin (password and TOTP); returns the TOTP secret."""
    from server.services import totp
    from server.services.accounts import AccountService
    from server.services.clock import utc_now
    from server.services.records import CLI_ACTOR
    from server.services.secrets import SecretBox
    from server.settings import load_settings
    from server.store.database import create_engine, resolve_database_url, session_factory

    settings = load_settings(data_dir)
    engine = create_engine(resolve_database_url(data_dir, settings.database_url))
    try:
        accounts = AccountService(session_factory(engine), SecretBox.for_data_dir(data_dir))
        created = await accounts.create_user(username, "admin", actor=CLI_ACTOR, password=PASSWORD)
        enrolment = await accounts.begin_totp_enrolment(created.user.id)
        earlier = utc_now() - timedelta(seconds=totp.STEP_SECONDS)
        await accounts.confirm_totp_enrolment(
            created.user.id, totp.code_at(enrolment.secret, earlier)
        )
        return enrolment.secret
    finally:
        await engine.dispose()


def start_collector(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    run_file = data_dir / "run" / "collector.json"
    run_file.unlink(missing_ok=True)
    with (data_dir / "bench-collector.log").open("ab") as log:
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
                "--enroll-listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the collector exited early; see {data_dir}/bench-collector.log")
        try:
            info: dict[str, Any] = json.loads(run_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.2)
            continue
        if info.get("pid") == proc.pid and info.get("http_url"):
            return proc, str(info["http_url"])
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the collector did not start in time")


async def sign_in(client: httpx.AsyncClient, username: str, secret: str) -> None:
    from server.services import totp
    from server.services.clock import utc_now

    form = await client.get("/login")
    found = _CSRF_FIELD.search(form.text)
    if found is None:
        raise SystemExit("no CSRF field on /login")
    response = await client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "code": totp.code_at(secret, utc_now()),
            "csrf_token": found.group(1),
        },
    )
    if response.status_code != 303:
        raise SystemExit(f"sign-in failed: {response.status_code} {response.text[:200]}")


async def measure(
    client: httpx.AsyncClient, backend: str, target: Target, requests: int
) -> Measured:
    servers: list[float] = []
    clients: list[float] = []
    status = 0
    size = 0
    for attempt in range(requests + 2):
        started = time.perf_counter()
        async with client.stream("GET", target.path) as response:
            body = await response.aread()
        elapsed = (time.perf_counter() - started) * 1000
        status, size = response.status_code, len(body)
        if attempt < 2:
            continue  # warm-up
        clients.append(elapsed)
        timing = server_ms(response)
        if timing is not None:
            servers.append(timing)
    judged = "client" if target.stream else "server"
    server_median = statistics.median(servers) if servers else None
    server_p95 = p95(servers) if servers else None
    client_median, client_p95 = statistics.median(clients), p95(clients)
    notes = []
    met: bool | None = None
    if status != 200:
        notes.append(f"answered HTTP {status}: not measured as a page")
    elif target.goal:
        if judged == "client":
            met = client_median < GOAL_MS and client_p95 < GOAL_MS
        else:
            met = (
                server_median is not None
                and server_p95 is not None
                and server_median < GOAL_MS
                and server_p95 < GOAL_MS
            )
    return Measured(
        backend,
        target.name,
        target.path,
        status,
        len(clients),
        server_median,
        server_p95,
        client_median,
        client_p95,
        size,
        judged,
        met,
        notes,
    )


def backend_of(data_dir: Path) -> str:
    from server.settings import load_settings

    url = load_settings(data_dir).database_url or ""
    return "postgresql" if url.startswith(("postgres", "postgresql")) else "sqlite"


async def bench_one(data_dir: Path, requests: int, csv_requests: int) -> list[Measured]:
    backend = backend_of(data_dir)
    username = f"bench-{int(time.time())}"
    secret = await create_admin(data_dir, username)
    proc, url = start_collector(data_dir)
    try:
        # TCP_NODELAY: without it the client's own Nagle/delayed-ACK stall (~40 ms on
        # loopback) lands in every small response's client time.
        transport = httpx.AsyncHTTPTransport(
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        )
        async with httpx.AsyncClient(base_url=url, timeout=120, transport=transport) as client:
            await sign_in(client, username, secret)
            first = await client.get("/api/v1/devices", params={"limit": 1})
            devices = first.json().get("devices", []) if first.status_code == 200 else []
            device_id = devices[0]["id"] if devices else None
            results = []
            for target in targets(device_id):
                count = csv_requests if target.stream else requests
                result = await measure(client, backend, target, count)
                results.append(result)
                print(_row(result), flush=True)
            return results
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def figures(m: Measured) -> list[Figure]:
    """``m`` as ``bench.report`` figures (what ``bench.benchmarks_doc`` tabulates): the
    median and p95 it is judged on, with the goal."""
    if m.status != 200:
        return []
    pair: tuple[float | None, float | None]
    if m.judged_on == "client":
        pair = (m.client_median_ms, m.client_p95_ms)
    else:
        pair = (m.server_median_ms, m.server_p95_ms)
    goal = f"< {GOAL_MS:.0f} ms ({m.judged_on})" if m.goal_met is not None else ""
    return [
        Figure(f"{m.backend}: {m.name}, {stat}", value, "ms", goal, verdict(value < GOAL_MS))
        for stat, value in zip(("median", "p95"), pair, strict=True)
        if value is not None
    ]


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:8.1f}"


def _row(m: Measured) -> str:
    verdict = {True: "met", False: "NOT met", None: ""}[m.goal_met]
    note = ("  " + "; ".join(m.notes)) if m.notes else ""
    return (
        f"  {m.backend:<10} {m.name:<34} {m.status:>4} {_fmt(m.server_median_ms)} "
        f"{_fmt(m.server_p95_ms)} {_fmt(m.client_median_ms)} {_fmt(m.client_p95_ms)} "
        f"{m.body_bytes:>9} {m.judged_on:>6} {verdict}{note}"
    )


HEADER = (
    f"  {'backend':<10} {'page':<34} {'HTTP':>4} {'srv med':>8} {'srv p95':>8} "
    f"{'cli med':>8} {'cli p95':>8} {'bytes':>9} {'judged':>6} goal <{GOAL_MS:.0f} ms"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, action="append", required=True)
    parser.add_argument("--requests", type=int, default=30, help="per page (after warm-up)")
    parser.add_argument("--csv-requests", type=int, default=5, help="for the CSV export")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    print(f"\nDashboard response times (ms)\n  command: {this_command()}\n  machine: {machine()}\n")
    print(HEADER, flush=True)
    results: list[Measured] = []
    for data_dir in args.data_dir:
        results.extend(asyncio.run(bench_one(data_dir, args.requests, args.csv_requests)))
    print("\n  server: Server-Timing app;dur (for the CSV stream: time to first byte);")
    print("  client: this side's wall time to the last byte. Medians and p95 over the requests.")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "title": "Dashboard response times",
            "command": this_command(),
            "machine": machine(),
            "goal_ms": GOAL_MS,
            "results": [asdict(r) for r in results],
            "figures": [asdict(f) for r in results for f in figures(r)],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\n  wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
