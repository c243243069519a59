"""The open ``Connect`` streams of this collector process, one per device.

Each stream has a small bounded queue of what to write next (heartbeat acks, commands) and
can be ended from outside (revocation, a newer stream for the same device). The registry is
built by ``server.app`` and shared by the servicer and the watcher; it holds only what this
process is connected to — the durable state (commands, revocations) lives in the database.
"""

from __future__ import annotations

import asyncio
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


class AgentStream:
    """One device's open Connect stream, as seen by the rest of the collector."""

    def __init__(self, device_id: str, maxsize: int = STREAM_QUEUE_SIZE) -> None:
        self.device_id = device_id
        self._queue: asyncio.Queue[Outgoing] = asyncio.Queue(maxsize=maxsize)
        self._in_flight: set[str] = set()
        self._ended = False

    @property
    def ended(self) -> bool:
        return self._ended

    async def put_reply(self, message: pb.ConnectResponse) -> None:
        """Queue a reply, waiting while the queue is full (back-pressure on the agent)."""
        if not self._ended:
            await self._queue.put(message)

    def offer_command(self, command: PendingCommand) -> bool:
        """Queue a command unless it is already queued or there is no room; True if queued."""
        if self._ended or command.command_id in self._in_flight or self._queue.full():
            return False
        self._queue.put_nowait(command)
        self._in_flight.add(command.command_id)
        return True

    def written(self, command_id: str) -> None:
        """The command was written to the stream."""
        self._in_flight.discard(command_id)

    def end(self, end: StreamEnd) -> None:
        """End the stream: what was queued and not written is dropped (commands stay durable)."""
        if self._ended:
            return
        self._ended = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._in_flight.clear()
        self._queue.put_nowait(end)

    async def next(self) -> Outgoing:
        return await self._queue.get()


class ConnectionRegistry:
    """Open streams by device id; a newer stream for a device replaces the older one."""

    def __init__(self) -> None:
        self._streams: dict[str, AgentStream] = {}
        self._closed: StreamEnd | None = None

    def open(self, device_id: str) -> AgentStream:
        if self._closed is not None:
            # Shutting down: a stream opened now ends at once, the agent goes elsewhere.
            stream = AgentStream(device_id)
            stream.end(self._closed)
            return stream
        previous = self._streams.get(device_id)
        if previous is not None:
            previous.end(
                StreamEnd(grpc.StatusCode.ABORTED, "replaced by a newer stream from this device")
            )
        stream = AgentStream(device_id)
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
