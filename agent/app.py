"""Wires the agent in one place: config → identity → channel → spool → collectors → scheduler.

Everything is built here and passed in through constructors; no module holds mutable state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import grpc
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from agent.address import parse_address
from agent.backoff import RECONNECT_BASE_S, RECONNECT_CAP_S, Backoff
from agent.channel import ChannelFactory, ChannelHolder, mtls_channel
from agent.collectors.base import GuardedCollector
from agent.collectors.inventory import CpuModel
from agent.collectors.system import PsutilProbe, SystemProbe
from agent.commands import CommandHandler
from agent.config import AgentConfig
from agent.delivery import ReportSender
from agent.identity import Identity, IdentityError, load_identity
from agent.inventory_worker import InventoryWorker
from agent.platform import Platform, current_platform
from agent.platform.machine import health_collector
from agent.renewal import CertificateRenewer
from agent.reporting import InventorySource, Reporting
from agent.sections import SectionMemory
from agent.spool import Spool
from agent.state import StatePaths
from agent.status import StatusRecorder
from agent.stream import REFUSED_RETRY_S, ConnectStream

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 60.0


def jitter_for(interval: float) -> float:
    """Up to a tenth of the interval (at least a second), so a fleet does not act in lockstep."""
    return max(1.0, interval / 10)


@dataclass(frozen=True, slots=True)
class Tuning:
    """Timings a test may shorten; the defaults are the production ones."""

    # The stream's reconnect backoff: the constants the fleet benchmarks measure (see
    # agent/backoff.py for why 5 s and 60 s).
    backoff_base: float = RECONNECT_BASE_S
    backoff_cap: float = RECONNECT_CAP_S
    refused_retry: float = REFUSED_RETRY_S
    stable_after: float = 60.0
    flush_interval: float = FLUSH_INTERVAL_S


def channel_factory_for(server: str) -> Callable[[Identity], ChannelFactory]:
    """How to build the mTLS channel to ``server`` from an identity."""
    address = parse_address(server)

    def factory_for(identity: Identity) -> ChannelFactory:
        def build() -> grpc.aio.Channel:
            return mtls_channel(
                address,
                ca_pem=identity.ca_pem,
                key_pem=identity.key_pem,
                cert_pem=identity.cert_pem,
            )

        return build

    return factory_for


class Agent:
    """The running agent: its jobs on one event loop, and their orderly shutdown."""

    def __init__(
        self,
        *,
        config: AgentConfig,
        channels: ChannelHolder,
        spool: Spool,
        sender: ReportSender,
        reporting: Reporting,
        stream: ConnectStream,
        renewer: CertificateRenewer,
        status: StatusRecorder,
        tuning: Tuning,
    ) -> None:
        self.config = config
        self.channels = channels
        self.spool = spool
        self.sender = sender
        self.reporting = reporting
        self.stream = stream
        self.renewer = renewer
        self.status = status
        self.tuning = tuning
        self._scheduler: AsyncIOScheduler | None = None

    def _schedule(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        c = self.config

        def every(seconds: float) -> IntervalTrigger:
            return IntervalTrigger(seconds=seconds, jitter=jitter_for(seconds), timezone=UTC)

        scheduler.add_job(self.stream.send_heartbeat, every(c.heartbeat_interval), id="heartbeat")
        scheduler.add_job(self.reporting.sample_health, every(c.health_interval), id="health")
        scheduler.add_job(
            self.reporting.collect_inventory,
            every(c.inventory_interval),
            id="inventory",
            next_run_time=datetime.now(UTC),
        )
        scheduler.add_job(
            self.reporting.flush_if_pending, every(self.tuning.flush_interval), id="flush"
        )
        scheduler.add_job(
            self.renewer.check,
            every(self.renewer.check_interval()),
            id="renewal",
            next_run_time=datetime.now(UTC),
        )
        return scheduler

    async def run(self, stop: asyncio.Event) -> None:
        """Runs until ``stop`` is set, then shuts down cleanly."""
        self._scheduler = self._schedule()
        self._scheduler.start()
        stream_task = asyncio.get_running_loop().create_task(self.stream.run())
        log.info("agent running (collector %s)", self.config.server)
        try:
            await stop.wait()
        finally:
            log.info("stopping")
            self._scheduler.shutdown(wait=False)
            await self.stream.stop()
            await asyncio.gather(stream_task, return_exceptions=True)
            await self.sender.wait_idle()
            await self.channels.close()
            self.spool.close()
            self.status.stopped()
            log.info("stopped")


def build_agent(
    config: AgentConfig,
    paths: StatePaths,
    *,
    platform: Platform | None = None,
    probe: SystemProbe | None = None,
    cpu_model: CpuModel | None = None,
    tuning: Tuning | None = None,
    in_process_inventory: bool = False,
) -> Agent:
    """Builds the agent from its settings and state directory (the device must be enrolled)."""
    tuning = tuning or Tuning()
    identity = load_identity(paths)
    server = config.server or identity.record.server
    if not server:
        raise IdentityError("no collector address: give --server or set server in agent.toml")
    config = _with_server(config, server)
    factory_for = channel_factory_for(server)
    channels = ChannelHolder(factory_for(identity))
    status = StatusRecorder(paths.status)
    spool = Spool(paths.spool, max_reports=config.spool_max_reports)
    sender = ReportSender(
        spool,
        channels,
        status,
        on_full_inventory_requested=lambda: reporting.full_inventory_requested(),
    )
    platform = platform or current_platform()
    probe = probe or PsutilProbe()
    # The inventory runs in a child process (agent.inventory_worker) unless a test hands in
    # its own platform: the resident agent then never holds the package lists.
    inventory: InventorySource
    if in_process_inventory:
        from agent.inventory import MachineInventory
        from agent.platform.machine import machine_collectors

        inventory = MachineInventory.of(machine_collectors(platform, probe, cpu_model=cpu_model))
    else:
        inventory = InventoryWorker()
    reporting = Reporting(
        sender,
        GuardedCollector(health_collector(platform, probe)),
        inventory,
        SectionMemory(paths.inventory_sections),
    )
    stream = ConnectStream(
        channels,
        CommandHandler(send_inventory=reporting.send_inventory_now),
        backoff=Backoff(base=tuning.backoff_base, cap=tuning.backoff_cap),
        status=status,
        on_connected=sender.request_flush,
        stable_after=tuning.stable_after,
        refused_retry=tuning.refused_retry,
    )
    renewer = CertificateRenewer(paths, channels, factory_for)
    agent = Agent(
        config=config,
        channels=channels,
        spool=spool,
        sender=sender,
        reporting=reporting,
        stream=stream,
        renewer=renewer,
        status=status,
        tuning=tuning,
    )
    return agent


def _with_server(config: AgentConfig, server: str) -> AgentConfig:
    return replace(config, server=server)
