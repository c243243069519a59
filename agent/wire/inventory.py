"""InventoryReport messages from the inventory collectors' records."""

from __future__ import annotations

from agent.collectors.inventory import Inventory
from agent.wire.common import timestamp
from parc.v1 import agent_service_pb2 as pb


def inventory_report(inventory: Inventory, report_id: str) -> pb.InventoryReport:
    """The InventoryReport sent for an inventory."""
    os_ = inventory.os
    hw = inventory.hardware
    return pb.InventoryReport(
        report_id=report_id,
        collect_time=timestamp(inventory.collect_time),
        os=pb.OperatingSystem(
            family=os_.family,
            name=os_.name,
            version=os_.version,
            kernel=os_.kernel,
            hostname=os_.hostname,
        ),
        hardware=pb.Hardware(
            vendor=hw.vendor,
            model=hw.model,
            serial_number=hw.serial_number,
            cpu_model=hw.cpu_model,
            cpu_cores=max(0, hw.cpu_cores),
            cpu_threads=max(0, hw.cpu_threads),
            memory_total_bytes=max(0, hw.memory_total_bytes),
            disks=[
                pb.Disk(name=d.name, model=d.model, size_bytes=max(0, d.size_bytes))
                for d in hw.disks
            ],
            network_interfaces=[
                pb.NetworkInterface(name=n.name, mac_address=n.mac_address, addresses=n.addresses)
                for n in hw.network_interfaces
            ],
        ),
    )
