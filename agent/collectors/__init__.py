"""Collectors: one module per concern, each following :class:`Collector`."""

from agent.collectors.base import Collector, GuardedCollector
from agent.collectors.health import FilesystemUsage, HealthCollector, HealthSample
from agent.collectors.inventory import (
    CpuModel,
    Hardware,
    Inventory,
    InventoryCollector,
    OperatingSystem,
)
from agent.collectors.system import (
    DiskUsage,
    MemoryUsage,
    NetworkInterface,
    Partition,
    PsutilProbe,
    SystemProbe,
)

__all__ = [
    "Collector",
    "CpuModel",
    "DiskUsage",
    "FilesystemUsage",
    "GuardedCollector",
    "Hardware",
    "HealthCollector",
    "HealthSample",
    "Inventory",
    "InventoryCollector",
    "MemoryUsage",
    "NetworkInterface",
    "OperatingSystem",
    "Partition",
    "PsutilProbe",
    "SystemProbe",
]
