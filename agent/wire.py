"""Conversion of the collectors' records into parc.v1 messages: protobuf stays at this edge."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from agent.collectors.health import HealthSample
from agent.collectors.inventory import Inventory
from agent.collectors.system import MemoryUsage
from parc.v1 import agent_service_pb2 as pb


def timestamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def _memory(usage: MemoryUsage) -> pb.MemoryUsage:
    return pb.MemoryUsage(
        total_bytes=max(0, usage.total_bytes),
        used_bytes=max(0, usage.used_bytes),
        percent=usage.percent,
    )


def health_report(sample: HealthSample, report_id: str) -> pb.HealthReport:
    """The HealthReport sent for a sample."""
    load1, load5, load15 = sample.load
    return pb.HealthReport(
        report_id=report_id,
        sample_time=timestamp(sample.sample_time),
        cpu_percent=sample.cpu_percent,
        memory=_memory(sample.memory),
        swap=_memory(sample.swap),
        load=pb.LoadAverage(load1=load1, load5=load5, load15=load15),
        filesystems=[
            pb.FilesystemUsage(
                mountpoint=fs.mountpoint,
                device=fs.device,
                fstype=fs.fstype,
                total_bytes=max(0, fs.total_bytes),
                used_bytes=max(0, fs.used_bytes),
                percent=fs.percent,
            )
            for fs in sample.filesystems
        ],
        uptime_seconds=max(0, sample.uptime_seconds),
    )


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
