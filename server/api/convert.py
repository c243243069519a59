"""Protobuf messages ↔ the collector's typed records. Protobuf goes no further than here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from google.protobuf.timestamp_pb2 import Timestamp

from parc.v1 import agent_service_pb2 as pb
from server.services.errors import InvalidArgument
from server.services.records import (
    AgentFacts,
    BatteryHealth,
    DiskFacts,
    DiskHealth,
    Enrollment,
    FanReading,
    FilesystemSample,
    HealthSample,
    InterfaceFacts,
    InventoryReceipt,
    InventorySnapshot,
    LicenceFacts,
    MemoryModule,
    NvmeHealth,
    PackageLicence,
    PendingCommand,
    PressureStall,
    ProductActivation,
    SmartAttribute,
    SoftwarePackage,
    TemperatureReading,
    UnavailableSignal,
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

# Enums become the records' lowercase names; UNSPECIFIED and values newer than this
# collector become "" (unknown).
FORM_FACTORS: dict[int, str] = {
    pb.FORM_FACTOR_LAPTOP: "laptop",
    pb.FORM_FACTOR_DESKTOP: "desktop",
    pb.FORM_FACTOR_SERVER: "server",
    pb.FORM_FACTOR_VIRTUAL_MACHINE: "virtual_machine",
    pb.FORM_FACTOR_TABLET: "tablet",
}
DISK_TYPES: dict[int, str] = {
    pb.DISK_TYPE_HDD: "hdd",
    pb.DISK_TYPE_SSD: "ssd",
    pb.DISK_TYPE_NVME: "nvme",
}
DISK_PROTOCOLS: dict[int, str] = {
    pb.DISK_PROTOCOL_ATA: "ata",
    pb.DISK_PROTOCOL_NVME: "nvme",
    pb.DISK_PROTOCOL_SCSI: "scsi",
}
BATTERY_STATUSES: dict[int, str] = {
    pb.BATTERY_STATUS_CHARGING: "charging",
    pb.BATTERY_STATUS_DISCHARGING: "discharging",
    pb.BATTERY_STATUS_FULL: "full",
    pb.BATTERY_STATUS_NOT_CHARGING: "not_charging",
}
SOFTWARE_SOURCES: dict[int, str] = {
    pb.SOFTWARE_SOURCE_DEB: "deb",
    pb.SOFTWARE_SOURCE_RPM: "rpm",
    pb.SOFTWARE_SOURCE_MSI: "msi",
    pb.SOFTWARE_SOURCE_REGISTRY: "registry",
    pb.SOFTWARE_SOURCE_APP_BUNDLE: "app_bundle",
    pb.SOFTWARE_SOURCE_SNAP: "snap",
    pb.SOFTWARE_SOURCE_FLATPAK: "flatpak",
    pb.SOFTWARE_SOURCE_MSIX: "msix",
}
ACTIVATION_STATES: dict[int, str] = {
    pb.ACTIVATION_STATE_LICENSED: "licensed",
    pb.ACTIVATION_STATE_UNLICENSED: "unlicensed",
    pb.ACTIVATION_STATE_GRACE: "grace",
    pb.ACTIVATION_STATE_NOTIFICATION: "notification",
}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Timestamp's own range (0001-01-01 to 9999-12-31): within it the arithmetic below is exact.
_SECONDS_MIN, _SECONDS_MAX = -62135596800, 253402300799


def to_datetime(stamp: Timestamp) -> datetime:
    """``stamp.ToDatetime(tzinfo=UTC)``, without its checks' cost in the common case.

    An inventory carries one install time per package: protobuf's pure-Python conversion
    was a tenth of the collector's time under an inventory storm. A stamp out of range is
    left to protobuf, which raises as before.
    """
    seconds, nanos = stamp.seconds, stamp.nanos
    if _SECONDS_MIN <= seconds <= _SECONDS_MAX and 0 <= nanos <= 999_999_999:
        # timedelta(days, seconds, microseconds): positional is a third cheaper.
        return _EPOCH + timedelta(0, seconds, nanos // 1000)
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


def _optional(message: Any, name: str) -> Any:
    """A proto3 ``optional`` scalar, or None when unset."""
    return getattr(message, name) if message.HasField(name) else None


def health_sample(report: pb.HealthReport) -> HealthSample:
    per_core = report.load_per_core if report.HasField("load_per_core") else None
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
        load1_per_core=per_core.load1 if per_core else None,
        load5_per_core=per_core.load5 if per_core else None,
        load15_per_core=per_core.load15 if per_core else None,
        temperatures=tuple(
            TemperatureReading(
                sensor=t.sensor,
                label=t.label,
                celsius=t.celsius,
                high_celsius=_optional(t, "high_celsius"),
                critical_celsius=_optional(t, "critical_celsius"),
            )
            for t in report.temperatures
        ),
        fans=tuple(FanReading(sensor=f.sensor, label=f.label, rpm=f.rpm) for f in report.fans),
        memory_pressure=(
            _pressure(report.memory_pressure) if report.HasField("memory_pressure") else None
        ),
        oom_kills=_optional(report, "oom_kills"),
        reboot_pending=_optional(report, "reboot_pending"),
        reboot_pending_reasons=tuple(report.reboot_pending_reasons),
        pending_updates=_optional(report, "pending_updates"),
        pending_security_updates=_optional(report, "pending_security_updates"),
        batteries=tuple(_battery(b) for b in report.batteries),
        disks=tuple(_disk_health(d) for d in report.disks),
        unavailable=tuple(
            UnavailableSignal(signal=u.signal, reason=u.reason) for u in report.unavailable
        ),
    )


def _pressure(psi: pb.PressureStall) -> PressureStall:
    return PressureStall(
        some_avg10=psi.some_avg10,
        some_avg60=psi.some_avg60,
        some_avg300=psi.some_avg300,
        full_avg10=psi.full_avg10,
        full_avg60=psi.full_avg60,
        full_avg300=psi.full_avg300,
    )


def _battery(battery: pb.BatteryHealth) -> BatteryHealth:
    return BatteryHealth(
        name=battery.name,
        manufacturer=battery.manufacturer,
        model=battery.model,
        serial_number=battery.serial_number,
        design_capacity=battery.design_capacity,
        full_capacity=battery.full_capacity,
        capacity_unit=battery.capacity_unit,
        wear_percent=_optional(battery, "wear_percent"),
        cycle_count=_optional(battery, "cycle_count"),
        charge_percent=_optional(battery, "charge_percent"),
        status=BATTERY_STATUSES.get(battery.status, ""),
    )


def _disk_health(disk: pb.DiskHealth) -> DiskHealth:
    nvme = disk.nvme if disk.HasField("nvme") else None
    return DiskHealth(
        device=disk.device,
        model=disk.model,
        serial_number=disk.serial_number,
        protocol=DISK_PROTOCOLS.get(disk.protocol, ""),
        smart_available=disk.smart_available,
        unavailable_reason=disk.unavailable_reason,
        passed=_optional(disk, "passed"),
        exit_status=disk.exit_status,
        exit_status_flags=tuple(disk.exit_status_flags),
        attributes=tuple(
            SmartAttribute(
                id=a.id,
                name=a.name,
                value=a.value,
                worst=a.worst,
                threshold=a.threshold,
                raw=a.raw,
                when_failed=a.when_failed,
            )
            for a in disk.attributes
        ),
        nvme=(
            NvmeHealth(
                critical_warning=nvme.critical_warning,
                percentage_used=nvme.percentage_used,
                media_errors=nvme.media_errors,
                available_spare=nvme.available_spare,
                available_spare_threshold=nvme.available_spare_threshold,
                unsafe_shutdowns=nvme.unsafe_shutdowns,
                power_on_hours=nvme.power_on_hours,
            )
            if nvme is not None
            else None
        ),
        temperature_celsius=_optional(disk, "temperature_celsius"),
        power_on_hours=_optional(disk, "power_on_hours"),
    )


def inventory_snapshot(report: pb.InventoryReport) -> InventorySnapshot:
    """An inventory report; a section left unset (sent as its hash alone) stays out."""
    os_info, hardware = report.os, report.hardware
    return InventorySnapshot(
        report_id=report.report_id,
        collect_time=_required_time(report, "collect_time"),
        os_family=os_info.family,
        os_name=os_info.name,
        os_version=os_info.version,
        os_build=os_info.build,
        kernel=os_info.kernel,
        hostname=os_info.hostname,
        vendor=hardware.vendor,
        model=hardware.model,
        serial_number=hardware.serial_number,
        uuid=hardware.uuid,
        bios_vendor=hardware.bios_vendor,
        bios_version=hardware.bios_version,
        bios_date=hardware.bios_date,
        chassis_type=hardware.chassis_type,
        form_factor=FORM_FACTORS.get(hardware.form_factor, ""),
        virtualization=hardware.virtualization,
        cpu_model=hardware.cpu_model,
        cpu_sockets=hardware.cpu_sockets,
        cpu_cores=hardware.cpu_cores,
        cpu_threads=hardware.cpu_threads,
        memory_total_bytes=hardware.memory_total_bytes,
        memory_modules=tuple(
            MemoryModule(
                slot=m.slot,
                size_bytes=m.size_bytes,
                type=m.type,
                speed_mts=m.speed_mts,
                manufacturer=m.manufacturer,
                part_number=m.part_number,
                serial_number=m.serial_number,
            )
            for m in hardware.memory_modules
        ),
        disks=tuple(
            DiskFacts(
                name=disk.name,
                model=disk.model,
                size_bytes=disk.size_bytes,
                serial_number=disk.serial_number,
                type=DISK_TYPES.get(disk.type, ""),
            )
            for disk in hardware.disks
        ),
        interfaces=tuple(
            InterfaceFacts(
                name=nic.name,
                mac_address=nic.mac_address,
                addresses=tuple(nic.addresses),
                speed_mbps=nic.speed_mbps,
                physical=nic.physical,
            )
            for nic in hardware.network_interfaces
        ),
        # The same rule as the agent's: the section is present when either message is set;
        # with neither and no hash either (an agent older than hashes), it is sent in full.
        hardware_included=(
            report.HasField("os") or report.HasField("hardware") or not report.hardware_sha256
        ),
        hardware_hash=report.hardware_sha256.hex(),
        software=(
            tuple(_software_package(p) for p in report.software.packages)
            if report.HasField("software")
            else None
        ),
        software_hash=report.software_sha256.hex(),
        licences=_licences(report.licences) if report.HasField("licences") else None,
        licences_hash=report.licences_sha256.hex(),
    )


def _software_package(package: pb.SoftwarePackage) -> SoftwarePackage:
    # Positional (in field order): hundreds per inventory, and keywords cost a third more.
    return SoftwarePackage(
        package.name,
        package.version,
        package.publisher,
        SOFTWARE_SOURCES.get(package.source, ""),
        package.architecture,
        to_datetime(package.install_time) if package.HasField("install_time") else None,
        package.identifier,
    )


def _licences(licences: pb.LicenceInventory) -> LicenceFacts:
    return LicenceFacts(
        activations=tuple(
            ProductActivation(
                product=a.product,
                name=a.name,
                channel=a.channel,
                state=ACTIVATION_STATES.get(a.state, ""),
                partial_product_key=a.partial_product_key,
            )
            for a in licences.activations
        ),
        packages=tuple(
            PackageLicence(p.package, p.source, p.spdx, p.declared) for p in licences.packages
        ),
    )


def inventory_response(receipt: InventoryReceipt) -> pb.ReportInventoryResponse:
    return pb.ReportInventoryResponse(
        accepted_report_ids=receipt.accepted_report_ids,
        full_inventory_requested=receipt.full_inventory_requested,
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
