"""Everything the collector holds about one device, read back into records.

The JSON columns are read leniently: keys a newer collector added are ignored and keys an
older one did not write take the record's default, so rows of every revision read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.services.records import (
    BatteryHealth,
    DiskFacts,
    DiskHealth,
    FanReading,
    FilesystemSample,
    HealthSample,
    InterfaceFacts,
    InventorySnapshot,
    LicenceFacts,
    MemoryModule,
    NvmeHealth,
    PackageLicence,
    PressureStall,
    ProductActivation,
    SectionState,
    SmartAttribute,
    SoftwarePackage,
    TemperatureReading,
    UnavailableSignal,
)
from server.store.models import (
    DeclaredLicenceRow,
    DeviceActivationRow,
    DeviceInventoryRow,
    DevicePackageLicenceRow,
    DeviceSoftwareRow,
    HealthSampleRow,
    InventorySectionRow,
    SoftwareTitleRow,
)

R = TypeVar("R")


def _record(cls: type[R], data: Mapping[str, Any], **overrides: Any) -> R:
    """``cls`` from a JSON object, taking only the fields ``cls`` has."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {key: value for key, value in data.items() if key in names}
    values.update(overrides)
    return cls(**values)


async def load_inventory(session: AsyncSession, device_id: str) -> InventorySnapshot | None:
    row = await session.get(DeviceInventoryRow, device_id)
    if row is None:
        return None
    return InventorySnapshot(
        report_id=row.report_id,
        collect_time=row.collect_time,
        os_family=row.os_family,
        os_name=row.os_name,
        os_version=row.os_version,
        os_build=row.os_build,
        kernel=row.kernel,
        hostname=row.hostname,
        vendor=row.vendor,
        model=row.model,
        serial_number=row.serial_number,
        uuid=row.uuid,
        bios_vendor=row.bios_vendor,
        bios_version=row.bios_version,
        bios_date=row.bios_date,
        chassis_type=row.chassis_type,
        form_factor=row.form_factor,
        virtualization=row.virtualization,
        cpu_model=row.cpu_model,
        cpu_sockets=row.cpu_sockets,
        cpu_cores=row.cpu_cores,
        cpu_threads=row.cpu_threads,
        memory_total_bytes=row.memory_total_bytes,
        memory_modules=tuple(_record(MemoryModule, m) for m in row.memory_modules or ()),
        disks=tuple(_record(DiskFacts, d) for d in row.disks or ()),
        interfaces=tuple(
            _record(InterfaceFacts, i, addresses=tuple(i.get("addresses", ())))
            for i in row.interfaces or ()
        ),
    )


async def load_latest_health(session: AsyncSession, device_id: str) -> HealthSample | None:
    row = await session.scalar(
        select(HealthSampleRow)
        .where(HealthSampleRow.device_id == device_id)
        .order_by(HealthSampleRow.sample_time.desc(), HealthSampleRow.id.desc())
        .limit(1)
    )
    return None if row is None else sample_from_row(row)


def sample_from_row(row: HealthSampleRow) -> HealthSample:
    """A stored health sample as the record the agent sent."""
    return HealthSample(
        report_id=row.report_id,
        sample_time=row.sample_time,
        cpu_percent=row.cpu_percent,
        memory_total_bytes=row.memory_total_bytes,
        memory_used_bytes=row.memory_used_bytes,
        memory_percent=row.memory_percent,
        swap_total_bytes=row.swap_total_bytes,
        swap_used_bytes=row.swap_used_bytes,
        swap_percent=row.swap_percent,
        load1=row.load1,
        load5=row.load5,
        load15=row.load15,
        uptime_seconds=row.uptime_seconds,
        filesystems=tuple(_record(FilesystemSample, f) for f in row.filesystems or ()),
        load1_per_core=row.load1_per_core,
        load5_per_core=row.load5_per_core,
        load15_per_core=row.load15_per_core,
        temperatures=tuple(_record(TemperatureReading, t) for t in row.temperatures or ()),
        fans=tuple(_record(FanReading, f) for f in row.fans or ()),
        memory_pressure=(
            _record(PressureStall, row.memory_pressure) if row.memory_pressure else None
        ),
        oom_kills=row.oom_kills,
        reboot_pending=row.reboot_pending,
        reboot_pending_reasons=tuple(row.reboot_pending_reasons or ()),
        pending_updates=row.pending_updates,
        pending_security_updates=row.pending_security_updates,
        batteries=tuple(_record(BatteryHealth, b) for b in row.batteries or ()),
        disks=tuple(_disk_health(d) for d in row.disk_health or ()),
        unavailable=tuple(_record(UnavailableSignal, u) for u in row.unavailable or ()),
    )


def _disk_health(data: Mapping[str, Any]) -> DiskHealth:
    nvme = data.get("nvme")
    return _record(
        DiskHealth,
        data,
        exit_status_flags=tuple(data.get("exit_status_flags", ())),
        attributes=tuple(_record(SmartAttribute, a) for a in data.get("attributes", ())),
        nvme=_record(NvmeHealth, nvme) if isinstance(nvme, Mapping) else None,
    )


async def load_software(session: AsyncSession, device_id: str) -> tuple[SoftwarePackage, ...]:
    rows = await session.execute(
        select(
            SoftwareTitleRow.name,
            DeviceSoftwareRow.version,
            SoftwareTitleRow.publisher,
            SoftwareTitleRow.source,
            DeviceSoftwareRow.architecture,
            DeviceSoftwareRow.install_time,
            DeviceSoftwareRow.identifier,
        )
        .join(SoftwareTitleRow, SoftwareTitleRow.id == DeviceSoftwareRow.title_id)
        .where(DeviceSoftwareRow.device_id == device_id)
        .order_by(SoftwareTitleRow.name, DeviceSoftwareRow.version, DeviceSoftwareRow.id)
    )
    return tuple(SoftwarePackage(*row) for row in rows)


async def load_licences(session: AsyncSession, device_id: str) -> LicenceFacts:
    activations = await session.execute(
        select(
            DeviceActivationRow.product,
            DeviceActivationRow.name,
            DeviceActivationRow.channel,
            DeviceActivationRow.state,
            DeviceActivationRow.partial_product_key,
        )
        .where(DeviceActivationRow.device_id == device_id)
        .order_by(DeviceActivationRow.product, DeviceActivationRow.name)
    )
    packages = await session.execute(
        select(
            DevicePackageLicenceRow.package,
            DeclaredLicenceRow.source,
            DeclaredLicenceRow.spdx,
            DeclaredLicenceRow.declared,
        )
        .join(DeclaredLicenceRow, DeclaredLicenceRow.id == DevicePackageLicenceRow.licence_id)
        .where(DevicePackageLicenceRow.device_id == device_id)
        .order_by(DevicePackageLicenceRow.package, DeclaredLicenceRow.source)
    )
    return LicenceFacts(
        activations=tuple(ProductActivation(*row) for row in activations),
        packages=tuple(PackageLicence(*row) for row in packages),
    )


async def load_sections(session: AsyncSession, device_id: str) -> tuple[SectionState, ...]:
    rows = await session.scalars(
        select(InventorySectionRow)
        .where(InventorySectionRow.device_id == device_id)
        .order_by(InventorySectionRow.section)
    )
    return tuple(
        SectionState(
            section=row.section,
            content_hash=row.content_hash,
            report_id=row.report_id,
            collect_time=row.collect_time,
            received_at=row.received_at,
        )
        for row in rows
    )
