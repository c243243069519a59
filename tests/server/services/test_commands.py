"""Durable commands: queued, delivered, acknowledged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.services.errors import FailedPrecondition, InvalidArgument, NotFound
from server.store.models import CommandRow
from tests.server.services.support import Collector


async def test_queue_and_deliver(collector: Collector) -> None:
    _, identity = await collector.enroll()
    _, other = await collector.enroll()
    first = await collector.commands.queue(identity.device_id, "send_inventory")
    collector.clock.advance(timedelta(seconds=1))
    second = await collector.commands.queue(identity.device_id, "send_inventory", b"\x01\x02")
    collector.clock.advance(timedelta(seconds=1))
    elsewhere = await collector.commands.queue(other.device_id, "send_inventory")
    assert first.command_id != second.command_id
    assert (first.kind, first.payload, first.created_at) == (
        "send_inventory",
        b"",
        collector.clock.now - timedelta(seconds=2),
    )

    assert await collector.commands.undelivered([identity.device_id]) == [first, second]
    assert await collector.commands.undelivered([identity.device_id, other.device_id]) == [
        first,
        second,
        elsewhere,
    ]
    assert await collector.commands.undelivered([]) == []

    await collector.commands.mark_delivered([first.command_id])
    assert await collector.commands.undelivered([identity.device_id]) == [second]


async def test_queue_for_unknown_device(collector: Collector) -> None:
    with pytest.raises(NotFound):
        await collector.commands.queue("00000000-0000-4000-8000-000000000000", "send_inventory")
    assert await collector.count(CommandRow) == 0


async def test_queue_for_revoked_device(collector: Collector) -> None:
    _, identity = await collector.enroll()
    await collector.devices.revoke(identity.device_id)
    with pytest.raises(FailedPrecondition):
        await collector.commands.queue(identity.device_id, "send_inventory")
    assert await collector.count(CommandRow) == 0


@pytest.mark.parametrize("kind", ["", "reboot", "SEND_INVENTORY"])
async def test_unknown_command_kind(collector: Collector, kind: str) -> None:
    _, identity = await collector.enroll()
    with pytest.raises(InvalidArgument, match="send_inventory"):
        await collector.commands.queue(identity.device_id, kind)
    assert await collector.count(CommandRow) == 0


async def stored_command(collector: Collector, command_id: str) -> CommandRow:
    async with collector.sessions() as session:
        row = await session.scalar(select(CommandRow).where(CommandRow.id == command_id))
    assert row is not None
    return row


async def test_acknowledge_records_the_outcome(collector: Collector) -> None:
    _, identity = await collector.enroll()
    command = await collector.commands.queue(identity.device_id, "send_inventory")
    await collector.commands.mark_delivered([command.command_id])
    delivered_at = collector.clock.now
    collector.clock.advance(timedelta(seconds=2))
    await collector.commands.acknowledge(identity, command.command_id, "failed", "disk full")
    row = await stored_command(collector, command.command_id)
    assert (row.status, row.detail) == ("failed", "disk full")
    assert row.delivered_at == delivered_at
    assert row.acked_at == collector.clock.now

    # A repeated acknowledgement changes nothing.
    collector.clock.advance(timedelta(seconds=2))
    await collector.commands.acknowledge(identity, command.command_id, "succeeded", "")
    row = await stored_command(collector, command.command_id)
    assert (row.status, row.detail) == ("failed", "disk full")


async def test_acknowledge_only_your_own_commands(collector: Collector) -> None:
    _, identity = await collector.enroll()
    _, intruder = await collector.enroll()
    command = await collector.commands.queue(identity.device_id, "send_inventory")
    with pytest.raises(NotFound):
        await collector.commands.acknowledge(intruder, command.command_id, "succeeded", "")
    with pytest.raises(NotFound):
        await collector.commands.acknowledge(identity, "no-such-command", "succeeded", "")
    row = await stored_command(collector, command.command_id)
    assert row.acked_at is None
    assert row.status == "queued"


@pytest.mark.parametrize("status", ["", "done", "SUCCEEDED", "queued"])
async def test_acknowledge_with_unknown_status(collector: Collector, status: str) -> None:
    _, identity = await collector.enroll()
    command = await collector.commands.queue(identity.device_id, "send_inventory")
    with pytest.raises(InvalidArgument):
        await collector.commands.acknowledge(identity, command.command_id, status, "")
    assert (await stored_command(collector, command.command_id)).acked_at is None
