"""SoftwareInventory messages from the software collector's records."""

from __future__ import annotations

from agent.collectors.software.records import SoftwareInventory, SoftwareSource
from agent.wire.common import timestamp
from parc.v1 import agent_service_pb2 as pb

SOURCES: dict[SoftwareSource, pb.SoftwareSource] = {
    SoftwareSource.DEB: pb.SOFTWARE_SOURCE_DEB,
    SoftwareSource.RPM: pb.SOFTWARE_SOURCE_RPM,
    SoftwareSource.MSI: pb.SOFTWARE_SOURCE_MSI,
    SoftwareSource.REGISTRY: pb.SOFTWARE_SOURCE_REGISTRY,
    SoftwareSource.APP_BUNDLE: pb.SOFTWARE_SOURCE_APP_BUNDLE,
    SoftwareSource.SNAP: pb.SOFTWARE_SOURCE_SNAP,
    SoftwareSource.FLATPAK: pb.SOFTWARE_SOURCE_FLATPAK,
    SoftwareSource.MSIX: pb.SOFTWARE_SOURCE_MSIX,
}


def software_inventory(inventory: SoftwareInventory) -> pb.SoftwareInventory:
    """The SoftwareInventory section for an inventory, rows in the collector's order."""
    message = pb.SoftwareInventory()
    for row in inventory.packages:
        package = message.packages.add(
            name=row.name,
            version=row.version,
            publisher=row.publisher,
            source=SOURCES.get(row.source, pb.SOFTWARE_SOURCE_UNSPECIFIED),
            architecture=row.architecture,
            identifier=row.identifier,
        )
        if row.install_time is not None:
            package.install_time.CopyFrom(timestamp(row.install_time))
    return message
