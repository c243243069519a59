"""InventoryReport messages from the inventory collectors' records."""

from __future__ import annotations

from typing import Final

from agent.collectors.inventory import Inventory
from agent.platform.base import DiskType, FormFactor
from agent.wire.common import timestamp
from parc.v1 import agent_service_pb2 as pb

FORM_FACTORS: Final = {
    FormFactor.UNKNOWN: pb.FORM_FACTOR_UNSPECIFIED,
    FormFactor.LAPTOP: pb.FORM_FACTOR_LAPTOP,
    FormFactor.DESKTOP: pb.FORM_FACTOR_DESKTOP,
    FormFactor.SERVER: pb.FORM_FACTOR_SERVER,
    FormFactor.VIRTUAL_MACHINE: pb.FORM_FACTOR_VIRTUAL_MACHINE,
    FormFactor.TABLET: pb.FORM_FACTOR_TABLET,
}

DISK_TYPES: Final = {
    DiskType.UNKNOWN: pb.DISK_TYPE_UNSPECIFIED,
    DiskType.HDD: pb.DISK_TYPE_HDD,
    DiskType.SSD: pb.DISK_TYPE_SSD,
    DiskType.NVME: pb.DISK_TYPE_NVME,
}

_UINT32_MAX: Final = 2**32 - 1
_UINT64_MAX: Final = 2**64 - 1


def _u32(value: int) -> int:
    return min(max(0, value), _UINT32_MAX)


def _u64(value: int) -> int:
    return min(max(0, value), _UINT64_MAX)


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
            build=os_.build,
        ),
        hardware=pb.Hardware(
            vendor=hw.vendor,
            model=hw.model,
            serial_number=hw.serial_number,
            cpu_model=hw.cpu_model,
            cpu_cores=_u32(hw.cpu_cores),
            cpu_threads=_u32(hw.cpu_threads),
            memory_total_bytes=_u64(hw.memory_total_bytes),
            disks=[
                pb.Disk(
                    name=d.name,
                    model=d.model,
                    size_bytes=_u64(d.size_bytes),
                    serial_number=d.serial_number,
                    type=DISK_TYPES[d.type],
                )
                for d in hw.disks
            ],
            network_interfaces=[
                pb.NetworkInterface(
                    name=n.name,
                    mac_address=n.mac_address,
                    addresses=n.addresses,
                    speed_mbps=_u32(n.speed_mbps),
                    physical=n.physical,
                )
                for n in hw.network_interfaces
            ],
            uuid=hw.uuid,
            bios_vendor=hw.bios_vendor,
            bios_version=hw.bios_version,
            bios_date=hw.bios_date,
            chassis_type=_u32(hw.chassis_type),
            form_factor=FORM_FACTORS[hw.form_factor],
            cpu_sockets=_u32(hw.cpu_sockets),
            memory_modules=[
                pb.MemoryModule(
                    slot=m.slot,
                    size_bytes=_u64(m.size_bytes),
                    type=m.type,
                    speed_mts=_u32(m.speed_mts),
                    manufacturer=m.manufacturer,
                    part_number=m.part_number,
                    serial_number=m.serial_number,
                )
                for m in hw.memory_modules
            ],
            virtualization=hw.virtualization,
        ),
    )
