"""The open ``Connect`` streams of this collector process, one per device.

Each stream has a small bounded queue of what to write next (heartbeat acks, commands) and
can be ended from outside (revocation, a newer stream for the same device). The registry is
built by ``server.app`` and shared by the servicer and the watcher; it holds only what this
process is connected to — the durable state (commands, revocations) lives in the database.

Commands reach a stream by ``ConnectionRegistry.offer``: pushed when this process queues them,
and found by the watcher's poll otherwise. A command is "in flight" from the moment it is
queued on a stream until its delivery mark is stored (or the stream ends), and is not offered
twice meanwhile; the watcher also skips commands settled while its poll was reading (its rows
may predate the mark).

A stream costs a few hundred bytes here (there are ten thousand of them): a plain list and at
most one waiting future instead of an ``asyncio.Queue`` (three deques and an event, ~3 KB).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

import grpc

from parc.v1 import agent_service_pb2 as pb
from server.api.options import STREAM_QUEUE_SIZE
from server.services.records import PendingCommand


@dataclass(frozen=True)
class StreamEnd:
    """The last item of a stream: a clean end (no code, no error), a status, or an error."""

    code: grpc.StatusCode | None = None
    message: str = ""
    error: Exception | None = None


Outgoing = pb.ConnectResponse | PendingCommand | StreamEnd


class CommandsInFlight:
    """Ids of commands queued on a stream and not yet marked delivered, for all streams."""

    __slots__ = ("_ids", "_settled")

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._settled: set[str] = set()

    def __contains__(self, command_id: object) -> bool:
        return command_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, command_id: str) -> None:
        self._ids.add(command_id)

    def drop(self, command_id: str) -> None:
        """The command was not written (its stream ended): the next poll finds it again."""
        self._ids.discard(command_id)

    def settle(self, command_id: str) -> None:
        """The command was written and its delivery mark stored (or the attempt is over)."""
        self._ids.discard(command_id)
        self._settled.add(command_id)

    def track_settled(self) -> set[str]:
        """Start a new set of ids settled from now on (taken before a poll reads)."""
        self._settled = set()
        return self._settled


class AgentStream:
    """One device's open Connect stream, as seen by the rest of the collector."""

    __slots__ = ("_ended", "_flight", "_getter", "_items", "_maxsize", "_putter", "device_id")

    def __init__(
        self,
        device_id: str,
        in_flight: CommandsInFlight | None = None,
        maxsize: int = STREAM_QUEUE_SIZE,
    ) -> None:
        self.device_id = device_id
        self._flight = in_flight if in_flight is not None else CommandsInFlight()
        self._maxsize = maxsize
        self._items: list[Outgoing] = []
        self._getter: asyncio.Future[None] | None = None
        self._putter: asyncio.Future[None] | None = None
        self._ended = False

    @property
    def ended(self) -> bool:
        return self._ended

    def full(self) -> bool:
        return len(self._items) >= self._maxsize

    async def put_reply(self, message: pb.ConnectResponse) -> None:
        """Queue a reply, waiting while the queue is full (back-pressure on the agent)."""
        while not self._ended and self.full():
            self._putter = asyncio.get_running_loop().create_future()
            try:
                await self._putter
            finally:
                self._putter = None
        if not self._ended:
            self._push(message)

    def offer_command(self, command: PendingCommand) -> bool:
        """Queue a command unless it is already in flight or there is no room; True if queued."""
        if self._ended or command.command_id in self._flight or self.full():
            return False
        self._push(command)
        self._flight.add(command.command_id)
        return True

    def written(self, command_id: str) -> None:
        """The command was written to the stream and its delivery mark stored."""
        self._flight.settle(command_id)

    def end(self, end: StreamEnd) -> None:
        """End the stream: what was queued and not written is dropped (commands stay durable)."""
        if self._ended:
            return
        self._ended = True
        for item in self._items:
            if isinstance(item, PendingCommand):
                self._flight.drop(item.command_id)
        self._items = [end]
        _wake(self._getter)
        _wake(self._putter)

    async def next(self) -> Outgoing:
        while not self._items:
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None
        item = self._items.pop(0)
        _wake(self._putter)
        return item

    def _push(self, item: Outgoing) -> None:
        self._items.append(item)
        _wake(self._getter)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class ConnectionRegistry:
    """Open streams by device id; a newer stream for a device replaces the older one."""

    def __init__(self) -> None:
        self._streams: dict[str, AgentStream] = {}
        self._closed: StreamEnd | None = None
        self.in_flight = CommandsInFlight()

    def open(self, device_id: str) -> AgentStream:
        if self._closed is not None:
            # Shutting down: a stream opened now ends at once, the agent goes elsewhere.
            stream = AgentStream(device_id, self.in_flight)
            stream.end(self._closed)
            return stream
        previous = self._streams.get(device_id)
        if previous is not None:
            previous.end(
                StreamEnd(grpc.StatusCode.ABORTED, "replaced by a newer stream from this device")
            )
        stream = AgentStream(device_id, self.in_flight)
        self._streams[device_id] = stream
        return stream

    def release(self, stream: AgentStream) -> None:
        """Forget ``stream`` once its call is over (unless a newer one already replaced it)."""
        if self._streams.get(stream.device_id) is stream:
            del self._streams[stream.device_id]

    def get(self, device_id: str) -> AgentStream | None:
        return self._streams.get(device_id)

    def connected(self) -> list[str]:
        return sorted(self._streams)

    def __len__(self) -> int:
        return len(self._streams)

    def offer(
        self, commands: Iterable[PendingCommand], skip: frozenset[str] | set[str] = frozenset()
    ) -> int:
        """Queue each command on its device's open stream here, if any; return how many were
        queued. Commands in ``skip`` (settled during the poll that found them) are left out."""
        queued = 0
        for command in commands:
            if command.command_id in skip:
                continue
            stream = self._streams.get(command.device_id)
            if stream is not None and stream.offer_command(command):
                queued += 1
        return queued

    def end_device(self, device_id: str, code: grpc.StatusCode, message: str) -> bool:
        """End the device's open stream with a status; False when it has none."""
        stream = self._streams.get(device_id)
        if stream is None:
            return False
        stream.end(StreamEnd(code, message))
        return True

    def end_all(self, code: grpc.StatusCode, message: str) -> None:
        for stream in list(self._streams.values()):
            stream.end(StreamEnd(code, message))

    def close(self, code: grpc.StatusCode, message: str) -> None:
        """End every stream, and every stream opened from now on (the process stops)."""
        self._closed = StreamEnd(code, message)
        self.end_all(code, message)
