"""``python -m bench.scenarios NAME``: run one scenario and print (and save) its figures."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.report import this_command
from bench.scenarios import enrol, fanout, inventory, reconnect, steady
from bench.scenarios.harness import (
    BACKENDS,
    POSTGRES_URL,
    ScenarioRun,
    fresh_collector,
    machine_facts,
)
from bench.scenarios.result import ScenarioResult, goal

RESULTS = Path("docs/benchmarks")

Runner = Callable[[ScenarioRun, argparse.Namespace], Coroutine[Any, Any, ScenarioResult]]

SCENARIOS: dict[str, Runner] = {
    "steady": lambda run, a: steady.run(
        run,
        a.agents,
        duration=a.duration,
        heartbeat_interval=a.heartbeat_interval,
        health_interval=a.health_interval,
    ),
    "enrol": lambda run, a: enrol.run(run, a.agents),
    "inventory": lambda run, a: inventory.run(run, a.agents, packages=a.packages),
    "reconnect": lambda run, a: reconnect.run(run, a.agents),
    "fanout": lambda run, a: fanout.run(run, a.agents),
}


def run_scenario(name: str, args: argparse.Namespace) -> ScenarioResult:
    """Run scenario ``name`` against a fresh collector with the given options."""
    with fresh_collector(args.backend, args.postgres_url) as run:
        result = asyncio.run(SCENARIOS[name](run, args))
    code = run.exit_code if run.exit_code is not None else -1
    result.figures.append(
        goal("collector exit code on SIGTERM at the end", code, "code", "0", code == 0)
    )
    result.data["collector_exit_code"] = code
    return result


def print_result(result: ScenarioResult, command: str, machine: dict[str, object]) -> None:
    width = max(len(f.name) for f in result.figures)
    where = ", ".join(f"{k} {v}" for k, v in machine.items())
    print(f"\n{result.title}\n  command: {command}\n  machine: {where}\n")
    print(f"  {'figure':<{width}}  {'value':>12}  {'unit':<9}  goal")
    for f in result.figures:
        print(f"  {f.name:<{width}}  {f.value:>12.2f}  {f.unit:<9}  {f.goal} {f.verdict}".rstrip())


def write_json(path: Path, result: ScenarioResult, args: argparse.Namespace, command: str) -> None:
    payload = {
        "scenario": result.scenario,
        "title": result.title,
        "backend": args.backend,
        "agents": args.agents,
        "command": command,
        "machine": machine_facts(),
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "figures": [asdict(f) for f in result.figures],
        "data": result.data,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\n  wrote {path}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scenarios", description=__doc__)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--backend", choices=BACKENDS, default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=POSTGRES_URL,
        help="server URL; a database of its own is created there and dropped afterwards",
    )
    parser.add_argument("--duration", type=float, default=120.0, help="steady: measured seconds")
    parser.add_argument("--packages", type=int, default=700, help="inventory: packages each")
    parser.add_argument("--heartbeat-interval", type=float, default=30.0, help="steady: seconds")
    parser.add_argument("--health-interval", type=float, default=60.0, help="steady: seconds")
    parser.add_argument(
        "--json",
        type=Path,
        nargs="?",
        const=Path("-"),
        default=None,
        help="write the figures as JSON (default file: docs/benchmarks/SCENARIO-BACKEND-N.json)",
    )
    args = parser.parse_args(argv)
    if args.agents < 1:
        parser.error("--agents must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    command = this_command().replace("bench.scenarios.__main__", "bench.scenarios")
    result = run_scenario(args.scenario, args)
    print_result(result, command, machine_facts())
    if args.json is not None:
        path = args.json
        if path == Path("-"):
            path = RESULTS / f"{args.scenario}-{args.backend}-{args.agents}.json"
        write_json(path, result, args, command)


if __name__ == "__main__":
    main()
