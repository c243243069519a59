"""SoftwareInventory messages from records."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.collectors.software import InstalledSoftware, SoftwareInventory, SoftwareSource
from agent.wire.software import SOURCES, software_inventory
from parc.v1 import agent_service_pb2 as pb


def test_every_source_has_a_wire_value() -> None:
    assert set(SOURCES) == set(SoftwareSource)
    assert pb.SOFTWARE_SOURCE_UNSPECIFIED not in SOURCES.values()


def test_rows_become_packages() -> None:
    when = datetime(2024, 1, 15, tzinfo=UTC)
    message = software_inventory(
        SoftwareInventory(
            (
                InstalledSoftware(
                    "7-Zip", "23.01", "Igor Pavlov", SoftwareSource.MSI, "", when, "{G}"
                ),
                InstalledSoftware("bash", "5.2", "", SoftwareSource.RPM, "x86_64"),
            )
        )
    )
    first, second = message.packages
    assert first.name == "7-Zip"
    assert first.source == pb.SOFTWARE_SOURCE_MSI
    assert first.install_time.ToDatetime(tzinfo=UTC) == when
    assert first.identifier == "{G}"
    assert second.architecture == "x86_64"
    assert not second.HasField("install_time")
    assert pb.SoftwareInventory.FromString(message.SerializeToString()) == message
