"""The agent's gRPC side against the collector double: delivery, stream, reconnect, renewal."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.app import Tuning, build_agent, channel_factory_for
from agent.backoff import Backoff
from agent.channel import ChannelHolder
from agent.collectors.base import GuardedCollector
from agent.collectors.health import HealthCollector
from agent.collectors.inventory import CpuModel, InventoryCollector
from agent.collectors.licences import LicenceCollector
from agent.collectors.software import DpkgReader, SoftwareCollector
from agent.commands import CommandHandler
from agent.config import AgentConfig
from agent.delivery import ReportSender
from agent.identity import certificate_info, load_identity
from agent.inventory import MachineInventory
from agent.renewal import CertificateRenewer
from agent.reporting import Reporting
from agent.sections import SectionMemory
from agent.spool import Spool
from agent.state import StatePaths
from agent.status import StatusRecorder, read_status
from agent.stream import ConnectStream
from parc.v1 import agent_service_pb2 as pb
from tests.agent.collector_double import CollectorState, RunningCollector, start_collector
from tests.agent.support import RecordedProbe, fixture_platform

SOFTWARE_ROOT = Path(__file__).parent / "fixtures" / "software" / "debian"
FAST = Tuning(backoff_base=0.05, backoff_cap=0.5, stable_after=3600.0, flush_interval=1.0)


@dataclass
class Parts:
    paths: StatePaths
    channels: ChannelHolder
    spool: Spool
    sender: ReportSender
    reporting: Reporting
    status: StatusRecorder


def fixture_cpu() -> CpuModel:
    return CpuModel(lambda: "", reader=lambda: "Test CPU")


@pytest.fixture
async def parts(enrolled: StatePaths) -> AsyncIterator[Parts]:
    identity = load_identity(enrolled)
    channels = ChannelHolder(channel_factory_for(identity.record.server)(identity))
    spool = Spool(enrolled.spool)
    status = StatusRecorder(enrolled.status)
    sender = ReportSender(
        spool,
        channels,
        status,
        on_full_inventory_requested=lambda: reporting.full_inventory_requested(),
    )
    platform = fixture_platform("desktop")
    probe = RecordedProbe()
    reporting = Reporting(
        sender,
        GuardedCollector(HealthCollector(platform, probe)),
        MachineInventory(
            GuardedCollector(InventoryCollector(platform, probe, cpu_model=fixture_cpu())),
            GuardedCollector(SoftwareCollector([DpkgReader(SOFTWARE_ROOT)])),
            GuardedCollector(LicenceCollector()),
        ),
        SectionMemory(enrolled.inventory_sections),
    )
    yield Parts(enrolled, channels, spool, sender, reporting, status)
    await sender.wait_idle()
    await channels.close()
    spool.close()


async def test_flush_delivers_in_order_and_deletes_acknowledged(
    parts: Parts, collector_state: CollectorState
) -> None:
    ids = [f"h-{n:03d}" for n in range(250)]
    for report_id in ids:
        report = pb.HealthReport(report_id=report_id, cpu_percent=1.0)
        parts.sender.spool("health", report_id, report.SerializeToString())
    parts.sender.spool(
        "inventory", "inv-1", pb.InventoryReport(report_id="inv-1").SerializeToString()
    )
    delivered = await parts.sender.flush()
    assert delivered == 251
    assert collector_state.health_ids == ids
    assert collector_state.inventory_ids == ["inv-1"]
    assert len(parts.spool) == 0
    assert read_status(parts.paths.status)["last_contact"] is not None


async def test_unacknowledged_reports_stay_spooled(
    parts: Parts, collector: RunningCollector, collector_state: CollectorState
) -> None:
    await collector.stop()
    assert await parts.reporting.sample_health()
    await parts.sender.wait_idle()
    assert parts.spool.depth()["health"] == 1
    assert "UNAVAILABLE" in read_status(parts.paths.status)["last_error"]


async def test_reporting_spools_then_sends(parts: Parts, collector_state: CollectorState) -> None:
    assert await parts.reporting.sample_health()
    assert await parts.reporting.collect_inventory()
    await collector_state.wait_for(
        lambda: collector_state.health_ids and collector_state.inventory_ids
    )
    inventory = collector_state.inventories[0]
    assert inventory.hardware.vendor == "Dell Inc."
    assert inventory.hardware.cpu_model == "Test CPU"
    await parts.sender.wait_idle()
    assert len(parts.spool) == 0


def make_stream(parts: Parts, send_inventory: CommandHandler | None = None) -> ConnectStream:
    handler = send_inventory or CommandHandler(send_inventory=parts.reporting.send_inventory_now)
    return ConnectStream(
        parts.channels,
        handler,
        backoff=Backoff(base=0.05, cap=0.5),
        status=parts.status,
        on_connected=parts.sender.request_flush,
        stable_after=3600.0,
    )


async def test_stream_heartbeats_and_commands(
    parts: Parts, collector_state: CollectorState
) -> None:
    collector_state.commands = [
        pb.Command(command_id="c-1", kind=pb.COMMAND_KIND_SEND_INVENTORY),
        pb.Command(command_id="c-2", kind=pb.COMMAND_KIND_UNSPECIFIED),
        pb.Command(command_id="c-3", kind=77),  # type: ignore[arg-type]
    ]
    stream = make_stream(parts)
    task = asyncio.create_task(stream.run())
    try:
        await collector_state.wait_for(lambda: len(collector_state.acks) == 3)
        await collector_state.wait_for(lambda: stream.connected)
        assert await stream.send_heartbeat()
        assert await stream.send_heartbeat()
        await collector_state.wait_for(lambda: len(collector_state.heartbeats) >= 3)
    finally:
        await stream.stop()
        await task
    acks = {a.command_id: a for a in collector_state.acks}
    assert acks["c-1"].status == pb.COMMAND_STATUS_SUCCEEDED
    # The inventory was delivered before the command was acknowledged.
    assert len(collector_state.inventory_ids) == 1
    assert acks["c-2"].status == pb.COMMAND_STATUS_REJECTED and acks["c-2"].detail
    assert acks["c-3"].status == pb.COMMAND_STATUS_REJECTED and "77" in acks["c-3"].detail
    assert collector_state.heartbeats[:3] == [1, 2, 3]
    assert read_status(parts.paths.status)["last_contact"] is not None


async def test_reconnect_delivers_every_sample_once_in_order(
    parts: Parts, collector: RunningCollector, collector_state: CollectorState
) -> None:
    stream = make_stream(parts)
    task = asyncio.create_task(stream.run())
    back: RunningCollector | None = None
    try:
        await collector_state.wait_for(lambda: stream.connections == 1)
        for _ in range(3):
            assert await parts.reporting.sample_health()
        await collector_state.wait_for(lambda: len(collector_state.health_ids) == 3)

        await collector.stop()  # the collector goes away; sampling goes on into the spool
        await collector_state.wait_for(lambda: not stream.connected)
        for _ in range(5):
            assert await parts.reporting.sample_health()
        await parts.sender.wait_idle()
        assert parts.spool.depth()["health"] == 5

        # ... and comes back on the same ports: the stream reconnects and the spool drains.
        back = await start_collector(collector_state, collector.agent_port, collector.enroll_port)
        await collector_state.wait_for(lambda: stream.connections == 2)
        await collector_state.wait_for(lambda: len(collector_state.health_ids) == 8)
    finally:
        await stream.stop()
        await task
        if back is not None:
            await back.stop()
    await parts.sender.wait_idle()
    assert collector_state.health_received == collector_state.health_ids  # each once, in order
    assert len(parts.spool) == 0


async def test_renewal_replaces_the_certificate_and_rebuilds_the_channel(
    parts: Parts, collector_state: CollectorState
) -> None:
    old = certificate_info(parts.paths.device_cert.read_bytes())
    later = old.not_before + (old.not_after - old.not_before) * 0.7
    renewer = CertificateRenewer(
        parts.paths,
        parts.channels,
        channel_factory_for(load_identity(parts.paths).record.server),
        uniform=lambda low, high: (low + high) / 2,
        now=lambda: later,
    )
    assert renewer.due == old.not_before + (old.not_after - old.not_before) * 0.5
    generation = parts.channels.generation
    assert await renewer.check()
    new = certificate_info(parts.paths.device_cert.read_bytes())
    assert new.serial_hex != old.serial_hex
    assert parts.channels.generation == generation + 1
    # The rebuilt channel works with the renewed certificate.
    report = pb.HealthReport(report_id="after-renewal")
    parts.sender.spool("health", "after-renewal", report.SerializeToString())
    assert await parts.sender.flush() == 1
    assert collector_state.health_ids == ["after-renewal"]


async def test_refused_renewal_keeps_the_old_certificate_and_backs_off(
    parts: Parts, collector_state: CollectorState
) -> None:
    collector_state.refuse_renewal = True
    old_pem = parts.paths.device_cert.read_bytes()
    old = certificate_info(old_pem)
    clock = [old.not_before + (old.not_after - old.not_before) * 0.7]
    renewer = CertificateRenewer(
        parts.paths,
        parts.channels,
        channel_factory_for(load_identity(parts.paths).record.server),
        uniform=lambda low, high: high,
        now=lambda: clock[0],
    )
    assert not await renewer.check()
    assert parts.paths.device_cert.read_bytes() == old_pem
    assert not await renewer.check()  # still inside the backoff: no second attempt yet
    collector_state.refuse_renewal = False
    clock[0] += dt.timedelta(hours=2)
    assert await renewer.check()
    assert collector_state.renewals == 1


async def test_whole_agent_runs_and_stops(
    enrolled: StatePaths, collector_state: CollectorState
) -> None:
    collector_state.commands = [pb.Command(command_id="c-9", kind=pb.COMMAND_KIND_SEND_INVENTORY)]
    config = AgentConfig(heartbeat_interval=1.0, health_interval=1.0)
    agent = build_agent(
        config,
        enrolled,
        platform=fixture_platform("desktop"),
        probe=RecordedProbe(),
        cpu_model=fixture_cpu(),
        tuning=FAST,
        in_process_inventory=True,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        await collector_state.wait_for(
            lambda: (
                collector_state.acks
                and len(collector_state.inventory_ids) >= 2  # at start, and for the command
                and len(collector_state.health_ids) >= 2
                and len(collector_state.heartbeats) >= 2
            )
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)
    assert collector_state.acks[0].status == pb.COMMAND_STATUS_SUCCEEDED
    status = read_status(enrolled.status)
    assert status["last_contact"] is not None and status["connected"] is False


def test_status_recorder_keeps_the_last_contact_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    StatusRecorder(path, clock=lambda: 0.0).contact()
    StatusRecorder(path, clock=lambda: 100.0).error("boom")
    status = read_status(path)
    assert status["last_contact"] == "1970-01-01T00:00:00+00:00"
    assert status["last_error"] == "boom"


async def test_unchanged_sections_go_as_hashes_until_the_collector_asks_for_everything(
    parts: Parts, collector_state: CollectorState
) -> None:
    assert await parts.reporting.collect_inventory()
    await parts.sender.wait_idle()
    first = collector_state.inventories[-1]
    assert first.HasField("hardware") and first.HasField("software")
    assert len(first.software.packages) > 0 and len(first.software_sha256) == 32

    assert await parts.reporting.collect_inventory()
    await parts.sender.wait_idle()
    second = collector_state.inventories[-1]
    assert not second.HasField("hardware") and not second.HasField("software")
    assert second.software_sha256 == first.software_sha256
    assert second.ByteSize() < 200

    collector_state.request_full_inventory = True
    assert await parts.reporting.collect_inventory()
    await parts.sender.wait_idle()  # the hash-only report: the collector asks for everything

    await collector_state.wait_for(lambda: len(collector_state.inventories) == 4)
    resent = collector_state.inventories[-1]
    assert resent.HasField("hardware") and resent.HasField("software")
    assert resent.software_sha256 == first.software_sha256
