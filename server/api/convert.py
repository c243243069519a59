"""Protobuf messages ↔ the collector's typed records. Protobuf goes no further than here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from google.protobuf.timestamp_pb2 import Timestamp

from parc.v1 import agent_service_pb2 as pb
from server.services.errors import InvalidArgument
from server.services.records import (
    AgentFacts,
    DiskFacts,
    Enrollment,
    FilesystemSample,
    HealthSample,
    InterfaceFacts,
    InventorySnapshot,
    PendingCommand,
)

AckStatus = Literal["succeeded", "failed", "rejected"]

SEND_INVENTORY = "send_inventory"

COMMAND_KINDS: dict[str, pb.CommandKind] = {
    SEND_INVENTORY: pb.COMMAND_KIND_SEND_INVENTORY,
}

ACK_STATUSES: dict[pb.CommandStatus, AckStatus] = {
    pb.COMMAND_STATUS_SUCCEEDED: "succeeded",
    pb.COMMAND_STATUS_FAILED: "failed",
    pb.COMMAND_STATUS_REJECTED: "rejected",
}


def to_datetime(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def to_timestamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


def _required_time(message: pb.HealthReport | pb.InventoryReport, name: str) -> datetime:
    if not message.HasField(name):
        raise InvalidArgument(f"report {message.report_id!r} has no {name}")
    stamp: Timestamp = getattr(message, name)
    return to_datetime(stamp)


def agent_facts(info: pb.AgentInfo) -> AgentFacts:
    return AgentFacts(
        hostname=info.hostname, agent_version=info.agent_version, os_family=info.os_family
    )


def enroll_response(enrollment: Enrollment) -> pb.EnrollResponse:
    return pb.EnrollResponse(
        device_id=enrollment.device_id,
        certificate_pem=enrollment.certificate_pem,
        ca_certificate_pem=enrollment.ca_certificate_pem,
        package_signing_public_key=enrollment.signing_public_key,
        tenant=enrollment.tenant,
        site=enrollment.site,
    )


def health_sample(report: pb.HealthReport) -> HealthSample:
    return HealthSample(
        report_id=report.report_id,
        sample_time=_required_time(report, "sample_time"),
        cpu_percent=report.cpu_percent,
        memory_total_bytes=report.memory.total_bytes,
        memory_used_bytes=report.memory.used_bytes,
        memory_percent=report.memory.percent,
        swap_total_bytes=report.swap.total_bytes,
        swap_used_bytes=report.swap.used_bytes,
        swap_percent=report.swap.percent,
        load1=report.load.load1,
        load5=report.load.load5,
        load15=report.load.load15,
        uptime_seconds=report.uptime_seconds,
        filesystems=tuple(
            FilesystemSample(
                mountpoint=fs.mountpoint,
                device=fs.device,
                fstype=fs.fstype,
                total_bytes=fs.total_bytes,
                used_bytes=fs.used_bytes,
                percent=fs.percent,
            )
            for fs in report.filesystems
        ),
    )


def inventory_snapshot(report: pb.InventoryReport) -> InventorySnapshot:
    os_info, hardware = report.os, report.hardware
    return InventorySnapshot(
        report_id=report.report_id,
        collect_time=_required_time(report, "collect_time"),
        os_family=os_info.family,
        os_name=os_info.name,
        os_version=os_info.version,
        kernel=os_info.kernel,
        hostname=os_info.hostname,
        vendor=hardware.vendor,
        model=hardware.model,
        serial_number=hardware.serial_number,
        cpu_model=hardware.cpu_model,
        cpu_cores=hardware.cpu_cores,
        cpu_threads=hardware.cpu_threads,
        memory_total_bytes=hardware.memory_total_bytes,
        disks=tuple(
            DiskFacts(name=disk.name, model=disk.model, size_bytes=disk.size_bytes)
            for disk in hardware.disks
        ),
        interfaces=tuple(
            InterfaceFacts(
                name=nic.name, mac_address=nic.mac_address, addresses=tuple(nic.addresses)
            )
            for nic in hardware.network_interfaces
        ),
    )


def ack_status(status: pb.CommandStatus) -> AckStatus:
    try:
        return ACK_STATUSES[status]
    except KeyError:
        raise InvalidArgument("a command acknowledgement needs a status") from None


def command_message(command: PendingCommand) -> pb.ConnectResponse:
    return pb.ConnectResponse(
        command=pb.Command(
            command_id=command.command_id,
            kind=COMMAND_KINDS.get(command.kind, pb.COMMAND_KIND_UNSPECIFIED),
            payload=command.payload,
            create_time=to_timestamp(command.created_at),
        )
    )


def heartbeat_ack(sequence: int, now: datetime) -> pb.ConnectResponse:
    return pb.ConnectResponse(
        heartbeat_ack=pb.HeartbeatAck(sequence=sequence, server_time=to_timestamp(now))
    )
