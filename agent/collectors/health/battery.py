"""Batteries: design versus full-charge capacity (wear), cycle count, status and charge.

- Linux: ``/sys/class/power_supply/<name>/`` with ``type`` = Battery (sysfs-class-power ABI):
  ``energy_full_design``/``energy_full`` in µWh or ``charge_full_design``/``charge_full`` in µAh,
  ``cycle_count``, ``status``, ``capacity`` (percent), ``manufacturer``, ``model_name``,
  ``serial_number``; ``scope`` = Device marks a peripheral's battery (a mouse), skipped.
- Windows: CIM classes ``root/wmi`` BatteryStaticData (DesignedCapacity mWh, SerialNumber,
  ManufactureName, DeviceName), BatteryFullChargedCapacity (FullChargedCapacity mWh),
  BatteryCycleCount, and ``root/cimv2`` Win32_Battery (BatteryStatus,
  EstimatedChargeRemaining), through PowerShell as JSON: a slow signal.
- macOS: ``ioreg -rn AppleSmartBattery -a`` (an XML plist array): DesignCapacity,
  AppleRawMaxCapacity (Apple silicon) or NominalChargeCapacity / MaxCapacity in mAh,
  CycleCount, IsCharging, FullyCharged, ExternalConnected, CurrentCapacity / MaxCapacity.
"""

from __future__ import annotations

import json
import plistlib
from pathlib import Path
from typing import Any

from agent.collectors.health.records import BatteryHealth, BatteryStatus
from agent.collectors.health.signals import ParseError, SignalUnavailable, SourceError
from agent.collectors.health.sysfs import read_attribute, read_int, sorted_entries
from agent.platform.runner import CommandRunner

SIGNAL = "battery"
NO_BATTERY = "no battery"
TIMEOUT_S = 60.0

_SYSFS_STATUS = {
    "charging": BatteryStatus.CHARGING,
    "discharging": BatteryStatus.DISCHARGING,
    "full": BatteryStatus.FULL,
    "not charging": BatteryStatus.NOT_CHARGING,
}


def _percent(value: float | None) -> float | None:
    if value is None or value != value or value < 0:
        return None
    return min(100.0, float(value))


def read_sysfs_battery(path: Path) -> BatteryHealth | None:
    """One power_supply directory as a battery; None when it is not a system battery."""
    if (read_attribute(path / "type") or "").lower() != "battery":
        return None
    if (read_attribute(path / "scope") or "").lower() == "device":
        return None  # a peripheral's battery (mouse, keyboard), not the machine's
    if read_attribute(path / "present") == "0":
        return None  # an empty battery bay
    design = read_int(path / "energy_full_design")
    full = read_int(path / "energy_full")
    now = read_int(path / "energy_now")
    unit = "mWh"
    if design is None and full is None:
        design = read_int(path / "charge_full_design")
        full = read_int(path / "charge_full")
        now = read_int(path / "charge_now")
        unit = "mAh"
    if design is None and full is None:
        unit = ""
    charge = _percent(read_int(path / "capacity"))
    if charge is None and now is not None and full:
        charge = _percent(100.0 * now / full)
    cycles = read_int(path / "cycle_count")
    status = _SYSFS_STATUS.get(
        (read_attribute(path / "status") or "").lower(), BatteryStatus.UNKNOWN
    )
    return BatteryHealth(
        name=path.name,
        manufacturer=read_attribute(path / "manufacturer") or "",
        model=read_attribute(path / "model_name") or "",
        serial_number=read_attribute(path / "serial_number") or "",
        design_capacity=max(0, design or 0) // 1000,  # µWh -> mWh, µAh -> mAh
        full_capacity=max(0, full or 0) // 1000,
        capacity_unit=unit,
        cycle_count=cycles if cycles is not None and cycles >= 0 else None,
        charge_percent=charge,
        status=status,
    )


class LinuxBatteries:
    """System batteries under ``sys_root/class/power_supply``."""

    signal = SIGNAL

    def __init__(self, sys_root: Path = Path("/sys")) -> None:
        self._dir = sys_root / "class" / "power_supply"

    def read(self) -> list[BatteryHealth]:
        batteries = [
            battery
            for path in sorted_entries(self._dir, "")
            if (battery := read_sysfs_battery(path)) is not None
        ]
        if not batteries:
            raise SignalUnavailable(NO_BATTERY)
        return batteries


# Win32_Battery.BatteryStatus (CIM_Battery): 1 discharging, 2 on AC (not necessarily charging),
# 3 fully charged, 4 low, 5 critical, 6 charging, 7-9 charging and high/low/critical,
# 10 undefined, 11 partially charged.
_WIN32_STATUS = {
    1: BatteryStatus.DISCHARGING,
    2: BatteryStatus.NOT_CHARGING,
    3: BatteryStatus.FULL,
    4: BatteryStatus.DISCHARGING,
    5: BatteryStatus.DISCHARGING,
    6: BatteryStatus.CHARGING,
    7: BatteryStatus.CHARGING,
    8: BatteryStatus.CHARGING,
    9: BatteryStatus.CHARGING,
}

WINDOWS_BATTERY_SCRIPT = (
    "$ErrorActionPreference = 'SilentlyContinue'; "
    "$o = [ordered]@{ "
    "Static = @(Get-CimInstance -Namespace root/wmi -ClassName BatteryStaticData | "
    "Select-Object InstanceName, DesignedCapacity, SerialNumber, ManufactureName, DeviceName); "
    "Full = @(Get-CimInstance -Namespace root/wmi -ClassName BatteryFullChargedCapacity | "
    "Select-Object InstanceName, FullChargedCapacity); "
    "Cycles = @(Get-CimInstance -Namespace root/wmi -ClassName BatteryCycleCount | "
    "Select-Object InstanceName, CycleCount); "
    "Status = @(Get-CimInstance -ClassName Win32_Battery | "
    "Select-Object DeviceID, Name, BatteryStatus, EstimatedChargeRemaining) }; "
    "ConvertTo-Json -InputObject $o -Depth 3 -Compress"
)
WINDOWS_BATTERY_COMMAND = (
    "powershell",
    "-NoProfile",
    "-NonInteractive",
    "-Command",
    WINDOWS_BATTERY_SCRIPT,
)


def _objects(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]  # PowerShell unrolls one-element arrays
    if not isinstance(value, list):
        raise ParseError(f"battery CIM output: {key} is not a list")
    return [item for item in value if isinstance(item, dict)]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value == value and value >= 0:
        return int(value)
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _by_instance(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {_text(item.get("InstanceName")).lower(): item for item in items}


def parse_windows_batteries(text: str) -> list[BatteryHealth]:
    """The JSON the battery script prints; [] when the machine has no battery."""
    if not text.strip():
        return []
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"battery CIM output is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError("battery CIM output is not a JSON object")
    static = _objects(data, "Static")
    full = _by_instance(_objects(data, "Full"))
    cycles = _by_instance(_objects(data, "Cycles"))
    status = _objects(data, "Status")
    batteries: list[BatteryHealth] = []
    count = max(len(static), len(status))
    for index in range(count):
        info = static[index] if index < len(static) else {}
        state = status[index] if index < len(status) else {}
        instance = _text(info.get("InstanceName")).lower()
        full_info = full.get(instance, {})
        cycle_info = cycles.get(instance, {})
        design = _int(info.get("DesignedCapacity")) or 0
        full_capacity = _int(full_info.get("FullChargedCapacity")) or 0
        charge = _int(state.get("EstimatedChargeRemaining"))
        code = _int(state.get("BatteryStatus"))
        batteries.append(
            BatteryHealth(
                name=_text(info.get("DeviceName"))
                or _text(state.get("Name"))
                or _text(state.get("DeviceID"))
                or f"Battery {index}",
                manufacturer=_text(info.get("ManufactureName")),
                model=_text(info.get("DeviceName")),
                serial_number=_text(info.get("SerialNumber")),
                design_capacity=design,
                full_capacity=full_capacity,
                capacity_unit="mWh" if design or full_capacity else "",
                cycle_count=_int(cycle_info.get("CycleCount")),
                charge_percent=_percent(float(charge)) if charge is not None else None,
                status=_WIN32_STATUS.get(code, BatteryStatus.UNKNOWN)
                if code is not None
                else BatteryStatus.UNKNOWN,
            )
        )
    return batteries


class WindowsBatteries:
    """Batteries through PowerShell CIM queries."""

    signal = SIGNAL

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def read(self) -> list[BatteryHealth]:
        result = self._runner.run(WINDOWS_BATTERY_COMMAND, timeout=TIMEOUT_S)
        if result.returncode != 0:
            raise SourceError(f"battery CIM query exited with status {result.returncode}")
        batteries = parse_windows_batteries(result.text)
        if not batteries:
            raise SignalUnavailable(NO_BATTERY)
        return batteries


IOREG_BATTERY = ("ioreg", "-rn", "AppleSmartBattery", "-a")


def _plist_array(data: bytes) -> list[Any]:
    if not data.strip():
        return []
    try:
        parsed = plistlib.loads(data)
    except Exception as exc:  # plistlib raises assorted errors on malformed input
        raise ParseError(f"ioreg output is not a property list: {exc!r}") from exc
    if isinstance(parsed, dict):
        return [parsed]
    if not isinstance(parsed, list):
        raise ParseError("ioreg output is neither an array nor a dictionary")
    return parsed


def _mac_battery(index: int, entry: dict[str, Any]) -> BatteryHealth:
    design = _int(entry.get("DesignCapacity")) or 0
    raw_max = _int(entry.get("AppleRawMaxCapacity"))
    nominal = _int(entry.get("NominalChargeCapacity"))
    max_capacity = _int(entry.get("MaxCapacity"))
    current = _int(entry.get("CurrentCapacity"))
    # On Apple silicon MaxCapacity and CurrentCapacity are percentages (MaxCapacity = 100);
    # on Intel they are mAh. The raw and nominal values are mAh on both.
    if raw_max is not None:
        full = raw_max
    elif nominal is not None:
        full = nominal
    elif max_capacity is not None and max_capacity > 100:
        full = max_capacity
    else:
        full = 0
    charge = (
        _percent(100.0 * current / max_capacity) if current is not None and max_capacity else None
    )
    if entry.get("FullyCharged") is True:
        status = BatteryStatus.FULL
    elif entry.get("IsCharging") is True:
        status = BatteryStatus.CHARGING
    elif entry.get("ExternalConnected") is True:
        status = BatteryStatus.NOT_CHARGING
    elif entry.get("ExternalConnected") is False:
        status = BatteryStatus.DISCHARGING
    else:
        status = BatteryStatus.UNKNOWN
    return BatteryHealth(
        name=f"InternalBattery-{index}",
        manufacturer=_text(entry.get("Manufacturer")),
        model=_text(entry.get("DeviceName")),
        serial_number=_text(entry.get("Serial")) or _text(entry.get("BatterySerialNumber")),
        design_capacity=design,
        full_capacity=full,
        capacity_unit="mAh" if design or full else "",
        cycle_count=_int(entry.get("CycleCount")),
        charge_percent=charge,
        status=status,
    )


def parse_ioreg_batteries(data: bytes) -> list[BatteryHealth]:
    """``ioreg -rn AppleSmartBattery -a`` output; [] when there is no battery."""
    return [
        _mac_battery(index, entry)
        for index, entry in enumerate(_plist_array(data))
        if isinstance(entry, dict)
    ]


class MacBatteries:
    """Batteries through ``ioreg``."""

    signal = SIGNAL

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def read(self) -> list[BatteryHealth]:
        result = self._runner.run(IOREG_BATTERY, timeout=TIMEOUT_S)
        if result.returncode != 0:
            raise SourceError(f"ioreg exited with status {result.returncode}")
        batteries = parse_ioreg_batteries(result.stdout)
        if not batteries:
            raise SignalUnavailable(NO_BATTERY)
        return batteries
