"""Heartbeats per second through the real collector, beside a bare grpc.aio echo server.

Both servers run as separate processes with the same mutual-TLS setup; one client process
drives N concurrent Connect streams, each sending a heartbeat and waiting for its ack, for a
fixed time. Rounds alternate (echo, collector, echo, collector, ...) so that both see the same
machine load; the table gives medians.

    python bench/heartbeat_throughput.py [--streams 50] [--seconds 10] [--rounds 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.fleet import DeviceCredentials, enroll, heartbeat, mtls_channel
from bench.report import Figure, emit, verdict
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc
from tests.e2e.processes import Collector, free_port, init_collector, start_collector, wait_for


@dataclass(frozen=True)
class Round:
    target: str
    heartbeats_per_s: float
    seconds: float
    p50_ms: float
    p99_ms: float
    server_cpu_s: float

    @property
    def heartbeats_per_cpu_s(self) -> float:
        return self.heartbeats_per_s * self.seconds / self.server_cpu_s


async def _stream(
    address: str, device: DeviceCredentials, until: float, latencies: list[float]
) -> int:
    queue: asyncio.Queue[pb.ConnectRequest | None] = asyncio.Queue(maxsize=1)

    async def requests() -> AsyncIterator[pb.ConnectRequest]:
        while (item := await queue.get()) is not None:
            yield item

    acks = 0
    async with mtls_channel(address, device) as channel:
        call = pb_grpc.AgentServiceStub(channel).Connect(requests())
        sequence = 0
        while time.monotonic() < until:
            sequence += 1
            started = time.perf_counter()
            await queue.put(heartbeat(sequence))
            reply = await call.read()
            if not isinstance(reply, pb.ConnectResponse):
                raise RuntimeError(f"stream ended: {await call.code()}")
            latencies.append(time.perf_counter() - started)
            acks += 1
        await queue.put(None)
        call.cancel()
    return acks


async def _round(
    target: str, address: str, pid: int, devices: list[DeviceCredentials], seconds: float
) -> Round:
    proc = psutil.Process(pid)
    cpu_before = sum(proc.cpu_times()[:2])
    latencies: list[float] = []
    started = time.monotonic()
    counts = await asyncio.gather(
        *(_stream(address, d, started + seconds, latencies) for d in devices)
    )
    elapsed = time.monotonic() - started
    cpu = sum(proc.cpu_times()[:2]) - cpu_before
    latencies.sort()
    return Round(
        target,
        sum(counts) / elapsed,
        elapsed,
        latencies[len(latencies) // 2] * 1000,
        latencies[int(len(latencies) * 0.99)] * 1000,
        cpu,
    )


async def _measure(
    collector: Collector,
    echo_address: str,
    echo_pid: int,
    streams: int,
    seconds: float,
    rounds: int,
) -> list[Round]:
    token = collector.create_token("Bench", "Bench", uses=streams)
    ca_pem = collector.ca_cert.read_bytes()
    devices = [await enroll(collector.enroll_address, ca_pem, token) for _ in range(streams)]
    results = []
    for _ in range(rounds):
        results.append(await _round("echo", echo_address, echo_pid, devices, seconds))
        results.append(
            await _round("collector", collector.agent_address, collector.proc.pid, devices, seconds)
        )
    return results


def _run(streams: int, seconds: float, rounds: int) -> list[Round]:
    with tempfile.TemporaryDirectory(prefix="parc-bench-") as tmp:
        data_dir = Path(tmp) / "collector"
        init_collector(data_dir)
        collector = start_collector(data_dir, free_port(), free_port())
        port_file = Path(tmp) / "echo.port"
        echo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.echo_server",
                "--pki-dir",
                str(data_dir / "pki"),
                "--port-file",
                str(port_file),
            ]
        )
        try:
            echo_port = wait_for(
                lambda: port_file.exists() and port_file.read_text(), 30, "the echo server"
            )
            return asyncio.run(
                _measure(collector, f"127.0.0.1:{echo_port}", echo.pid, streams, seconds, rounds)
            )
        finally:
            echo.terminate()
            echo.wait()
            collector.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = _run(args.streams, args.seconds, args.rounds)

    def median(target: str, attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in results if r.target == target))

    echo_rate = median("echo", "heartbeats_per_s")
    parc_rate = median("collector", "heartbeats_per_s")
    ratio = 100 * parc_rate / echo_rate
    # Heartbeats per second of server CPU: robust when the client, not the server, saturates.
    echo_eff = median("echo", "heartbeats_per_cpu_s")
    parc_eff = median("collector", "heartbeats_per_cpu_s")
    figures = [
        Figure("bare grpc.aio echo: heartbeats/s (median)", echo_rate, "1/s"),
        Figure("collector: heartbeats/s (median)", parc_rate, "1/s"),
        Figure("collector / echo", ratio, "%", ">= 50 %", verdict(ratio >= 50)),
        Figure("echo: heartbeats per server CPU-second", echo_eff, "1/s"),
        Figure("collector: heartbeats per server CPU-second", parc_eff, "1/s"),
        Figure("collector / echo, per CPU-second", 100 * parc_eff / echo_eff, "%"),
        Figure("echo: ack latency p50", median("echo", "p50_ms"), "ms"),
        Figure("collector: ack latency p50", median("collector", "p50_ms"), "ms"),
        Figure("echo: ack latency p99", median("echo", "p99_ms"), "ms"),
        Figure("collector: ack latency p99", median("collector", "p99_ms"), "ms"),
        Figure("echo: server CPU per round", median("echo", "server_cpu_s"), "s"),
        Figure("collector: server CPU per round", median("collector", "server_cpu_s"), "s"),
    ]
    emit(
        f"Heartbeat throughput over mTLS: {args.streams} streams, {args.rounds} rounds of "
        f"{args.seconds:.0f} s each, alternating",
        figures,
        args.json,
    )


if __name__ == "__main__":
    main()
