"""Full inventories and health signals through the real TLS server, read back by the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from parc.v1 import agent_service_pb2 as pb
from server.settings import ServerFile
from tests.server.api.conftest import WAIT_S, Harness, health_report

PARTIAL_KEY = "3V66T"


def sha(text: str) -> bytes:
    """A section digest as the agent sends it (32 raw bytes)."""
    return hashlib.sha256(text.encode()).digest()


def full_report(report_id: str) -> pb.InventoryReport:
    """An inventory with every section in full and every identity field set."""
    report = pb.InventoryReport(
        report_id=report_id,
        os=pb.OperatingSystem(
            family="linux",
            name="Debian GNU/Linux",
            version="12",
            kernel="6.1.0-18-amd64",
            hostname="pc-1",
            build="6.1.76-1",
        ),
        hardware=pb.Hardware(
            vendor="LENOVO",
            model="ThinkPad T14",
            serial_number="PF3ABCDE",
            cpu_model="AMD Ryzen 7 PRO 5850U",
            cpu_cores=8,
            cpu_threads=16,
            memory_total_bytes=16 << 30,
            disks=[
                pb.Disk(
                    name="nvme0n1",
                    model="Samsung PM9A1",
                    size_bytes=512 << 30,
                    serial_number="S6Z1NX0T",
                    type=pb.DISK_TYPE_NVME,
                )
            ],
            network_interfaces=[
                pb.NetworkInterface(
                    name="eth0",
                    mac_address="00:11:22:33:44:55",
                    addresses=["192.0.2.10"],
                    speed_mbps=1000,
                    physical=True,
                )
            ],
            uuid="4c4c4544-0042-3510-8052-b4c04f4e3332",
            bios_vendor="LENOVO",
            bios_version="R1MET56W (1.26)",
            bios_date="2023-05-11",
            chassis_type=10,
            form_factor=pb.FORM_FACTOR_LAPTOP,
            cpu_sockets=1,
            memory_modules=[
                pb.MemoryModule(
                    slot="DIMM 0",
                    size_bytes=16 << 30,
                    type="DDR4",
                    speed_mts=3200,
                    manufacturer="Samsung",
                    part_number="M471A2K43EB1",
                    serial_number="S1",
                )
            ],
        ),
        hardware_sha256=sha("hardware"),
        software=pb.SoftwareInventory(
            packages=[
                pb.SoftwarePackage(
                    name="bash",
                    version="5.2.15-2+b2",
                    publisher="Debian",
                    source=pb.SOFTWARE_SOURCE_DEB,
                    architecture="amd64",
                ),
                pb.SoftwarePackage(
                    name="firefox",
                    version="128.0",
                    publisher="Mozilla",
                    source=pb.SOFTWARE_SOURCE_SNAP,
                    identifier="firefox",
                ),
            ]
        ),
        software_sha256=sha("software"),
        licences=pb.LicenceInventory(
            activations=[
                pb.ProductActivation(
                    product="windows",
                    name="Windows 11 Pro",
                    channel="Retail",
                    state=pb.ACTIVATION_STATE_LICENSED,
                    partial_product_key=PARTIAL_KEY,
                )
            ],
            packages=[
                pb.PackageLicence(
                    package="bash",
                    source="debian-copyright",
                    spdx="GPL-3.0-or-later",
                    declared="GPL-3+",
                )
            ],
        ),
        licences_sha256=sha("licences"),
    )
    report.collect_time.FromDatetime(datetime.now(UTC))
    report.software.packages[0].install_time.FromDatetime(datetime(2025, 1, 2, tzinfo=UTC))
    return report


def health_with_signals(report_id: str) -> pb.HealthReport:
    report = health_report(report_id)
    report.load_per_core.CopyFrom(pb.LoadAverage(load1=0.0625, load5=0.05, load15=0.04))
    report.temperatures.append(
        pb.TemperatureReading(sensor="coretemp", label="Package id 0", celsius=54.0)
    )
    report.fans.append(pb.FanReading(sensor="thinkpad", label="fan1", rpm=2900))
    report.memory_pressure.CopyFrom(pb.PressureStall(some_avg10=0.5))
    report.oom_kills = 2
    report.reboot_pending = True
    report.reboot_pending_reasons.append("/var/run/reboot-required")
    report.pending_updates = 12
    report.pending_security_updates = 3
    report.batteries.append(
        pb.BatteryHealth(
            name="BAT0",
            design_capacity=57000,
            full_capacity=48450,
            capacity_unit="mWh",
            wear_percent=15.0,
            cycle_count=312,
            status=pb.BATTERY_STATUS_DISCHARGING,
        )
    )
    report.disks.append(
        pb.DiskHealth(
            device="/dev/sda",
            protocol=pb.DISK_PROTOCOL_ATA,
            smart_available=True,
            passed=False,
            exit_status=8,
            exit_status_flags=["disk failing"],
            attributes=[
                pb.SmartAttribute(id=5, name="Reallocated_Sector_Ct", threshold=140, raw=2000)
            ],
        )
    )
    report.unavailable.append(pb.UnavailableSignal(signal="smart", reason="virtual machine"))
    return report


async def report_inventory(
    harness: Harness, stub: Any, *reports: pb.InventoryReport
) -> pb.ReportInventoryResponse:
    response: pb.ReportInventoryResponse = await stub.ReportInventory(
        pb.ReportInventoryRequest(reports=list(reports)), timeout=WAIT_S
    )
    return response


async def test_every_section_is_accepted_and_an_unknown_hash_asks_for_everything(
    harness: Harness,
) -> None:
    agent = await harness.enroll()
    stub = harness.agent_stub(agent)
    first = await report_inventory(harness, stub, full_report("inv-1"))
    assert list(first.accepted_report_ids) == ["inv-1"]
    assert not first.full_inventory_requested
    assert harness.rows("SELECT COUNT(*) FROM device_software") == [(2,)]

    unchanged = pb.InventoryReport(
        report_id="inv-2",
        hardware_sha256=sha("hardware"),
        software_sha256=sha("software"),
        licences_sha256=sha("licences"),
    )
    unchanged.collect_time.FromDatetime(datetime.now(UTC))
    second = await report_inventory(harness, stub, unchanged)
    assert list(second.accepted_report_ids) == ["inv-2"]
    assert not second.full_inventory_requested

    unknown = pb.InventoryReport(
        report_id="inv-3", hardware_sha256=sha("hardware"), software_sha256=sha("never sent")
    )
    unknown.collect_time.FromDatetime(datetime.now(UTC))
    third = await report_inventory(harness, stub, unknown)
    assert list(third.accepted_report_ids) == ["inv-3"]
    assert third.full_inventory_requested
    assert harness.rows("SELECT COUNT(*) FROM inventory_reports") == [(3,)]
    assert harness.rows("SELECT COUNT(*) FROM device_software") == [(2,)]  # nothing lost


async def test_a_six_character_partial_key_is_refused_and_nothing_stored(
    harness: Harness,
) -> None:
    agent = await harness.enroll()
    report = full_report("inv-1")
    report.licences.activations[0].partial_product_key = "ABCDEF"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await report_inventory(harness, harness.agent_stub(agent), report)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "partial product key" in (caught.value.details() or "")
    assert harness.rows("SELECT COUNT(*) FROM inventory_reports") == [(0,)]
    assert harness.rows("SELECT COUNT(*) FROM device_activations") == [(0,)]


def parc_server(harness: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    """``parc-server ARGS --data-dir …`` as another process on the collector's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARC_")}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args, "--data-dir", str(harness.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def device_show(harness: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    return parc_server(harness, "device", "show", *args)


async def test_device_show_prints_what_the_agent_sent(harness: Harness) -> None:
    agent = await harness.enroll()
    stub = harness.agent_stub(agent)
    await report_inventory(harness, stub, full_report("inv-1"))
    await stub.ReportHealth(
        pb.ReportHealthRequest(reports=[health_with_signals("h-1")]), timeout=WAIT_S
    )
    ServerFile(hostnames=("localhost",)).write(harness.data_dir)

    done = await asyncio.to_thread(device_show, harness, agent.device_id, "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)

    assert shown["device"]["device_id"] == agent.device_id
    assert shown["device"]["form_factor"] == "laptop"
    hardware = shown["inventory"]
    assert hardware["uuid"] == "4c4c4544-0042-3510-8052-b4c04f4e3332"
    assert hardware["bios_version"] == "R1MET56W (1.26)"
    assert hardware["bios_date"] == "2023-05-11"
    assert hardware["form_factor"] == "laptop"
    assert hardware["os_build"] == "6.1.76-1"
    assert hardware["disks"][0]["type"] == "nvme"
    assert hardware["disks"][0]["serial_number"] == "S6Z1NX0T"
    assert hardware["interfaces"][0]["speed_mbps"] == 1000
    assert hardware["memory_modules"][0]["speed_mts"] == 3200
    health = shown["health"]
    assert health["temperatures"][0]["celsius"] == 54.0
    assert health["batteries"][0]["wear_percent"] == 15.0
    assert health["batteries"][0]["status"] == "discharging"
    assert health["disks"][0]["passed"] is False
    assert health["disks"][0]["exit_status_flags"] == ["disk failing"]
    assert health["pending_updates"] == 12
    assert health["reboot_pending"] is True
    assert health["unavailable"] == [{"signal": "smart", "reason": "virtual machine"}]
    assert health["load1_per_core"] == 0.0625
    assert shown["software_count"] == 2
    assert [(p["name"], p["source"]) for p in shown["software"]] == [
        ("bash", "deb"),
        ("firefox", "snap"),
    ]
    assert shown["software"][0]["install_time"] == "2025-01-02T00:00:00+00:00"
    assert shown["licences"]["activations"][0]["partial_product_key"] == PARTIAL_KEY
    assert shown["licences"]["packages"][0]["spdx"] == "GPL-3.0-or-later"
    assert {s["section"] for s in shown["sections"]} == {"hardware", "software", "licences"}

    text = await asyncio.to_thread(device_show, harness, agent.device_id)
    assert text.returncode == 0, text.stderr
    for expected in (
        "4c4c4544-0042-3510-8052-b4c04f4e3332",
        "laptop",
        "NVME",
        "S6Z1NX0T",
        "1000 Mbit/s",
        "54.0 °C",
        "wear 15.0%",
        "FAILED [disk failing]",
        "pending updates  12 (3 security)",
        "reboot pending   yes",
        "smart: virtual machine",
        "Software: 2 installed",
        "key ...3V66T",
    ):
        assert expected in text.stdout, expected

    listing = await asyncio.to_thread(parc_server, harness, "devices", "--json")
    assert listing.returncode == 0, listing.stderr
    [row] = json.loads(listing.stdout)
    assert (row["os_name"], row["os_version"], row["form_factor"]) == (
        "Debian GNU/Linux",
        "12",
        "laptop",
    )


async def test_device_show_of_an_unknown_device_fails_clearly(harness: Harness) -> None:
    ServerFile(hostnames=("localhost",)).write(harness.data_dir)
    done = await asyncio.to_thread(device_show, harness, "no-such-device")
    assert done.returncode == 1
    assert "no-such-device" in done.stderr
    assert "Traceback" not in done.stderr
