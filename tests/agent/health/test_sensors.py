"""Temperatures and fans from hwmon and thermal-zone fixture trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.collectors.health import SignalUnavailable, TemperatureReading
from agent.collectors.health.sensors import LinuxFans, LinuxTemperatures, scan_hwmon
from tests.agent.health.support import FIXTURES

LAPTOP = FIXTURES / "laptop" / "sys"


def test_hwmon_temperatures_in_celsius_with_labels_and_thresholds() -> None:
    readings = LinuxTemperatures(LAPTOP).read()
    assert readings == [
        TemperatureReading("acpitz", "", 48.0, None, 128.0),
        TemperatureReading("coretemp", "Package id 0", 52.0, 100.0, 100.0),
        TemperatureReading("coretemp", "Core 0", 49.5, 100.0, 100.0),
    ]


def test_disconnected_sensor_is_skipped_not_reported_as_absolute_zero() -> None:
    labels = [t.label for t in scan_hwmon(LAPTOP).temperatures]
    assert "Core 1" not in labels


def test_fans_in_rpm_including_a_stopped_one() -> None:
    fans = LinuxFans(LAPTOP).read()
    assert [(f.sensor, f.label, f.rpm) for f in fans] == [
        ("thinkpad", "", 2650),
        ("thinkpad", "GPU fan", 0),
    ]


def test_thermal_zones_are_the_fallback_with_trip_points() -> None:
    readings = LinuxTemperatures(FIXTURES / "charge-battery" / "sys").read()
    assert readings[0] == TemperatureReading("x86_pkg_temp", "thermal_zone0", 61.0, 95.0, 105.0)
    assert [r.sensor for r in readings] == ["x86_pkg_temp", "INT3400 Thermal"]


def test_no_sensors_is_unavailable_with_a_reason() -> None:
    with pytest.raises(SignalUnavailable, match="no temperature sensors"):
        LinuxTemperatures(FIXTURES / "server" / "sys").read()
    with pytest.raises(SignalUnavailable, match="no fan sensors"):
        LinuxFans(FIXTURES / "server" / "sys").read()


def test_missing_sys_root_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SignalUnavailable):
        LinuxTemperatures(tmp_path / "nothing").read()


def test_hwmon_chips_in_natural_order(tmp_path: Path) -> None:
    for index in (10, 2):
        chip = tmp_path / "class" / "hwmon" / f"hwmon{index}"
        chip.mkdir(parents=True)
        (chip / "name").write_text(f"chip{index}\n")
        (chip / "temp1_input").write_text("30000\n")
    assert [t.sensor for t in LinuxTemperatures(tmp_path).read()] == ["chip2", "chip10"]


def test_each_source_reads_only_its_own_kind_of_input() -> None:
    assert scan_hwmon(LAPTOP, ("fan",)).temperatures == []
    assert scan_hwmon(LAPTOP, ("temp",)).fans == []
    assert len(scan_hwmon(LAPTOP).fans) == 2
