"""What collecting costs on this machine: a full inventory, a health sample, and
node_exporter's scrape of the same machine for comparison; bytes of a full inventory and of an
unchanged one.

- Full inventory, as the agent pays it: the worker process (``python -m
  agent.inventory_worker``) from start to exit, CPU of the child as the kernel counts it, and
  wall time, with Parc's modules compiled to bytecode as an install leaves them. Also the
  collection alone, in one process (first call, then warm calls).
- Health sample: CPU of one sample in this process (slow signals — pending updates, SMART —
  refreshed inline once first, then served from their hourly cache, as in the agent).
- node_exporter (Debian's prometheus-node-exporter, installed by this script when absent and
  running as root): CPU its process spends per scrape of /metrics, measured on its own pid.
- Bytes: the serialized InventoryReport with every section, then the same inventory again
  when nothing changed (sections as hashes alone).

    python -m bench.inventory_cost [--runs 10] [--samples 200] [--scrapes 100] [--json FILE]
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from agent.collectors.base import GuardedCollector
from agent.collectors.health import SlowSchedule
from agent.collectors.system import PsutilProbe
from agent.inventory import MachineInventory
from agent.inventory_worker import InventoryWorker
from agent.platform import current_platform
from agent.platform.machine import health_collector, machine_collectors
from agent.sections import SectionMemory
from bench.report import Figure, emit, verdict
from tests.e2e.processes import free_port, wait_for

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compile_bytecode() -> None:
    """Compile Parc's own modules as an install does (pip compiles a wheel's modules): this
    checkout is an editable install, and without bytecode every worker process would compile
    its modules from source again (PYTHONDONTWRITEBYTECODE may be set, as on this machine)."""
    root = Path(__file__).resolve().parent.parent
    for package in (root / "agent", root / "proto" / "parc"):
        compileall.compile_dir(package, quiet=1)


def worker_inventory(runs: int) -> tuple[list[float], list[float]]:
    """CPU seconds and wall seconds of each worker process run."""
    compile_bytecode()
    worker = InventoryWorker()
    cpu: list[float] = []
    wall: list[float] = []
    for n in range(runs):
        before, started = _children_cpu(), time.perf_counter()
        assert worker.collect(f"bench-{n}") is not None, "the inventory worker failed"
        wall.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - before)
    return cpu, wall


def in_process_inventory(runs: int) -> tuple[float, list[float], int, int]:
    """First-call CPU, warm-call CPUs, and bytes full / unchanged."""
    inventory = MachineInventory.of(machine_collectors(current_platform(), PsutilProbe()))
    before = time.process_time()
    report = inventory.collect("first")
    first = time.process_time() - before
    assert report is not None
    warm: list[float] = []
    for n in range(runs):
        before = time.process_time()
        inventory.collect(f"warm-{n}")
        warm.append(time.process_time() - before)
    memory = SectionMemory(None)
    full = memory.prepare(report).ByteSize()
    again = inventory.collect("again")
    assert again is not None
    unchanged = memory.prepare(again).ByteSize()
    return first, warm, full, unchanged


def health_samples(samples: int) -> list[float]:
    collector = GuardedCollector(
        health_collector(current_platform(), PsutilProbe(), schedule=SlowSchedule(background=False))
    )
    collector.run()  # the first sample refreshes the slow signals inline (apt, smartctl)
    cpu: list[float] = []
    for _ in range(samples):
        before = time.process_time()
        assert collector.run() is not None
        cpu.append(time.process_time() - before)
    return cpu


def node_exporter_scrapes(scrapes: int) -> float | None:
    """Mean CPU seconds node_exporter spends per scrape, or None when it cannot be had here."""
    if not Path(NODE_EXPORTER).exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            [
                "apt-get",
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "prometheus-node-exporter",
            ],
            check=False,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    if not Path(NODE_EXPORTER).exists():
        return None
    port = free_port()
    proc = subprocess.Popen(
        [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/metrics"

    def scrape() -> bytes:
        with urllib.request.urlopen(url, timeout=10) as response:
            body: bytes = response.read()
            return body

    try:
        wait_for(lambda: _reachable(scrape), 30, "node_exporter to listen")
        scrape()  # warm
        exporter = psutil.Process(proc.pid)
        # The kernel counts CPU in 10 ms ticks: read it across all scrapes, not per scrape.
        before = sum(exporter.cpu_times()[:2])
        for _ in range(scrapes):
            scrape()
        return (sum(exporter.cpu_times()[:2]) - before) / scrapes
    finally:
        proc.terminate()
        proc.wait()


def _reachable(scrape: object) -> bool:
    try:
        scrape()  # type: ignore[operator]
    except OSError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--scrapes", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    worker_cpu, worker_wall = worker_inventory(args.runs)
    first, warm, full_bytes, unchanged_bytes = in_process_inventory(args.runs)
    health = health_samples(args.samples)
    exporter = node_exporter_scrapes(args.scrapes)

    ms = 1000.0
    worker_cpu_ms = statistics.median(worker_cpu) * ms
    health_ms = statistics.median(health) * ms
    figures = [
        Figure(
            "full inventory, worker process: CPU (median)",
            worker_cpu_ms,
            "ms",
            "< 300 ms",
            verdict(worker_cpu_ms < 300),
        ),
        Figure(
            "full inventory, worker process: wall time (median)",
            statistics.median(worker_wall) * ms,
            "ms",
        ),
        Figure("full inventory, collection alone: CPU, first in a process", first * ms, "ms"),
        Figure(
            "full inventory, collection alone: CPU, warm (median)",
            statistics.median(warm) * ms,
            "ms",
        ),
        Figure("health sample: CPU (median)", health_ms, "ms", "< 15 ms", verdict(health_ms < 15)),
        Figure(
            "health sample: CPU (95th percentile)",
            sorted(health)[int(len(health) * 0.95)] * ms,
            "ms",
        ),
        Figure("full inventory: bytes", full_bytes, "bytes"),
        Figure(
            "unchanged inventory (hashes alone): bytes",
            unchanged_bytes,
            "bytes",
            "< 200 bytes",
            verdict(unchanged_bytes < 200),
        ),
    ]
    if exporter is not None:
        exporter_ms = exporter * ms
        figures += [
            Figure("node_exporter: CPU per scrape (mean)", exporter_ms, "ms"),
            Figure(
                "health sample CPU / node_exporter scrape CPU",
                health_ms / exporter_ms,
                "ratio",
                "<= 1",
                verdict(health_ms <= exporter_ms),
            ),
        ]
    emit(
        f"Collection cost on this machine ({args.runs} inventories, {args.samples} health "
        f"samples, {args.scrapes} node_exporter scrapes; Python {sys.version.split()[0]})",
        figures,
        args.json,
    )


if __name__ == "__main__":
    main()
