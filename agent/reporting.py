"""Turns collector results into spooled reports and gets them delivered."""

from __future__ import annotations

import asyncio

from agent import wire
from agent.collectors import GuardedCollector, HealthSample, Inventory
from agent.delivery import ReportSender, new_report_id


class Reporting:
    """Health samples and inventories: collect, spool first, then flush."""

    def __init__(
        self,
        sender: ReportSender,
        health: GuardedCollector[HealthSample],
        inventory: GuardedCollector[Inventory],
    ) -> None:
        self.sender = sender
        self.health = health
        self.inventory = inventory

    async def sample_health(self) -> bool:
        """Takes a health sample, spools it and starts a flush; False when none was taken."""
        sample = self.health.run()
        if sample is None:
            return False
        report_id = new_report_id()
        payload = wire.health_report(sample, report_id).SerializeToString()
        self.sender.spool("health", report_id, payload)
        self.sender.request_flush()
        return True

    async def collect_inventory(self) -> bool:
        """Collects an inventory (off the event loop: it reads files), spools it, flushes."""
        inventory = await asyncio.to_thread(self.inventory.run)
        if inventory is None:
            return False
        report_id = new_report_id()
        payload = wire.inventory_report(inventory, report_id).SerializeToString()
        self.sender.spool("inventory", report_id, payload)
        self.sender.request_flush()
        return True

    async def send_inventory_now(self) -> bool:
        """For the SEND_INVENTORY command: collect, spool, and flush before answering."""
        if not await self.collect_inventory():
            return False
        await self.sender.wait_idle()
        await self.sender.flush()
        return True

    async def flush_if_pending(self) -> None:
        if self.sender.pending:
            self.sender.request_flush()
