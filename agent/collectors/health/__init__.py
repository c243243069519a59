"""Health: the sample taken every minute, its records, its signal sources and the per-OS
factories that pick them (``linux_sources``, ``windows_sources``, ``darwin_sources``)."""

from agent.collectors.health.collector import FilesystemUsage, HealthCollector, HealthSample
from agent.collectors.health.records import (
    BatteryHealth,
    BatteryStatus,
    DiskHealth,
    DiskProtocol,
    FanReading,
    HealthSignals,
    NvmeHealth,
    PressureStall,
    RebootStatus,
    SmartAttribute,
    TemperatureReading,
    UnavailableSignal,
    UpdateCounts,
)
from agent.collectors.health.signals import (
    Guarded,
    ParseError,
    Periodic,
    SignalSource,
    SignalUnavailable,
    SourceError,
    Unavailable,
)
from agent.collectors.health.sources import (
    HealthSources,
    SlowSchedule,
    darwin_sources,
    linux_sources,
    windows_sources,
)

__all__ = [
    "BatteryHealth",
    "BatteryStatus",
    "DiskHealth",
    "DiskProtocol",
    "FanReading",
    "FilesystemUsage",
    "Guarded",
    "HealthCollector",
    "HealthSample",
    "HealthSignals",
    "HealthSources",
    "NvmeHealth",
    "ParseError",
    "Periodic",
    "PressureStall",
    "RebootStatus",
    "SignalSource",
    "SignalUnavailable",
    "SlowSchedule",
    "SmartAttribute",
    "SourceError",
    "TemperatureReading",
    "Unavailable",
    "UnavailableSignal",
    "UpdateCounts",
    "darwin_sources",
    "linux_sources",
    "windows_sources",
]
