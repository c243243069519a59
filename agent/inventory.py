"""One inventory report from the machine's collectors: hardware, software and licences.

Each collector runs guarded (a failing one is logged and backed off and its section is left
out: the collector keeps what it had); the report carries each section's hash, and
:class:`~agent.sections.SectionMemory` then drops the sections that did not change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from agent.collectors.base import GuardedCollector
from agent.collectors.inventory import Inventory
from agent.collectors.licences.records import LicenceInventory
from agent.collectors.software.records import SoftwareInventory
from agent.platform.machine import MachineCollectors
from agent.wire.common import timestamp
from agent.wire.inventory import inventory_report
from agent.wire.licences import licence_inventory
from agent.wire.software import software_inventory
from parc.v1 import agent_service_pb2 as pb


class MachineInventory:
    """Collects the three inventory sections into one InventoryReport."""

    def __init__(
        self,
        hardware: GuardedCollector[Inventory],
        software: GuardedCollector[SoftwareInventory],
        licences: GuardedCollector[LicenceInventory],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._hardware = hardware
        self._software = software
        self._licences = licences
        self._clock = clock

    @classmethod
    def of(cls, collectors: MachineCollectors) -> MachineInventory:
        return cls(
            GuardedCollector(collectors.hardware),
            GuardedCollector(collectors.software),
            GuardedCollector(collectors.licences),
        )

    def collect(self, report_id: str) -> pb.InventoryReport | None:
        """Every section that could be collected now; None when none could."""
        hardware = self._hardware.run()
        software = self._software.run()
        licences = self._licences.run()
        if hardware is None and software is None and licences is None:
            return None
        if hardware is not None:
            report = inventory_report(hardware, report_id)
        else:
            report = pb.InventoryReport(report_id=report_id, collect_time=timestamp(self._clock()))
        if software is not None:
            report.software.CopyFrom(software_inventory(software))
        if licences is not None:
            report.licences.CopyFrom(licence_inventory(licences))
        return report
