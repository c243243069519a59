"""Durable commands: queued, delivered, acknowledged."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.services.commands import CommandService
from server.services.errors import FailedPrecondition, InvalidArgument, NotFound
from server.services.records import Actor, PendingCommand
from server.store.batch import BatchWriter
from server.store.models import AuditEventRow, CommandRow
from tests.server.services.support import Collector

ALICE = Actor("user", 7, "alice")


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


# --- fan-out: set-based queueing, coalesced delivery marks and answers ------------------------


async def test_queue_many_stores_one_command_per_device_and_tells_the_listener(
    collector: Collector,
) -> None:
    devices = [(await collector.enroll())[1].device_id for _ in range(3)]
    heard: list[Sequence[PendingCommand]] = []
    commands = CommandService(collector.sessions, collector.clock, on_queued=heard.append)

    queued = await commands.queue_many([*devices, devices[0]], "send_inventory", b"\x07")

    assert [c.device_id for c in queued] == devices  # in order, the repeat dropped
    assert len({c.command_id for c in queued}) == 3
    assert heard == [queued]
    assert sorted(await collector.commands.undelivered(devices), key=devices_order(devices)) == (
        queued
    )
    assert await commands.queue_many([], "send_inventory") == []


def devices_order(devices: list[str]) -> Callable[[PendingCommand], int]:
    return lambda command: devices.index(command.device_id)


async def test_queue_many_is_all_or_nothing(collector: Collector) -> None:
    _, kept = await collector.enroll()
    _, revoked = await collector.enroll()
    await collector.devices.revoke(revoked.device_id)
    heard: list[Sequence[PendingCommand]] = []
    commands = CommandService(collector.sessions, collector.clock, on_queued=heard.append)
    with pytest.raises(FailedPrecondition):
        await commands.queue_many([kept.device_id, revoked.device_id], "send_inventory")
    with pytest.raises(NotFound):
        await commands.queue_many(
            [kept.device_id, "00000000-0000-4000-8000-000000000000"], "send_inventory"
        )
    assert await collector.count(CommandRow) == 0
    assert heard == []


async def test_queue_many_audits_each_device_with_an_actor(collector: Collector) -> None:
    devices = [(await collector.enroll())[1].device_id for _ in range(2)]
    queued = await collector.commands.queue_many(devices, "send_inventory", actor=ALICE)
    async with collector.sessions() as session:
        rows = (
            await session.scalars(
                select(AuditEventRow).where(AuditEventRow.action == "device.command")
            )
        ).all()
    assert sorted((r.action, r.target_id, r.details["command_id"]) for r in rows) == sorted(
        ("device.command", c.device_id, c.command_id) for c in queued
    )


async def test_concurrent_marks_and_answers_are_written_together(collector: Collector) -> None:
    identities = [(await collector.enroll())[1] for _ in range(20)]
    writer = BatchWriter(collector.sessions)
    writer.start()
    commands = CommandService(collector.sessions, collector.clock, writer)
    try:
        queued = await commands.queue_many([i.device_id for i in identities], "send_inventory")
        await asyncio.gather(*(commands.mark_delivered([c.command_id]) for c in queued))
        marks_jobs = writer.jobs
        # One answer is about another device's command: it alone fails.
        answers = [
            commands.acknowledge(identity, command.command_id, "succeeded", f"done {n}")
            for n, (identity, command) in enumerate(zip(identities, queued, strict=True))
        ]
        answers.append(commands.acknowledge(identities[0], queued[1].command_id, "failed", ""))
        outcomes = await asyncio.gather(*answers, return_exceptions=True)
        answer_jobs = writer.jobs - marks_jobs
    finally:
        await writer.stop()

    # Twenty callers each time, far fewer writes: the first flush, then the rest together.
    assert marks_jobs <= 2
    assert answer_jobs <= 2
    assert outcomes[:-1] == [None] * 20
    assert isinstance(outcomes[-1], NotFound)
    async with collector.sessions() as session:
        rows = {r.id: r for r in await session.scalars(select(CommandRow))}
    assert {(rows[c.command_id].status, rows[c.command_id].detail) for c in queued[:2]} == {
        ("succeeded", "done 0"),
        ("succeeded", "done 1"),
    }
    assert all(rows[c.command_id].delivered_at is not None for c in queued)
    assert all(rows[c.command_id].acked_at == collector.clock.now for c in queued)


async def test_an_answer_before_the_delivery_mark_marks_it_delivered(
    collector: Collector,
) -> None:
    _, identity = await collector.enroll()
    command = await collector.commands.queue(identity.device_id, "send_inventory")
    await collector.commands.acknowledge(identity, command.command_id, "rejected", "busy\x00")
    row = await stored_command(collector, command.command_id)
    assert (row.status, row.detail) == ("rejected", "busy")
    assert row.delivered_at == row.acked_at == collector.clock.now
    # A late delivery mark changes nothing.
    collector.clock.advance(timedelta(seconds=1))
    await collector.commands.mark_delivered([command.command_id])
    row = await stored_command(collector, command.command_id)
    assert (row.status, row.delivered_at) == ("rejected", row.acked_at)
