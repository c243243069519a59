"""The inventory collector over each OS's hardware facts, and every new field on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.collectors.inventory import CpuModel, Inventory, InventoryCollector, merge_interfaces
from agent.collectors.system import NetworkInterface
from agent.platform import Platform
from agent.platform.base import FormFactor, NetworkPort
from agent.platform.linux import LinuxPlatform
from agent.wire.inventory import inventory_report
from parc.v1 import agent_service_pb2 as pb
from tests.agent.hardware.support import (
    darwin_platform,
    darwin_runner,
    linux_platform,
    windows_platform,
)
from tests.agent.support import RecordedProbe

WHEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def collect(platform: Platform, probe: RecordedProbe | None = None) -> Inventory:
    collector = InventoryCollector(
        platform,
        probe or RecordedProbe(),
        cpu_model=CpuModel(platform.cpu_model_fallback, reader=lambda: ""),
        hostname=lambda: "host-1",
        clock=lambda: WHEN,
    )
    assert collector.is_supported()
    return collector.collect()


def test_linux_laptop_on_the_wire() -> None:
    probe = RecordedProbe(
        interfaces=[
            NetworkInterface("enp0s31f6", "8c:16:45:aa:bb:cc", ["10.0.0.5"], speed_mbps=100),
            NetworkInterface("wlp0s20f3", "70:9c:d1:11:22:33", ["192.168.1.9"], speed_mbps=0),
        ]
    )
    inventory = collect(linux_platform("laptop", euid=0), probe)
    report = pb.InventoryReport.FromString(inventory_report(inventory, "inv-1").SerializeToString())
    hw = report.hardware
    assert report.os.name == "Ubuntu" and report.os.build == ""
    assert (hw.vendor, hw.model, hw.serial_number) == ("LENOVO", "20W0CTO1WW", "PF2XK4LM")
    assert hw.uuid == "4c4c4544-0042-3910-8052-b4c04f4e5433"
    assert (hw.bios_vendor, hw.bios_version, hw.bios_date) == (
        "LENOVO",
        "N34ET57W (1.57 )",
        "2023-09-14",
    )
    assert hw.chassis_type == 10 and hw.form_factor == pb.FORM_FACTOR_LAPTOP
    assert hw.cpu_model == "11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz"  # the fallback
    assert (hw.cpu_sockets, hw.cpu_cores, hw.cpu_threads) == (1, 8, 16)  # counts from psutil
    assert [(m.slot, m.type, m.speed_mts) for m in hw.memory_modules] == [
        ("Controller0-ChannelA-DIMM0", "DDR4", 3200),
        ("Controller1-ChannelA-DIMM0", "DDR4", 3200),
    ]
    assert hw.memory_modules[0].part_number == "M471A1K43DB1-CWE"
    disk = hw.disks[0]
    assert (disk.name, disk.serial_number, disk.type) == (
        "nvme0n1",
        "S4ENNX0R123456",
        pb.DISK_TYPE_NVME,
    )
    nics = {n.name: n for n in hw.network_interfaces}
    assert nics["enp0s31f6"].speed_mbps == 1000  # sysfs wins over psutil
    assert nics["enp0s31f6"].physical and nics["wlp0s20f3"].physical
    assert list(nics["enp0s31f6"].addresses) == ["10.0.0.5"]
    assert hw.virtualization == ""


def test_kvm_guest_is_a_virtual_machine_whatever_its_chassis() -> None:
    inventory = collect(linux_platform("kvm"))
    assert inventory.hardware.chassis_type == 1
    assert inventory.hardware.form_factor == FormFactor.VIRTUAL_MACHINE
    report = inventory_report(inventory, "inv-2")
    assert report.hardware.form_factor == pb.FORM_FACTOR_VIRTUAL_MACHINE
    assert report.hardware.virtualization == "kvm"


def test_container_on_bare_metal_is_reported_but_not_a_vm(tmp_path: Path) -> None:
    root = tmp_path
    (root / "sys/class/dmi/id").mkdir(parents=True)
    (root / "sys/class/dmi/id/chassis_type").write_text("3\n")
    (root / ".dockerenv").write_text("")
    platform = LinuxPlatform(
        sys_root=root / "sys", etc_root=root, proc_root=root / "proc", usr_lib_root=root
    )
    hardware = collect(platform).hardware
    assert hardware.virtualization == "container:docker"
    assert hardware.form_factor == FormFactor.DESKTOP


def test_windows_laptop_inventory() -> None:
    platform, runner = windows_platform("laptop.json")
    probe = RecordedProbe(
        interfaces=[NetworkInterface("Wi-Fi", "f4:26:79:aa:bb:cc", ["192.168.1.5"], 0)],
        counts=(0, 0),
    )
    inventory = collect(platform, probe)
    assert len(runner.calls) == 1  # the whole inventory from one PowerShell run
    report = inventory_report(inventory, "inv-3")
    assert report.os.family == "windows"
    assert (report.os.name, report.os.version, report.os.build) == (
        "Windows 11 Pro",
        "23H2",
        "22631.3296",
    )
    assert report.os.kernel == "10.0.22631"
    hw = report.hardware
    assert hw.form_factor == pb.FORM_FACTOR_LAPTOP and hw.chassis_type == 10
    assert (hw.cpu_cores, hw.cpu_threads, hw.cpu_sockets) == (4, 8, 1)  # CIM beats psutil
    assert hw.cpu_model == "Intel(R) Core(TM) i7-1185G7 @ 3.00GHz"  # registry fallback
    assert hw.disks[0].type == pb.DISK_TYPE_NVME
    assert hw.network_interfaces[0].speed_mbps == 866
    assert hw.network_interfaces[0].physical


def test_windows_hyperv_form_factor() -> None:
    platform, _ = windows_platform("hyperv.json")
    hardware = collect(platform).hardware
    assert hardware.form_factor == FormFactor.VIRTUAL_MACHINE
    assert hardware.virtualization == "hyperv"


def test_mac_without_chassis_uses_the_model() -> None:
    runner = darwin_runner("imac-intel.json", "ioreg-imac-intel.xml", "sw_vers-13.6.7.txt")
    inventory = collect(darwin_platform(runner))
    hw = inventory.hardware
    assert hw.chassis_type == 0 and hw.form_factor == FormFactor.DESKTOP
    assert inventory.os.build == "22G720"
    assert hw.cpu_model == "Apple M2"  # sysctl fallback, as recorded
    report = inventory_report(inventory, "inv-4")
    assert report.hardware.form_factor == pb.FORM_FACTOR_DESKTOP
    assert report.hardware.disks[1].type == pb.DISK_TYPE_HDD


def test_merge_interfaces_by_name_then_mac() -> None:
    merged = merge_interfaces(
        [
            NetworkInterface("eth0", "aa:bb:cc:00:00:01", ["10.0.0.1"], speed_mbps=100),
            NetworkInterface("Ethernet 3", "aa:bb:cc:00:00:02", [], speed_mbps=1000),
            NetworkInterface("tun0", "", ["10.8.0.1"]),
        ],
        [
            NetworkPort("eth0", "aa:bb:cc:00:00:01", 0, physical=True),
            NetworkPort("Intel NIC", "aa:bb:cc:00:00:02", 2500, physical=True),
        ],
    )
    assert [(n.name, n.speed_mbps, n.physical) for n in merged] == [
        ("eth0", 100, True),  # the platform does not know: psutil's speed
        ("Ethernet 3", 2500, True),  # matched by MAC
        ("tun0", 0, False),
    ]


def test_failing_probe_parts_leave_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenProbe(RecordedProbe):
        def network_interfaces(self) -> list[NetworkInterface]:
            raise OSError("netlink refused")

    inventory = collect(linux_platform("laptop"), BrokenProbe())
    assert inventory.hardware.network_interfaces == []
    assert inventory.hardware.vendor == "LENOVO"
    assert "netlink refused" in caplog.text


def test_values_out_of_range_are_clamped_on_the_wire() -> None:
    inventory = collect(linux_platform("laptop"), RecordedProbe(counts=(-1, 2**40)))
    report = inventory_report(inventory, "inv-5")
    assert report.hardware.cpu_cores == 0
    assert report.hardware.cpu_threads == 2**32 - 1
