"""The health records the signal sources produce; ``agent.wire.health`` turns them into protobuf."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class UnavailableSignal:
    """A signal a sample lacks, and why ("no battery", "smartctl not installed", ...)."""

    signal: str
    reason: str


@dataclass(frozen=True, slots=True)
class TemperatureReading:
    """One temperature sensor, in degrees Celsius."""

    sensor: str
    label: str
    celsius: float
    high_celsius: float | None = None
    critical_celsius: float | None = None


@dataclass(frozen=True, slots=True)
class FanReading:
    """One fan's speed."""

    sensor: str
    label: str
    rpm: int


@dataclass(frozen=True, slots=True)
class PressureStall:
    """Linux PSI for one resource: share of time tasks stalled, in percent."""

    some_avg10: float
    some_avg60: float
    some_avg300: float
    full_avg10: float = 0.0
    full_avg60: float = 0.0
    full_avg300: float = 0.0


@dataclass(frozen=True, slots=True)
class RebootStatus:
    """Whether the OS says a reboot is pending, and what says so."""

    pending: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UpdateCounts:
    """Pending OS updates; ``security`` is None when the package manager cannot tell them apart,
    with ``security_unknown_reason`` saying why."""

    total: int
    security: int | None
    security_unknown_reason: str = ""


class BatteryStatus(enum.Enum):
    """What a battery is doing."""

    UNKNOWN = "unknown"
    CHARGING = "charging"
    DISCHARGING = "discharging"
    FULL = "full"
    NOT_CHARGING = "not charging"


@dataclass(frozen=True, slots=True)
class BatteryHealth:
    """One battery: capacities in ``capacity_unit`` ("mWh" or "mAh"), 0 when unknown."""

    name: str
    manufacturer: str = ""
    model: str = ""
    serial_number: str = ""
    design_capacity: int = 0
    full_capacity: int = 0
    capacity_unit: str = ""
    cycle_count: int | None = None
    charge_percent: float | None = None
    status: BatteryStatus = BatteryStatus.UNKNOWN

    @property
    def wear_percent(self) -> float | None:
        """100 * (1 - full / design), 0 when not worse than new; None when either is unknown."""
        if self.design_capacity <= 0 or self.full_capacity <= 0:
            return None
        return max(0.0, 100.0 * (1.0 - self.full_capacity / self.design_capacity))


class DiskProtocol(enum.Enum):
    """How a disk is attached, as smartctl reports it."""

    UNKNOWN = "unknown"
    ATA = "ATA"
    NVME = "NVMe"
    SCSI = "SCSI"


@dataclass(frozen=True, slots=True)
class SmartAttribute:
    """One ATA SMART attribute; ``when_failed`` is "now", "past" or ""."""

    id: int
    name: str
    value: int
    worst: int
    threshold: int
    raw: int
    when_failed: str = ""


@dataclass(frozen=True, slots=True)
class NvmeHealth:
    """The NVMe SMART/Health Information log page."""

    critical_warning: int = 0
    percentage_used: int = 0
    media_errors: int = 0
    available_spare: int = 0
    available_spare_threshold: int = 0
    unsafe_shutdowns: int = 0
    power_on_hours: int = 0


@dataclass(frozen=True, slots=True)
class DiskHealth:
    """The SMART health of one disk, as smartctl reported it."""

    device: str
    model: str = ""
    serial_number: str = ""
    protocol: DiskProtocol = DiskProtocol.UNKNOWN
    smart_available: bool = False
    unavailable_reason: str = ""
    passed: bool | None = None
    exit_status: int = 0
    exit_status_flags: tuple[str, ...] = ()
    attributes: tuple[SmartAttribute, ...] = ()
    nvme: NvmeHealth | None = None
    temperature_celsius: float | None = None
    power_on_hours: int | None = None


@dataclass(frozen=True, slots=True)
class HealthSignals:
    """Everything the signal sources said in one sample; what they could not say is listed in
    ``unavailable``."""

    temperatures: list[TemperatureReading] = field(default_factory=list)
    fans: list[FanReading] = field(default_factory=list)
    memory_pressure: PressureStall | None = None
    oom_kills: int | None = None
    reboot: RebootStatus | None = None
    updates: UpdateCounts | None = None
    batteries: list[BatteryHealth] = field(default_factory=list)
    disks: list[DiskHealth] = field(default_factory=list)
    unavailable: list[UnavailableSignal] = field(default_factory=list)
