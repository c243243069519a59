"""Protobuf → records: sections in full or by hash, optional scalars, enums."""

from __future__ import annotations

from datetime import UTC, datetime

from parc.v1 import agent_service_pb2 as pb
from server.api import convert
from server.services.records import InventoryReceipt, PackageLicence, SoftwarePackage
from tests.server.api.conftest import health_report
from tests.server.api.test_inventory_api import full_report, health_with_signals, sha


def test_a_report_of_hashes_alone_has_no_sections() -> None:
    report = pb.InventoryReport(
        report_id="r",
        hardware_sha256=sha("h"),
        software_sha256=sha("s"),
        licences_sha256=sha("l"),
    )
    report.collect_time.FromDatetime(datetime(2026, 1, 1, tzinfo=UTC))
    snapshot = convert.inventory_snapshot(report)
    assert not snapshot.hardware_included
    assert snapshot.software is None and snapshot.licences is None
    # Raw digests on the wire, hex in the records and the store.
    assert (snapshot.hardware_hash, snapshot.software_hash, snapshot.licences_hash) == (
        sha("h").hex(),
        sha("s").hex(),
        sha("l").hex(),
    )


def test_an_empty_software_section_is_a_section() -> None:
    report = full_report("r")
    report.software.ClearField("packages")
    assert report.HasField("software")
    assert convert.inventory_snapshot(report).software == ()


def test_a_report_without_hashes_is_a_full_hardware_section() -> None:
    # What an agent from before section hashes sends.
    report = pb.InventoryReport(report_id="r")
    report.collect_time.FromDatetime(datetime(2026, 1, 1, tzinfo=UTC))
    snapshot = convert.inventory_snapshot(report)
    assert snapshot.hardware_included and snapshot.software is None


def test_every_identity_field_and_enum_is_converted() -> None:
    snapshot = convert.inventory_snapshot(full_report("r"))
    assert snapshot.form_factor == "laptop"
    assert snapshot.disks[0].type == "nvme"
    assert snapshot.interfaces[0].physical and snapshot.interfaces[0].speed_mbps == 1000
    assert snapshot.memory_modules[0].part_number == "M471A2K43EB1"
    assert snapshot.software is not None
    assert [(p.source, p.identifier) for p in snapshot.software] == [
        ("deb", ""),
        ("snap", "firefox"),
    ]
    assert snapshot.software[0].install_time == datetime(2025, 1, 2, tzinfo=UTC)
    assert snapshot.software[1].install_time is None
    assert snapshot.licences is not None
    assert snapshot.licences.activations[0].state == "licensed"


def test_each_package_and_licence_field_lands_in_its_own_field() -> None:
    # Packages and licences are built positionally: every field a different value.
    report = pb.InventoryReport(report_id="r")
    report.collect_time.FromDatetime(datetime(2026, 1, 1, tzinfo=UTC))
    package = report.software.packages.add(
        name="n",
        version="v",
        publisher="p",
        source=pb.SOFTWARE_SOURCE_SNAP,
        architecture="a",
        identifier="i",
    )
    package.install_time.FromDatetime(datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC))
    report.licences.packages.add(package="pk", source="so", spdx="sp", declared="de")
    snapshot = convert.inventory_snapshot(report)
    assert snapshot.software == (
        SoftwarePackage(
            name="n",
            version="v",
            publisher="p",
            source="snap",
            architecture="a",
            install_time=datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
            identifier="i",
        ),
    )
    assert snapshot.licences is not None
    assert snapshot.licences.packages == (
        PackageLicence(package="pk", source="so", spdx="sp", declared="de"),
    )


def test_unset_optional_health_signals_are_unknown() -> None:
    sample = convert.health_sample(health_report("r"))
    assert sample.oom_kills is None and sample.reboot_pending is None
    assert sample.pending_updates is None and sample.load1_per_core is None
    assert sample.memory_pressure is None
    full = convert.health_sample(health_with_signals("r"))
    assert (full.oom_kills, full.reboot_pending, full.pending_updates) == (2, True, 12)
    assert full.load1_per_core == 0.0625
    assert full.batteries[0].status == "discharging"
    assert full.batteries[0].charge_percent is None
    assert full.disks[0].protocol == "ata" and full.disks[0].passed is False
    assert full.disks[0].nvme is None
    assert full.memory_pressure is not None and full.memory_pressure.some_avg10 == 0.5


def test_an_unknown_enum_value_is_unknown_not_an_error() -> None:
    report = full_report("r")
    report.hardware.form_factor = 99  # type: ignore[assignment]
    assert convert.inventory_snapshot(report).form_factor == ""


def test_the_receipt_becomes_the_response() -> None:
    response = convert.inventory_response(InventoryReceipt(["a", "b"], True))
    assert list(response.accepted_report_ids) == ["a", "b"]
    assert response.full_inventory_requested
