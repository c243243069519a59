"""Temperatures and fans from Linux sysfs: hwmon chips, with thermal zones as the fallback.

hwmon ABI (Documentation/hwmon/sysfs-interface): ``/sys/class/hwmon/hwmon*/name``;
``temp<N>_input``, ``temp<N>_max``, ``temp<N>_crit`` in millidegrees Celsius with an optional
``temp<N>_label``; ``fan<N>_input`` in RPM with an optional ``fan<N>_label``. Thermal zones:
``/sys/class/thermal/thermal_zone*/type`` and ``temp`` (millidegrees), trip points
``trip_point_<N>_type`` / ``trip_point_<N>_temp``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from agent.collectors.health.records import FanReading, TemperatureReading
from agent.collectors.health.signals import SignalUnavailable
from agent.collectors.health.sysfs import read_attribute, read_int, sorted_entries

_INPUT = re.compile(r"^(temp|fan)(\d+)_input$")
# Readings outside this range are a disconnected sensor's placeholder, not a temperature.
_PLAUSIBLE_CELSIUS = (-100.0, 300.0)


@dataclass(slots=True)
class HwmonScan:
    """Every temperature and fan reading of the hwmon chips."""

    temperatures: list[TemperatureReading] = field(default_factory=list)
    fans: list[FanReading] = field(default_factory=list)


def _millidegrees(value: int | None) -> float | None:
    if value is None:
        return None
    celsius = value / 1000.0
    low, high = _PLAUSIBLE_CELSIUS
    return celsius if low <= celsius <= high else None


def scan_hwmon(sys_root: Path, kinds: tuple[str, ...] = ("temp", "fan")) -> HwmonScan:
    """Reads the ``kinds`` of input ("temp", "fan") of every chip under ``sys_root/class/hwmon``."""
    scan = HwmonScan()
    for chip in sorted_entries(sys_root / "class" / "hwmon", "hwmon"):
        try:
            names = os.listdir(chip)
        except OSError:
            continue
        sensor = read_attribute(chip / "name") or chip.name
        inputs: list[tuple[str, int]] = []
        for name in names:
            match = _INPUT.match(name)
            if match and match.group(1) in kinds:
                inputs.append((match.group(1), int(match.group(2))))
        for kind, index in sorted(inputs):
            label = read_attribute(chip / f"{kind}{index}_label") or ""
            if kind == "temp":
                celsius = _millidegrees(read_int(chip / f"temp{index}_input"))
                if celsius is None:
                    continue
                scan.temperatures.append(
                    TemperatureReading(
                        sensor=sensor,
                        label=label,
                        celsius=celsius,
                        high_celsius=_millidegrees(read_int(chip / f"temp{index}_max")),
                        critical_celsius=_millidegrees(read_int(chip / f"temp{index}_crit")),
                    )
                )
            else:
                rpm = read_int(chip / f"fan{index}_input")
                if rpm is None or rpm < 0:
                    continue
                scan.fans.append(FanReading(sensor=sensor, label=label, rpm=rpm))
    return scan


def scan_thermal_zones(sys_root: Path) -> list[TemperatureReading]:
    """Reads every thermal zone under ``sys_root/class/thermal``."""
    readings: list[TemperatureReading] = []
    for zone in sorted_entries(sys_root / "class" / "thermal", "thermal_zone"):
        celsius = _millidegrees(read_int(zone / "temp"))
        if celsius is None:
            continue
        critical: float | None = None
        high: float | None = None
        for trip in range(16):
            kind = read_attribute(zone / f"trip_point_{trip}_type")
            if kind is None:
                break
            temp = _millidegrees(read_int(zone / f"trip_point_{trip}_temp"))
            if kind == "critical" and critical is None:
                critical = temp
            elif kind in ("hot", "passive") and high is None:
                high = temp
        readings.append(
            TemperatureReading(
                sensor=read_attribute(zone / "type") or zone.name,
                label=zone.name,
                celsius=celsius,
                high_celsius=high,
                critical_celsius=critical,
            )
        )
    return readings


class LinuxTemperatures:
    """Temperatures from hwmon, or from thermal zones when no hwmon chip has any."""

    signal = "temperatures"

    def __init__(self, sys_root: Path = Path("/sys")) -> None:
        self._sys = sys_root

    def read(self) -> list[TemperatureReading]:
        readings = scan_hwmon(self._sys, ("temp",)).temperatures or scan_thermal_zones(self._sys)
        if not readings:
            raise SignalUnavailable(
                "no temperature sensors exposed (/sys/class/hwmon, /sys/class/thermal)"
            )
        return readings


class LinuxFans:
    """Fan speeds from hwmon."""

    signal = "fans"

    def __init__(self, sys_root: Path = Path("/sys")) -> None:
        self._sys = sys_root

    def read(self) -> list[FanReading]:
        fans = scan_hwmon(self._sys, ("fan",)).fans
        if not fans:
            raise SignalUnavailable("no fan sensors exposed (/sys/class/hwmon)")
        return fans
