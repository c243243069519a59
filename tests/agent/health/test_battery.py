"""Batteries on Linux (sysfs energy_* and charge_*), Windows (CIM JSON) and macOS (ioreg)."""

from __future__ import annotations

import pytest

from agent.collectors.health import BatteryHealth, BatteryStatus, ParseError, SignalUnavailable
from agent.collectors.health.battery import (
    IOREG_BATTERY,
    WINDOWS_BATTERY_COMMAND,
    LinuxBatteries,
    MacBatteries,
    WindowsBatteries,
    parse_ioreg_batteries,
    parse_windows_batteries,
)
from tests.agent.health.support import FIXTURES, fixture, text
from tests.agent.recorded import RecordedRunner, Recording


def test_linux_energy_battery_in_mwh_and_the_mouse_is_skipped() -> None:
    [battery] = LinuxBatteries(FIXTURES / "laptop" / "sys").read()
    assert battery == BatteryHealth(
        name="BAT0",
        manufacturer="LGC",
        model="5B10W13975",
        serial_number="1234",
        design_capacity=57_000,
        full_capacity=45_600,
        capacity_unit="mWh",
        cycle_count=312,
        charge_percent=81.0,
        status=BatteryStatus.CHARGING,
    )
    assert battery.wear_percent == pytest.approx(20.0)


def test_linux_charge_battery_in_mah_with_charge_computed() -> None:
    [battery] = LinuxBatteries(FIXTURES / "charge-battery" / "sys").read()
    assert (battery.name, battery.capacity_unit) == ("BAT1", "mAh")
    assert (battery.design_capacity, battery.full_capacity) == (5_800, 4_930)
    assert battery.wear_percent == pytest.approx(15.0)
    assert battery.charge_percent == pytest.approx(50.0)
    assert battery.cycle_count is None
    assert battery.status is BatteryStatus.DISCHARGING


def test_no_battery_is_unavailable() -> None:
    with pytest.raises(SignalUnavailable, match="no battery"):
        LinuxBatteries(FIXTURES / "server" / "sys").read()


def test_wear_is_zero_when_better_than_new_and_unknown_without_design() -> None:
    assert BatteryHealth("B", design_capacity=100, full_capacity=104).wear_percent == 0.0
    assert BatteryHealth("B", design_capacity=0, full_capacity=104).wear_percent is None


def test_windows_cim_battery_joined_by_instance() -> None:
    runner = RecordedRunner({WINDOWS_BATTERY_COMMAND: Recording(fixture("windows/battery.json"))})
    [battery] = WindowsBatteries(runner).read()
    assert battery.manufacturer == "SMP" and battery.serial_number == "2518"
    assert (battery.design_capacity, battery.full_capacity, battery.capacity_unit) == (
        57_020,
        48_467,
        "mWh",
    )
    assert battery.cycle_count == 211
    assert battery.charge_percent == 96.0
    assert battery.status is BatteryStatus.NOT_CHARGING
    assert battery.wear_percent == pytest.approx(15.0, abs=0.01)


def test_windows_cim_unrolled_objects_and_missing_cycle_class() -> None:
    [battery] = parse_windows_batteries(text("windows/battery-unrolled.json"))
    assert battery.cycle_count is None
    assert battery.status is BatteryStatus.DISCHARGING
    assert battery.wear_percent == 0.0  # full above design: not worse than new


def test_windows_without_battery_is_unavailable() -> None:
    runner = RecordedRunner(
        {WINDOWS_BATTERY_COMMAND: Recording(fixture("windows/battery-none.json"))}
    )
    with pytest.raises(SignalUnavailable, match="no battery"):
        WindowsBatteries(runner).read()


def test_windows_cim_not_json_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_windows_batteries("Get-CimInstance : Access denied")


def test_macos_apple_silicon_uses_raw_max_capacity_in_mah() -> None:
    runner = RecordedRunner(
        {IOREG_BATTERY: Recording(fixture("macos/ioreg-battery-apple-silicon.xml"))}
    )
    [battery] = MacBatteries(runner).read()
    assert (battery.design_capacity, battery.full_capacity, battery.capacity_unit) == (
        6_075,
        5_103,
        "mAh",
    )
    assert battery.cycle_count == 187
    assert battery.charge_percent == 76.0
    assert battery.status is BatteryStatus.CHARGING
    assert battery.serial_number == "F8Y2345678901ABCD"
    assert battery.wear_percent == pytest.approx(16.0, abs=0.01)


def test_macos_intel_max_capacity_is_mah() -> None:
    [battery] = parse_ioreg_batteries(fixture("macos/ioreg-battery-intel.xml"))
    assert (battery.design_capacity, battery.full_capacity) == (6_669, 5_500)
    assert battery.charge_percent == pytest.approx(80.0)
    assert battery.status is BatteryStatus.DISCHARGING
    assert battery.serial_number == "D865033Y2CXF9CPAW"


def test_macos_without_battery_prints_nothing() -> None:
    runner = RecordedRunner({IOREG_BATTERY: Recording(b"")})
    with pytest.raises(SignalUnavailable, match="no battery"):
        MacBatteries(runner).read()


def test_macos_truncated_plist_is_a_parse_error() -> None:
    data = fixture("macos/ioreg-battery-intel.xml")
    with pytest.raises(ParseError):
        parse_ioreg_batteries(data[: len(data) // 2])
