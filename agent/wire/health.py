"""HealthReport messages from the health collector's records."""

from __future__ import annotations

from agent.collectors.health import (
    BatteryHealth,
    BatteryStatus,
    DiskHealth,
    DiskProtocol,
    HealthSample,
    PressureStall,
    SmartAttribute,
)
from agent.collectors.system import MemoryUsage
from agent.wire.common import timestamp
from parc.v1 import agent_service_pb2 as pb

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1

_BATTERY_STATUS = {
    BatteryStatus.UNKNOWN: pb.BATTERY_STATUS_UNSPECIFIED,
    BatteryStatus.CHARGING: pb.BATTERY_STATUS_CHARGING,
    BatteryStatus.DISCHARGING: pb.BATTERY_STATUS_DISCHARGING,
    BatteryStatus.FULL: pb.BATTERY_STATUS_FULL,
    BatteryStatus.NOT_CHARGING: pb.BATTERY_STATUS_NOT_CHARGING,
}

_DISK_PROTOCOL = {
    DiskProtocol.UNKNOWN: pb.DISK_PROTOCOL_UNSPECIFIED,
    DiskProtocol.ATA: pb.DISK_PROTOCOL_ATA,
    DiskProtocol.NVME: pb.DISK_PROTOCOL_NVME,
    DiskProtocol.SCSI: pb.DISK_PROTOCOL_SCSI,
}


def _u32(value: int) -> int:
    return min(max(0, value), UINT32_MAX)


def _u64(value: int) -> int:
    return min(max(0, value), UINT64_MAX)


def _memory(usage: MemoryUsage) -> pb.MemoryUsage:
    return pb.MemoryUsage(
        total_bytes=_u64(usage.total_bytes),
        used_bytes=_u64(usage.used_bytes),
        percent=usage.percent,
    )


def _load(load: tuple[float, float, float]) -> pb.LoadAverage:
    return pb.LoadAverage(load1=load[0], load5=load[1], load15=load[2])


def _pressure(stall: PressureStall) -> pb.PressureStall:
    return pb.PressureStall(
        some_avg10=stall.some_avg10,
        some_avg60=stall.some_avg60,
        some_avg300=stall.some_avg300,
        full_avg10=stall.full_avg10,
        full_avg60=stall.full_avg60,
        full_avg300=stall.full_avg300,
    )


def _battery(battery: BatteryHealth) -> pb.BatteryHealth:
    message = pb.BatteryHealth(
        name=battery.name,
        manufacturer=battery.manufacturer,
        model=battery.model,
        serial_number=battery.serial_number,
        design_capacity=_u64(battery.design_capacity),
        full_capacity=_u64(battery.full_capacity),
        capacity_unit=battery.capacity_unit,
        status=_BATTERY_STATUS[battery.status],
    )
    wear = battery.wear_percent
    if wear is not None:
        message.wear_percent = wear
    if battery.cycle_count is not None:
        message.cycle_count = _u32(battery.cycle_count)
    if battery.charge_percent is not None:
        message.charge_percent = battery.charge_percent
    return message


def _attribute(attribute: SmartAttribute) -> pb.SmartAttribute:
    return pb.SmartAttribute(
        id=_u32(attribute.id),
        name=attribute.name,
        value=_u32(attribute.value),
        worst=_u32(attribute.worst),
        threshold=_u32(attribute.threshold),
        raw=_u64(attribute.raw),
        when_failed=attribute.when_failed,
    )


def _disk(disk: DiskHealth) -> pb.DiskHealth:
    message = pb.DiskHealth(
        device=disk.device,
        model=disk.model,
        serial_number=disk.serial_number,
        protocol=_DISK_PROTOCOL[disk.protocol],
        smart_available=disk.smart_available,
        unavailable_reason=disk.unavailable_reason,
        exit_status=_u32(disk.exit_status),
        exit_status_flags=list(disk.exit_status_flags),
        attributes=[_attribute(a) for a in disk.attributes],
    )
    if disk.passed is not None:
        message.passed = disk.passed
    if disk.nvme is not None:
        nvme = disk.nvme
        message.nvme.CopyFrom(
            pb.NvmeHealth(
                critical_warning=_u32(nvme.critical_warning),
                percentage_used=_u32(nvme.percentage_used),
                media_errors=_u64(nvme.media_errors),
                available_spare=_u32(nvme.available_spare),
                available_spare_threshold=_u32(nvme.available_spare_threshold),
                unsafe_shutdowns=_u64(nvme.unsafe_shutdowns),
                power_on_hours=_u64(nvme.power_on_hours),
            )
        )
    if disk.temperature_celsius is not None:
        message.temperature_celsius = disk.temperature_celsius
    if disk.power_on_hours is not None:
        message.power_on_hours = _u64(disk.power_on_hours)
    return message


def health_report(sample: HealthSample, report_id: str) -> pb.HealthReport:
    """The HealthReport sent for a sample."""
    signals = sample.signals
    report = pb.HealthReport(
        report_id=report_id,
        sample_time=timestamp(sample.sample_time),
        cpu_percent=sample.cpu_percent,
        memory=_memory(sample.memory),
        swap=_memory(sample.swap),
        load=_load(sample.load),
        filesystems=[
            pb.FilesystemUsage(
                mountpoint=fs.mountpoint,
                device=fs.device,
                fstype=fs.fstype,
                total_bytes=_u64(fs.total_bytes),
                used_bytes=_u64(fs.used_bytes),
                percent=fs.percent,
            )
            for fs in sample.filesystems
        ],
        uptime_seconds=_u64(sample.uptime_seconds),
        temperatures=[
            pb.TemperatureReading(
                sensor=t.sensor,
                label=t.label,
                celsius=t.celsius,
                high_celsius=t.high_celsius,
                critical_celsius=t.critical_celsius,
            )
            for t in signals.temperatures
        ],
        fans=[pb.FanReading(sensor=f.sensor, label=f.label, rpm=_u32(f.rpm)) for f in signals.fans],
        batteries=[_battery(b) for b in signals.batteries],
        disks=[_disk(d) for d in signals.disks],
        unavailable=[
            pb.UnavailableSignal(signal=u.signal, reason=u.reason) for u in signals.unavailable
        ],
    )
    if sample.load_per_core is not None:
        report.load_per_core.CopyFrom(_load(sample.load_per_core))
    if signals.memory_pressure is not None:
        report.memory_pressure.CopyFrom(_pressure(signals.memory_pressure))
    if signals.oom_kills is not None:
        report.oom_kills = _u64(signals.oom_kills)
    if signals.reboot is not None:
        report.reboot_pending = signals.reboot.pending
        report.reboot_pending_reasons.extend(signals.reboot.reasons)
    if signals.updates is not None:
        report.pending_updates = _u32(signals.updates.total)
        if signals.updates.security is not None:
            report.pending_security_updates = _u32(signals.updates.security)
    return report
