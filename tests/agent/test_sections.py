"""Sending an unchanged inventory section as its hash alone."""

from __future__ import annotations

import json
from pathlib import Path

from agent.sections import SectionMemory, section_hashes
from parc.v1 import agent_service_pb2 as pb


def report(
    packages: tuple[str, ...] = ("bash", "curl"), serial: str = "ABC123"
) -> pb.InventoryReport:
    return pb.InventoryReport(
        report_id="r",
        os=pb.OperatingSystem(family="linux", name="Debian", version="12"),
        hardware=pb.Hardware(vendor="Dell", serial_number=serial),
        software=pb.SoftwareInventory(
            packages=[pb.SoftwarePackage(name=p, version="1") for p in packages]
        ),
        licences=pb.LicenceInventory(
            packages=[pb.PackageLicence(package="bash", declared="GPL-3+", spdx="GPL-3.0-or-later")]
        ),
    )


def test_hashes_are_stable_and_change_with_content() -> None:
    first, again = section_hashes(report()), section_hashes(report())
    assert first == again
    assert set(first) == {"hardware", "software", "licences"}
    changed = section_hashes(report(packages=("bash",)))
    assert changed["software"] != first["software"]
    assert changed["hardware"] == first["hardware"]
    assert section_hashes(report(serial="XYZ"))["hardware"] != first["hardware"]


def test_first_inventory_goes_in_full_and_the_next_unchanged_one_as_hashes(tmp_path: Path) -> None:
    memory = SectionMemory(tmp_path / "sections.json")
    sent = memory.prepare(report())
    assert sent.HasField("hardware") and sent.HasField("software") and sent.HasField("licences")
    assert len(sent.software_sha256) == 32

    unchanged = memory.prepare(report())
    for field in ("os", "hardware", "software", "licences"):
        assert not unchanged.HasField(field)
    assert unchanged.software_sha256 == sent.software_sha256
    assert unchanged.hardware_sha256 == sent.hardware_sha256
    # A hash-only inventory is tiny.
    assert unchanged.ByteSize() < 200


def test_only_the_changed_section_is_sent(tmp_path: Path) -> None:
    memory = SectionMemory(tmp_path / "sections.json")
    memory.prepare(report())
    changed = memory.prepare(report(packages=("bash", "curl", "git")))
    assert changed.HasField("software")
    assert [p.name for p in changed.software.packages] == ["bash", "curl", "git"]
    assert not changed.HasField("hardware")
    assert not changed.HasField("licences")


def test_memory_survives_a_restart_and_forgetting_forces_a_full_inventory(tmp_path: Path) -> None:
    path = tmp_path / "sections.json"
    SectionMemory(path).prepare(report())
    restarted = SectionMemory(path)
    assert not restarted.prepare(report()).HasField("software")
    restarted.forget()
    assert json.loads(path.read_text()) == {}
    assert SectionMemory(path).prepare(report()).HasField("software")


def test_full_sends_every_section_even_when_unchanged(tmp_path: Path) -> None:
    memory = SectionMemory(tmp_path / "sections.json")
    memory.prepare(report())
    full = memory.prepare(report(), full=True)
    assert full.HasField("hardware") and full.HasField("software") and full.HasField("licences")


def test_a_missing_section_has_no_hash_and_does_not_erase_the_memory(tmp_path: Path) -> None:
    memory = SectionMemory(tmp_path / "sections.json")
    memory.prepare(report())
    partial = report()
    partial.ClearField("software")
    sent = memory.prepare(partial)
    assert sent.software_sha256 == b""
    assert "software" in memory.remembered


def test_an_unreadable_memory_file_means_a_full_inventory(tmp_path: Path) -> None:
    path = tmp_path / "sections.json"
    path.write_text("{not json")
    assert SectionMemory(path).prepare(report()).HasField("software")
