"""Turns collector results into spooled reports and gets them delivered."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from agent.collectors.base import GuardedCollector
from agent.collectors.health import HealthSample
from agent.delivery import ReportSender, new_report_id
from agent.sections import SectionMemory
from agent.wire.health import health_report
from parc.v1 import agent_service_pb2 as pb

log = logging.getLogger(__name__)


class InventorySource(Protocol):
    """Collects an inventory report: agent.inventory_worker.InventoryWorker (a child process)
    or agent.inventory.MachineInventory (in this process)."""

    def collect(self, report_id: str) -> pb.InventoryReport | None: ...


class Reporting:
    """Health samples and inventories: collect, spool first, then flush."""

    def __init__(
        self,
        sender: ReportSender,
        health: GuardedCollector[HealthSample],
        inventory: InventorySource,
        sections: SectionMemory,
    ) -> None:
        self.sender = sender
        self.health = health
        self.inventory = inventory
        self.sections = sections
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[bool]] = set()

    async def sample_health(self) -> bool:
        """Takes a health sample, spools it and starts a flush; False when none was taken."""
        sample = self.health.run()
        if sample is None:
            return False
        report_id = new_report_id()
        payload = health_report(sample, report_id).SerializeToString()
        self.sender.spool("health", report_id, payload)
        self.sender.request_flush()
        return True

    async def collect_inventory(self, *, full: bool = False) -> bool:
        """Collects an inventory (off the event loop: it reads files), leaves out the
        sections that did not change unless ``full``, spools it and flushes."""
        async with self._lock:  # one at a time: the section memory follows the spool order
            report_id = new_report_id()
            report = await asyncio.to_thread(self.inventory.collect, report_id)
            if report is None:
                return False
            payload = self.sections.prepare(report, full=full).SerializeToString()
            self.sender.spool("inventory", report_id, payload)
        self.sender.request_flush()
        return True

    async def send_inventory_now(self) -> bool:
        """For the SEND_INVENTORY command: collect in full, spool, flush before answering."""
        if not await self.collect_inventory(full=True):
            return False
        await self.sender.wait_idle()
        await self.sender.flush()
        return True

    def full_inventory_requested(self) -> None:
        """The collector lacks a section we sent as a hash: forget the hashes, send in full."""
        log.info("the collector asked for a full inventory")
        self.sections.forget()
        task = asyncio.get_running_loop().create_task(self.collect_inventory(full=True))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def flush_if_pending(self) -> None:
        if self.sender.pending:
            self.sender.request_flush()
