"""Disk SMART through smartctl JSON: healthy SATA, failing SATA, NVMe, a refusing USB bridge."""

from __future__ import annotations

import json

import pytest

from agent.collectors.health import DiskProtocol, ParseError, SignalUnavailable
from agent.collectors.health.smart import (
    SCAN,
    ScannedDevice,
    SmartDisks,
    decode_exit_status,
    parse_device,
    parse_scan,
)
from tests.agent.health.support import fixture, text
from tests.agent.recorded import RecordedRunner, Recording


def device(
    name: str, kind: str = "sat", protocol: DiskProtocol = DiskProtocol.ATA
) -> ScannedDevice:
    return ScannedDevice(name, kind, protocol)


def recorded_machine() -> RecordedRunner:
    sda, sdb, sdc = device("/dev/sda"), device("/dev/sdb"), device("/dev/sdc")
    nvme = device("/dev/nvme0", "nvme", DiskProtocol.NVME)
    return RecordedRunner(
        {
            SCAN: Recording(fixture("smartctl/scan-open.json")),
            sda.command(): Recording(fixture("smartctl/sata-healthy.json")),
            sdb.command(): Recording(fixture("smartctl/sata-failing.json"), 120),
            nvme.command(): Recording(fixture("smartctl/nvme.json")),
            sdc.command(): Recording(fixture("smartctl/usb-bridge.json"), 2),
        }
    )


def test_scan_open_lists_devices_with_their_types() -> None:
    devices = parse_scan(text("smartctl/scan-open.json"))
    assert [(d.name, d.type, d.protocol) for d in devices] == [
        ("/dev/sda", "sat", DiskProtocol.ATA),
        ("/dev/sdb", "sat", DiskProtocol.ATA),
        ("/dev/nvme0", "nvme", DiskProtocol.NVME),
        ("/dev/sdc", "sat", DiskProtocol.ATA),
    ]


def test_scan_drops_names_that_would_be_options() -> None:
    scan = {"devices": [{"name": "--all", "type": "sat"}, {"name": "/dev/sda", "type": "-x"}]}
    assert parse_scan(json.dumps(scan)) == []


def test_each_device_read_without_waking_it() -> None:
    assert device("/dev/sda").command() == (
        "smartctl", "--json", "-a", "-n", "standby", "-d", "sat", "/dev/sda",
    )  # fmt: skip


def test_healthy_sata_disk() -> None:
    disk = parse_device(text("smartctl/sata-healthy.json"))
    assert (disk.device, disk.model, disk.serial_number) == (
        "/dev/sda",
        "ST1000DM010-2EP102",
        "ZN1ABCDE",
    )
    assert disk.protocol is DiskProtocol.ATA
    assert disk.smart_available and disk.passed is True
    assert (disk.exit_status, disk.exit_status_flags) == (0, ())
    assert [a.id for a in disk.attributes] == [5, 187, 197, 198]
    assert all(a.raw == 0 and a.when_failed == "" for a in disk.attributes)
    assert (disk.temperature_celsius, disk.power_on_hours) == (36.0, 36055)
    assert disk.nvme is None


def test_failing_sata_disk_verdict_bits_and_attributes() -> None:
    disk = parse_device(text("smartctl/sata-failing.json"))
    assert disk.passed is False
    assert disk.exit_status == 120
    assert disk.exit_status_flags == (
        "disk failing",
        "prefail attributes at or below threshold",
        "attributes at or below threshold in the past",
        "error log has errors",
    )
    by_id = {a.id: a for a in disk.attributes}
    assert sorted(by_id) == [5, 187, 197, 198, 199]  # 199 kept: it failed in the past
    reallocated = by_id[5]
    assert (reallocated.value, reallocated.worst, reallocated.threshold) == (3, 3, 140)
    assert (reallocated.raw, reallocated.when_failed) == (1987, "now")
    assert by_id[199].when_failed == "past"
    assert (by_id[197].raw, by_id[198].raw) == (24, 17)


def test_nvme_health_log() -> None:
    disk = parse_device(text("smartctl/nvme.json"))
    assert disk.protocol is DiskProtocol.NVME
    assert disk.passed is True
    assert disk.attributes == ()
    assert disk.nvme is not None
    nvme = disk.nvme
    assert (nvme.critical_warning, nvme.percentage_used, nvme.media_errors) == (0, 3, 0)
    assert (nvme.available_spare, nvme.available_spare_threshold) == (100, 10)
    assert (nvme.unsafe_shutdowns, nvme.power_on_hours) == (87, 5231)
    assert disk.temperature_celsius == 38.0


def test_usb_bridge_that_refuses_smart_says_why() -> None:
    disk = parse_device(text("smartctl/usb-bridge.json"))
    assert not disk.smart_available
    assert disk.passed is None
    assert "Read Device Identity failed" in disk.unavailable_reason
    assert disk.exit_status_flags == ("device open failed or device in low-power mode",)


def test_every_exit_status_bit_decodes() -> None:
    assert len(decode_exit_status(0xFF)) == 8
    assert decode_exit_status(1) == ("command line did not parse",)
    assert decode_exit_status(4) == ("SMART command failed or checksum error",)
    assert decode_exit_status(128) == ("self-test log has errors",)


def test_whole_machine_through_the_runner() -> None:
    disks = SmartDisks(recorded_machine(), lambda: False).read()
    assert [(d.device, d.smart_available, d.passed) for d in disks] == [
        ("/dev/sda", True, True),
        ("/dev/sdb", True, False),
        ("/dev/nvme0", True, True),
        ("/dev/sdc", False, None),
    ]


def test_virtual_machine_is_skipped_without_running_smartctl() -> None:
    runner = recorded_machine()
    with pytest.raises(SignalUnavailable, match="virtual machine"):
        SmartDisks(runner, lambda: True).read()
    assert runner.calls == []


def test_smartctl_absent_is_unavailable() -> None:
    with pytest.raises(SignalUnavailable, match="smartctl not installed"):
        SmartDisks(RecordedRunner({}), lambda: False).read()


def test_not_root_is_permission_denied() -> None:
    runner = RecordedRunner({SCAN: Recording(fixture("smartctl/scan-open-not-root.json"))})
    with pytest.raises(SignalUnavailable, match="permission denied"):
        SmartDisks(runner, lambda: False).read()


def test_one_device_timing_out_does_not_lose_the_others() -> None:
    runner = recorded_machine()
    runner.recordings = {
        **runner.recordings,
        device("/dev/sdb").command(): Recording(timeout=True),
    }
    disks = SmartDisks(runner, lambda: False).read()
    assert [d.smart_available for d in disks] == [True, False, True, False]
    assert "did not finish" in disks[1].unavailable_reason


def test_device_output_not_json_is_reported_on_that_disk() -> None:
    runner = recorded_machine()
    runner.recordings = {
        **runner.recordings,
        device("/dev/sda").command(): Recording(b"Segmentation fault", 139),
    }
    disks = SmartDisks(runner, lambda: False).read()
    assert not disks[0].smart_available and "not JSON" in disks[0].unavailable_reason


def test_scan_not_json_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_scan("/dev/sda -d sat # /dev/sda [SAT], ATA device")
