"""The registry of open streams: replacing, ending, and closing for shutdown."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc

from parc.v1 import agent_service_pb2 as pb
from server.api.streams import AgentStream, ConnectionRegistry, StreamEnd
from server.services.records import PendingCommand


async def test_close_ends_open_streams_and_any_opened_afterwards() -> None:
    registry = ConnectionRegistry()
    before = registry.open("d1")
    registry.close(grpc.StatusCode.UNAVAILABLE, "shutting down")
    assert before.ended
    ended = await before.next()
    assert isinstance(ended, StreamEnd) and ended.code == grpc.StatusCode.UNAVAILABLE
    # An agent reconnecting while the port is still open is sent away at once.
    after = registry.open("d2")
    assert after.ended
    assert await after.next() == StreamEnd(grpc.StatusCode.UNAVAILABLE, "shutting down")
    assert registry.get("d2") is None


async def test_a_newer_stream_replaces_the_older_one() -> None:
    registry = ConnectionRegistry()
    old = registry.open("d1")
    new = registry.open("d1")
    assert old.ended and not new.ended
    assert registry.get("d1") is new
    registry.release(old)
    assert registry.get("d1") is new


QUEUED_AT = datetime(2026, 1, 2, tzinfo=UTC)


def command(command_id: str, device_id: str = "d1") -> PendingCommand:
    return PendingCommand(command_id, device_id, "send_inventory", b"", QUEUED_AT)


async def test_a_command_is_offered_once_until_its_delivery_is_settled() -> None:
    registry = ConnectionRegistry()
    stream = registry.open("d1")
    first = command("c1")
    assert registry.offer([first, first, command("c2", "elsewhere")]) == 1
    assert await stream.next() == first
    assert registry.offer([first]) == 0  # written, its delivery mark not stored yet
    stream.written("c1")
    assert registry.offer([first]) == 1  # a later poll that still finds it queues it again


async def test_a_poll_skips_commands_settled_while_it_read() -> None:
    registry = ConnectionRegistry()
    stream = registry.open("d1")
    first = command("c1")
    registry.offer([first])
    settled = registry.in_flight.track_settled()  # the poll starts reading...
    assert await stream.next() == first
    stream.written("c1")  # ...the delivery is stored meanwhile...
    assert registry.offer([first], skip=settled) == 0  # ...so its stale row is not resent.
    assert len(registry.in_flight) == 0


async def test_an_ended_stream_gives_back_its_unwritten_commands() -> None:
    registry = ConnectionRegistry()
    old = registry.open("d1")
    registry.offer([command("c1"), command("c2")])
    assert len(registry.in_flight) == 2
    new = registry.open("d1")  # replaces the old stream: what it held was never written
    assert isinstance(await old.next(), StreamEnd)
    assert len(registry.in_flight) == 0
    assert registry.offer([command("c1")]) == 1
    assert await new.next() == command("c1")


async def test_replies_wait_while_the_queue_is_full_and_commands_are_refused() -> None:
    stream = AgentStream("d1", maxsize=2)
    replies = [pb.ConnectResponse(heartbeat_ack=pb.HeartbeatAck(sequence=n)) for n in range(3)]
    await stream.put_reply(replies[0])
    await stream.put_reply(replies[1])
    assert stream.offer_command(command("c1")) is False
    third = asyncio.create_task(stream.put_reply(replies[2]))
    await asyncio.sleep(0)
    assert not third.done()  # back-pressure: the reader waits for room
    assert await stream.next() == replies[0]
    await asyncio.wait_for(third, 1)
    assert [await stream.next(), await stream.next()] == replies[1:]


async def test_ending_wakes_a_reader_and_a_writer_waiting() -> None:
    stream = AgentStream("d1", maxsize=1)
    reader = asyncio.create_task(stream.next())
    await asyncio.sleep(0)
    stream.end(StreamEnd(grpc.StatusCode.ABORTED, "replaced"))
    assert await asyncio.wait_for(reader, 1) == StreamEnd(grpc.StatusCode.ABORTED, "replaced")

    full = AgentStream("d2", maxsize=1)
    await full.put_reply(pb.ConnectResponse())
    writer = asyncio.create_task(full.put_reply(pb.ConnectResponse()))
    await asyncio.sleep(0)
    full.end(StreamEnd())
    await asyncio.wait_for(writer, 1)
    assert await full.next() == StreamEnd()
