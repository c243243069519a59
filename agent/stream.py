"""The Connect stream: one long-lived bidirectional call per agent.

Heartbeats and command acknowledgements go up; heartbeat acks and commands come down.
When the stream breaks it is reopened after a full-jitter backoff; the backoff resets once
a connection has stayed up for ``stable_after`` seconds. A device the collector refuses
(UNAUTHENTICATED, e.g. revoked) is retried only every ``refused_retry`` seconds (5 minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import grpc

from agent.backoff import Backoff
from agent.channel import ChannelHolder
from agent.commands import CommandHandler
from agent.status import StatusRecorder
from agent.wire.common import timestamp
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

REFUSED = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
# A refused device (revoked or unknown) asks again this rarely: only an administrator's
# action changes the answer, so the reconnect backoff's cap (60 s) would be needless traffic.
REFUSED_RETRY_S = 300.0

Call = grpc.aio.StreamStreamCall[pb.ConnectRequest, pb.ConnectResponse]


class ConnectStream:
    """Keeps the Connect stream open for as long as the agent runs."""

    def __init__(
        self,
        channels: ChannelHolder,
        commands: CommandHandler,
        *,
        backoff: Backoff | None = None,
        status: StatusRecorder | None = None,
        on_connected: Callable[[], None] = lambda: None,
        stable_after: float = 60.0,
        refused_retry: float = REFUSED_RETRY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._channels = channels
        self._refused_retry = refused_retry
        self._commands = commands
        self._backoff = backoff or Backoff()
        self._status = status
        self._on_connected = on_connected
        self._stable_after = stable_after
        self._monotonic = monotonic
        self._call: Call | None = None
        self._write_lock = asyncio.Lock()
        self._sequence = 0
        self._stopping = asyncio.Event()
        self._restart = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        channels.on_rebuild(self.restart)

    @property
    def connected(self) -> bool:
        return self._call is not None

    async def run(self) -> None:
        """Opens, serves and reopens the stream until :meth:`stop`."""
        while not self._stopping.is_set():
            delay = await self._serve_once()
            if self._stopping.is_set():
                break
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _serve_once(self) -> float:
        """Serves one stream until it ends; returns how long to wait before the next."""
        stub = pb_grpc.AgentServiceStub(self._channels.channel)
        call: Call = stub.Connect()
        self._call = call
        self._restart = False
        self._sequence = 0
        opened = self._monotonic()
        answered = False
        try:
            await self.send_heartbeat()
            while True:
                response = await call.read()
                if response is grpc.aio.EOF:
                    raise ConnectionResetError("the collector closed the stream")
                assert isinstance(response, pb.ConnectResponse)
                if not answered:
                    answered = True
                    self.connections += 1
                    log.info("connected to the collector")
                    if self._status is not None:
                        self._status.connected(True)
                    self._on_connected()
                self._dispatch(response)
        except (grpc.aio.AioRpcError, ConnectionResetError, asyncio.InvalidStateError) as exc:
            return self._broken(exc, self._monotonic() - opened)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the task itself is being cancelled
            # We cancelled the call (stop, or restart on a new channel): grpc reports that so.
            return self._broken(ConnectionResetError("the stream was closed locally"), 0.0)
        finally:
            self._call = None
            call.cancel()
            if self._status is not None:
                self._status.connected(False)

    def _broken(self, exc: Exception, lasted: float) -> float:
        if self._stopping.is_set():
            return 0.0
        if self._restart:
            log.info("reopening the stream on the new channel")
            return 0.0
        if lasted >= self._stable_after:
            self._backoff.reset()
        if isinstance(exc, grpc.aio.AioRpcError):
            code = exc.code()
            message = f"stream: {code.name}: {exc.details()}"
            if code in REFUSED:
                delay = self._refused_retry
                log.error(
                    "the collector refuses this device (%s: %s): revoked or unknown? "
                    "retrying in %.0f s",
                    code.name,
                    exc.details(),
                    delay,
                )
                if self._status is not None:
                    self._status.error(message)
                return delay
        else:
            message = f"stream: {exc}"
        delay = self._backoff.next_delay()
        log.warning("%s; reconnecting in %.1f s", message, delay)
        if self._status is not None:
            self._status.error(message)
        return delay

    def _dispatch(self, response: pb.ConnectResponse) -> None:
        which = response.WhichOneof("message")
        if which == "heartbeat_ack":
            log.debug("heartbeat %d acknowledged", response.heartbeat_ack.sequence)
            if self._status is not None:
                self._status.contact()
        elif which == "command":
            task = asyncio.get_running_loop().create_task(self._run_command(response.command))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            log.debug("ignoring an empty message from the collector")

    async def _run_command(self, command: pb.Command) -> None:
        outcome = await self._commands.handle(command)
        ack = pb.CommandAck(
            command_id=command.command_id, status=outcome.status, detail=outcome.detail
        )
        if not await self._write(pb.ConnectRequest(command_ack=ack)):
            log.warning(
                "could not acknowledge command %s: the stream is down; "
                "the collector will send it again",
                command.command_id,
            )

    async def send_heartbeat(self) -> bool:
        """Sends a heartbeat if the stream is open; returns whether it was written."""
        if self._call is None:
            return False
        self._sequence += 1
        beat = pb.Heartbeat(sequence=self._sequence, sent_time=timestamp(datetime.now(UTC)))
        return await self._write(pb.ConnectRequest(heartbeat=beat))

    async def _write(self, request: pb.ConnectRequest) -> bool:
        call = self._call
        if call is None:
            return False
        async with self._write_lock:
            try:
                await call.write(request)
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError, grpc.RpcError) as exc:
                log.debug("stream write failed: %s", exc)
                return False
        return True

    def restart(self) -> None:
        """Closes the current stream so that it reopens at once (after a channel rebuild)."""
        self._restart = True
        if self._call is not None:
            self._call.cancel()

    async def stop(self) -> None:
        """Ends the stream and the command tasks."""
        self._stopping.set()
        if self._call is not None:
            self._call.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
