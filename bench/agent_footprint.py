"""The agent's footprint at default intervals: resident memory and CPU seconds per hour.

Starts a real collector and a real enrolled agent (default intervals: heartbeat 30 s, health
60 s, inventory at start and every 6 h), lets the agent run, samples its RSS every 5 s, and
reads its CPU time. CPU per hour is extrapolated from the steady part of the run (after the
first minute, which holds start-up and the first inventory); start-up CPU is shown apart.

    python -m bench.agent_footprint [--minutes 10] [--json FILE]

RSS is also read at 10 minutes when the run is longer (issue 2's figure), and the CPU of the
inventory worker processes the agent starts is counted with the agent's (children's CPU).
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


def _cpu(proc: psutil.Process) -> float:
    """The agent's CPU seconds, with those of its finished children (inventory workers)."""
    times = proc.cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


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
                rss_at_10_min: int | None = None
                end = started + minutes * 60
                while time.monotonic() < end:
                    rss.append(proc.memory_info().rss)
                    if rss_at_10_min is None and time.monotonic() - started >= 600:
                        rss_at_10_min = rss[-1]
                    time.sleep(5)
                rss.append(proc.memory_info().rss)
                steady_s = time.monotonic() - steady_from
                cpu_per_hour = (_cpu(proc) - cpu_start) / steady_s * 3600
                uss = proc.memory_full_info().uss
                samples = collector.device(agent.device_id)
        finally:
            collector.stop()
    figures = []
    if rss_at_10_min is not None and minutes > 10:
        figures.append(
            Figure(
                "agent RSS after 10 min",
                rss_at_10_min / 1e6,
                "MB",
                "<= 45 MB",
                verdict(rss_at_10_min <= 45e6),
            )
        )
    return [
        *figures,
        Figure(
            f"agent RSS after {minutes:g} min",
            rss[-1] / 1e6,
            "MB",
            "<= 45 MB",
            verdict(rss[-1] <= 45e6),
        ),
        Figure("agent RSS, highest sample", max(rss) / 1e6, "MB"),
        Figure("agent USS (private memory) at the end", uss / 1e6, "MB"),
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
