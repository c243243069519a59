"""The agent's footprint at default intervals: resident memory and CPU seconds per hour.

Starts a real collector and a real enrolled agent (default intervals: heartbeat 30 s, health
60 s, inventory at start and every 6 h), lets the agent run, samples its RSS every 5 s, and
reads its CPU time. CPU per hour is extrapolated from the steady part of the run (after the
first minute, which holds start-up and the first inventory); start-up CPU is shown apart.

    python bench/agent_footprint.py [--minutes 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psutil

from bench.report import Figure, emit, verdict
from tests.e2e.processes import enroll_agent, init_collector, running, start_collector, wait_for

WARMUP_S = 60.0
MIB = 1024 * 1024


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def measure(minutes: float) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="parc-bench-") as tmp:
        data_dir = Path(tmp) / "collector"
        init_collector(data_dir)
        collector = start_collector(data_dir)
        try:
            agent = enroll_agent(collector, Path(tmp) / "agent", collector.create_token())
            with running(agent, collector.agent_address):
                assert agent.proc is not None
                proc = psutil.Process(agent.proc.pid)
                wait_for(
                    lambda: (d := collector.device(agent.device_id)) and d["online"],
                    60,
                    "the agent to report",
                )
                started = time.monotonic()
                time.sleep(max(0.0, WARMUP_S - (time.monotonic() - started)))
                cpu_start = _cpu(proc)
                steady_from = time.monotonic()
                startup_cpu = cpu_start
                rss: list[int] = []
                end = started + minutes * 60
                while time.monotonic() < end:
                    rss.append(proc.memory_info().rss)
                    time.sleep(5)
                rss.append(proc.memory_info().rss)
                steady_s = time.monotonic() - steady_from
                cpu_per_hour = (_cpu(proc) - cpu_start) / steady_s * 3600
                uss = proc.memory_full_info().uss
                samples = collector.device(agent.device_id)
        finally:
            collector.stop()
    final_mib = rss[-1] / MIB
    return [
        Figure(
            f"agent RSS after {minutes:g} min",
            final_mib,
            "MiB",
            "<= 45 MB",
            verdict(rss[-1] <= 45e6),
        ),
        Figure("agent RSS, highest sample", max(rss) / MIB, "MiB"),
        Figure("agent USS (private memory) at the end", uss / MIB, "MiB"),
        Figure(
            "agent CPU per hour (steady, extrapolated)",
            cpu_per_hour,
            "s/h",
            "< 10 s/h",
            verdict(cpu_per_hour < 10),
        ),
        Figure("agent CPU during the first minute (start-up)", startup_cpu, "s"),
        Figure("device online at the end", 1.0 if samples and samples["online"] else 0.0, "bool"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    emit(
        f"Agent footprint at default intervals ({args.minutes:g} min run)",
        measure(args.minutes),
        args.json,
    )


if __name__ == "__main__":
    main()
