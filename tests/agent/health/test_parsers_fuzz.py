"""Every health parser fed random, truncated and structurally wrong input: a result or a
ParseError, never another exception."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.collectors.health import ParseError, SignalUnavailable
from agent.collectors.health.battery import (
    parse_ioreg_batteries,
    parse_windows_batteries,
    read_sysfs_battery,
)
from agent.collectors.health.pressure import parse_oom_kills, parse_psi
from agent.collectors.health.reboot import parse_needs_restarting, parse_reboot_required_pkgs
from agent.collectors.health.sensors import LinuxFans, LinuxTemperatures, scan_hwmon
from agent.collectors.health.smart import parse_device, parse_scan
from agent.collectors.health.updates import (
    parse_apt_check,
    parse_apt_simulation,
    parse_dnf_check_update,
    parse_dnf_security,
    parse_softwareupdate,
    parse_windows_updates,
)
from tests.agent.health.support import FIXTURES

TEXT_PARSERS: dict[str, Callable[[str], object]] = {
    "psi": parse_psi,
    "oom": parse_oom_kills,
    "needs-restarting": lambda t: parse_needs_restarting(1, t),
    "reboot-pkgs": parse_reboot_required_pkgs,
    "apt-check": parse_apt_check,
    "apt-get": parse_apt_simulation,
    "dnf-check": parse_dnf_check_update,
    "dnf-security": parse_dnf_security,
    "windows-updates": parse_windows_updates,
    "softwareupdate": parse_softwareupdate,
    "windows-battery": parse_windows_batteries,
    "smart-scan": parse_scan,
    "smart-device": parse_device,
}

# Each parser with a real sample of its input, to truncate.
SAMPLES: dict[str, str] = {
    "psi": (FIXTURES / "laptop/proc/pressure/memory").read_text(),
    "oom": (FIXTURES / "laptop/proc/vmstat").read_text(),
    "needs-restarting": (FIXTURES / "needs-restarting/reboot.txt").read_text(),
    "reboot-pkgs": (FIXTURES / "laptop/run/reboot-required.pkgs").read_text(),
    "apt-check": "12;4",
    "apt-get": (FIXTURES / "apt/apt-get-s-upgrade.txt").read_text(),
    "dnf-check": (FIXTURES / "dnf/check-update.txt").read_text(),
    "dnf-security": (FIXTURES / "dnf/updateinfo-security.txt").read_text(),
    "windows-updates": (FIXTURES / "windows/updates.json").read_text(),
    "softwareupdate": (FIXTURES / "macos/softwareupdate.txt").read_text(),
    "windows-battery": (FIXTURES / "windows/battery.json").read_text(),
    "smart-scan": (FIXTURES / "smartctl/scan-open.json").read_text(),
    "smart-device": (FIXTURES / "smartctl/sata-failing.json").read_text(),
}

JSON_PARSERS = ("windows-updates", "windows-battery", "smart-scan", "smart-device")

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            [
                "devices", "name", "type", "protocol", "open_error", "smartctl", "exit_status",
                "messages", "string", "severity", "smart_status", "passed",
                "ata_smart_attributes", "table", "id", "value", "worst", "thresh", "raw",
                "when_failed", "nvme_smart_health_information_log", "temperature", "current",
                "power_on_time", "hours", "Updates", "MsrcSeverity", "Categories", "Static",
                "Full", "Cycles", "Status", "InstanceName", "DesignedCapacity",
                "FullChargedCapacity", "CycleCount", "BatteryStatus", "EstimatedChargeRemaining",
            ]
        ),
        children,
        max_size=6,
    ),
    max_leaves=25,
)  # fmt: skip


def accepts(parser: Callable[[str], object], text: str) -> None:
    with contextlib.suppress(ParseError):
        parser(text)


@pytest.mark.parametrize("name", sorted(TEXT_PARSERS))
@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=400))
def test_random_text(name: str, text: str) -> None:
    accepts(TEXT_PARSERS[name], text)


@pytest.mark.parametrize("name", sorted(TEXT_PARSERS))
@settings(max_examples=60, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=1.0))
def test_truncated_sample(name: str, cut: float) -> None:
    sample = SAMPLES[name]
    accepts(TEXT_PARSERS[name], sample[: int(len(sample) * cut)])


@pytest.mark.parametrize("name", JSON_PARSERS)
@settings(max_examples=150, deadline=None)
@given(value=json_values)
def test_json_of_any_shape(name: str, value: Any) -> None:
    accepts(TEXT_PARSERS[name], json.dumps(value))


@pytest.mark.parametrize("name", JSON_PARSERS)
@settings(max_examples=100, deadline=None)
@given(value=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_json_objects_nested_under_real_keys(name: str, value: dict[str, Any]) -> None:
    sample = json.loads(SAMPLES[name])
    sample.update(value)
    accepts(TEXT_PARSERS[name], json.dumps(sample))


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=400))
def test_ioreg_random_bytes(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_ioreg_batteries(data)


@settings(max_examples=60, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=1.0))
def test_ioreg_truncated(cut: float) -> None:
    data = (FIXTURES / "macos/ioreg-battery-apple-silicon.xml").read_bytes()
    with contextlib.suppress(ParseError):
        parse_ioreg_batteries(data[: int(len(data) * cut)])


attribute_text = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
)


@settings(max_examples=80, deadline=None)
@given(
    files=st.dictionaries(
        st.sampled_from(
            [
                "type", "scope", "present", "status", "capacity", "energy_full_design",
                "energy_full", "energy_now", "charge_full_design", "charge_full", "charge_now",
                "cycle_count", "manufacturer", "model_name", "serial_number",
            ]
        ),
        attribute_text,
    )
)  # fmt: skip
def test_sysfs_battery_with_any_file_contents(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "BAT0"
        path.mkdir()
        for name, content in files.items():
            (path / name).write_text(content)
        battery = read_sysfs_battery(path)
        if battery is not None:
            assert battery.design_capacity >= 0 and battery.full_capacity >= 0
            assert battery.charge_percent is None or 0.0 <= battery.charge_percent <= 100.0
            wear = battery.wear_percent
            assert wear is None or 0.0 <= wear <= 100.0


@settings(max_examples=80, deadline=None)
@given(
    files=st.dictionaries(
        st.sampled_from(
            ["name", "temp1_input", "temp1_label", "temp1_max", "temp1_crit", "fan1_input",
             "fan1_label", "temp12_input", "fan3_input"]
        ),
        attribute_text,
    )
)  # fmt: skip
def test_hwmon_with_any_file_contents(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        chip = Path(tmp) / "class" / "hwmon" / "hwmon0"
        chip.mkdir(parents=True)
        for name, content in files.items():
            (chip / name).write_text(content)
        scan = scan_hwmon(Path(tmp))
        assert all(-100.0 <= t.celsius <= 300.0 for t in scan.temperatures)
        assert all(f.rpm >= 0 for f in scan.fans)
        for source in (LinuxTemperatures(Path(tmp)), LinuxFans(Path(tmp))):
            with contextlib.suppress(SignalUnavailable):
                source.read()
