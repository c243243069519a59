"""Sends spooled reports to the collector in order, deleting only what it acknowledged."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

import grpc
from google.protobuf.message import DecodeError

from agent.channel import RPC_TIMEOUT_S, ChannelHolder
from agent.spool import ReportKind, Spool, SpooledReport
from agent.status import StatusRecorder
from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

BATCH_SIZE = 100


def new_report_id() -> str:
    return str(uuid.uuid4())


class ReportSender:
    """Spools reports and flushes the spool over ReportHealth / ReportInventory."""

    def __init__(
        self,
        spool: Spool,
        channels: ChannelHolder,
        status: StatusRecorder | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        rpc_timeout: float = RPC_TIMEOUT_S,
        on_full_inventory_requested: Callable[[], None] | None = None,
    ) -> None:
        self._spool = spool
        self._channels = channels
        self._status = status
        self._batch_size = batch_size
        self._rpc_timeout = rpc_timeout
        self._on_full_inventory_requested = on_full_inventory_requested
        self._lock = asyncio.Lock()
        self._flush_task: asyncio.Task[int] | None = None
        self._again = False
        self._failing = False

    def spool(self, kind: ReportKind, report_id: str, payload: bytes) -> None:
        self._spool.put(kind, report_id, payload)

    @property
    def pending(self) -> int:
        return len(self._spool)

    def request_flush(self) -> None:
        """Starts a flush in the background (or a further one after the running flush)."""
        if self._flush_task is not None and not self._flush_task.done():
            self._again = True
            return
        self._flush_task = asyncio.get_running_loop().create_task(self._flush_loop())

    async def _flush_loop(self) -> int:
        total = 0
        while True:
            self._again = False
            total += await self.flush()
            if not self._again:
                return total

    async def wait_idle(self) -> None:
        """Waits for a background flush to end (for shutdown and tests)."""
        if self._flush_task is not None:
            await asyncio.gather(self._flush_task, return_exceptions=True)

    async def flush(self) -> int:
        """Sends everything spooled, oldest first; returns how many reports were acknowledged."""
        async with self._lock:
            delivered = 0
            while batch := self._spool.next_batch(self._batch_size):
                try:
                    accepted = await self._send(batch)
                except grpc.aio.AioRpcError as exc:
                    self._failed(f"report delivery failed: {exc.code().name}: {exc.details()}")
                    return delivered
                ids = {item.report_id for item in batch}
                acknowledged = ids & accepted
                self._spool.delete(acknowledged)
                delivered += len(acknowledged)
                if self._failing:
                    log.info("report delivery works again")
                    self._failing = False
                if self._status is not None:
                    self._status.contact()
                if len(acknowledged) < len(ids):
                    # Keep the rest for a later flush rather than loop on them now.
                    log.warning(
                        "collector acknowledged %d of %d %s reports; the rest stay spooled",
                        len(acknowledged),
                        len(ids),
                        batch[0].kind,
                    )
                    return delivered
            return delivered

    def _failed(self, message: str) -> None:
        if not self._failing:
            log.warning("%s; reports stay spooled (%d waiting)", message, len(self._spool))
        else:
            log.debug("%s", message)
        self._failing = True
        if self._status is not None:
            self._status.error(message)

    def _decode(self, batch: list[SpooledReport]) -> list[pb.HealthReport | pb.InventoryReport]:
        """The batch's messages; a payload that does not parse is dropped from the spool."""
        message_type = pb.HealthReport if batch[0].kind == "health" else pb.InventoryReport
        messages: list[pb.HealthReport | pb.InventoryReport] = []
        for item in batch:
            try:
                messages.append(message_type.FromString(item.payload))
            except DecodeError:
                log.error("dropping spooled %s report %s: unreadable", item.kind, item.report_id)
                self._spool.delete([item.report_id])
        return messages

    async def _send(self, batch: list[SpooledReport]) -> set[str]:
        messages = self._decode(batch)
        if not messages:
            return set()
        stub = pb_grpc.AgentServiceStub(self._channels.channel)
        if batch[0].kind == "health":
            health = pb.ReportHealthRequest(
                reports=[m for m in messages if isinstance(m, pb.HealthReport)]
            )
            reply_h = await stub.ReportHealth(health, timeout=self._rpc_timeout)
            return set(reply_h.accepted_report_ids)
        inventory = pb.ReportInventoryRequest(
            reports=[m for m in messages if isinstance(m, pb.InventoryReport)]
        )
        reply_i = await stub.ReportInventory(inventory, timeout=self._rpc_timeout)
        if reply_i.full_inventory_requested and self._on_full_inventory_requested is not None:
            self._on_full_inventory_requested()
        return set(reply_i.accepted_report_ids)
