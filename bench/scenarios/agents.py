"""Simulated agents for the scenarios, built from the load generator's (``bench.loadgen``).

``Fleet`` runs N ``SimAgent``s in this process (each enrols with its own key, holds its own
mutual-TLS connection and Connect stream, sends heartbeats and health reports) and lets a
scenario wait for them to be connected, reset the counters at the start of a measured
window, and stop them. Fleet agents send no inventories (the inventory storm measures those)
unless asked to.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from bench.fleet import DeviceCredentials, enroll
from bench.loadgen import CatalogEntry, LoadgenConfig, SimAgent, Stats, build_catalog, percentiles
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc


class QuietAgent(SimAgent):
    """An agent whose inventory the collector already holds: it sends none."""

    async def _inventory_forever(self, stub: pb_grpc.AgentServiceAsyncStub) -> None:
        await asyncio.Event().wait()


class PromptAgent(QuietAgent):
    """Acknowledges a command as soon as it arrives (the work it asks for is measured by the
    other scenarios): what the fan-out times is delivery and acknowledgement."""

    async def _on_command(
        self,
        stub: pb_grpc.AgentServiceAsyncStub,
        call: grpc.aio.StreamStreamCall[pb.ConnectRequest, pb.ConnectResponse],
        command: pb.Command,
    ) -> None:
        await self._acknowledge(call, command)


class Fleet:
    """N simulated agents running in this process's event loop."""

    def __init__(self, config: LoadgenConfig, agent_class: type[SimAgent] = QuietAgent) -> None:
        self.config = config
        self.stats = Stats()
        catalog: Sequence[CatalogEntry] = build_catalog(max(50, config.packages * 2), config.seed)
        self.agents = [agent_class(i, config, catalog, self.stats) for i in range(config.agents)]
        self._tasks: list[asyncio.Task[None]] = []
        self._window_counts: Counter[str] = Counter()
        self._window_errors: Counter[str] = Counter()

    def start(self) -> None:
        ca_pem = self.config.ca_cert.read_bytes()
        slots = asyncio.Semaphore(self.config.enroll_concurrency)
        self._tasks = [asyncio.create_task(a.run(ca_pem, slots)) for a in self.agents]

    @property
    def connected(self) -> int:
        return self.stats.connected_now

    async def wait_connected(self, count: int, within: float) -> float:
        """Wait until ``count`` agents have a stream whose heartbeat was acknowledged; return
        the seconds waited (raises TimeoutError)."""
        started = time.perf_counter()
        async with asyncio.timeout(within):
            while self.stats.connected_now < count:
                failed = [t for t in self._tasks if t.done() and t.exception() is not None]
                if failed:
                    raise RuntimeError("a simulated agent failed") from failed[0].exception()
                await asyncio.sleep(0.1)
        return time.perf_counter() - started

    def begin_window(self) -> None:
        """Forget latencies so far; count from now on."""
        self.stats.latencies.clear()
        self._window_counts = Counter(self.stats.counts)
        self._window_errors = Counter(self.stats.errors)

    def window_counts(self) -> Counter[str]:
        return self.stats.counts - self._window_counts

    def window_errors(self) -> dict[str, int]:
        return dict(self.stats.errors - self._window_errors)

    def latency_ms(self) -> dict[str, dict[str, float]]:
        return {kind: percentiles(s) for kind, s in sorted(self.stats.latencies.items())}

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass(frozen=True)
class Enrolment:
    devices: list[DeviceCredentials]
    seconds: float
    latencies: list[float]
    errors: dict[str, int]


async def enrol_many(
    enroll_address: str, ca_pem: bytes, token: str, count: int, concurrency: int = 50
) -> Enrolment:
    """Enrol ``count`` new devices through the real Enroll RPC, ``concurrency`` at a time."""
    slots = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    devices: list[DeviceCredentials] = []

    async def one() -> None:
        async with slots:
            started = time.perf_counter()
            try:
                device = await enroll(enroll_address, ca_pem, token)
            except grpc.aio.AioRpcError as exc:
                errors[f"enroll {exc.code().name}"] += 1
                return
            latencies.append(time.perf_counter() - started)
            devices.append(device)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return Enrolment(devices, time.perf_counter() - started, latencies, dict(errors))
