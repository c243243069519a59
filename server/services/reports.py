"""Health samples and inventory reports sent by agents.

Reports arrive in batches and may be resent after any failure: each report id is stored
once per device, the whole batch is checked before anything is stored, and a batch is
stored in one transaction. Inventory sections are stored by ``server.services.inventory``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TypeVar, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services import inventory
from server.services.clock import Clock, utc_now
from server.services.device_state import ReceivedHealth, record_health_in
from server.services.devices import touch_in
from server.services.errors import InvalidArgument
from server.services.records import (
    DeviceIdentity,
    HealthSample,
    InventoryReceipt,
    InventorySnapshot,
)
from server.services.validation import validate_health, validate_inventory
from server.services.validation import validate_report_id as validate_report_id
from server.store.batch import BatchWriter, run_grouped, run_large, run_write
from server.store.dialect import upsert_insert
from server.store.models import HealthSampleRow

log = logging.getLogger(__name__)

MAX_BATCH = 500

_HEALTH_SAMPLES = cast(Table, HealthSampleRow.__table__)

_Report = TypeVar("_Report", HealthSample, InventorySnapshot)


class ReportService:
    """Stores what agents report, each report once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock = utc_now,
        writer: BatchWriter | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._writer = writer

    async def store_health(
        self, identity: DeviceIdentity, samples: Sequence[HealthSample]
    ) -> list[str]:
        """Store a batch of health samples; return every report id of the batch."""
        _check_batch_size(samples)
        for sample in samples:
            validate_health(sample)
        now = self._clock()
        fresh = _first_of_each(samples)
        if fresh:
            # Set-based with the other agents' health reports of the writer's batch (one
            # transaction per batch).
            report = _HealthReport(identity.device_id, fresh, now)
            await run_grouped(self._writer, self._sessions, _store_health_reports, report)
        else:

            async def touch(session: AsyncSession) -> None:
                await touch_in(session, identity.device_id, now)

            await run_write(self._writer, self._sessions, touch)
        return [sample.report_id for sample in samples]

    async def store_inventory(
        self, identity: DeviceIdentity, snapshots: Sequence[InventorySnapshot]
    ) -> InventoryReceipt:
        """Store a batch of inventory reports, oldest first, each report id once.

        Of each section the newest sent in full (by collect time) is stored; a section sent
        as its hash alone is compared with the one held. When the collector does not hold
        it, the receipt asks for a full inventory; the rest of the batch is stored anyway.
        Reports already stored before are not looked at again.
        """
        _check_batch_size(snapshots)
        for snapshot in snapshots:
            validate_inventory(snapshot)
        now = self._clock()
        device_id = identity.device_id

        async def store(session: AsyncSession) -> inventory.SectionPlan:
            await inventory.lock_device(session, device_id)
            fresh = await _not_yet_stored(session, device_id, _first_of_each(snapshots))
            plan = inventory.plan_sections(await inventory.held_sections(session, device_id), fresh)
            await inventory.record_reports(session, device_id, fresh, now)
            await _store_sections(session, device_id, plan, now)
            await touch_in(session, device_id, now)
            return plan

        plan = await run_large(self._writer, self._sessions, store)
        if plan.full_inventory_requested:
            log.info(
                "device %s sent a section the collector lacks: full inventory asked", device_id
            )
        return InventoryReceipt(
            accepted_report_ids=[snapshot.report_id for snapshot in snapshots],
            full_inventory_requested=plan.full_inventory_requested,
        )


async def _not_yet_stored(
    session: AsyncSession, device_id: str, snapshots: list[InventorySnapshot]
) -> list[InventorySnapshot]:
    if not snapshots:
        return []
    stored = await inventory.stored_report_ids(
        session, device_id, [snapshot.report_id for snapshot in snapshots]
    )
    return [snapshot for snapshot in snapshots if snapshot.report_id not in stored]


async def _store_sections(
    session: AsyncSession, device_id: str, plan: inventory.SectionPlan, now: datetime
) -> None:
    saved: list[tuple[str, str, InventorySnapshot]] = []
    hardware = plan.to_store.get(inventory.HARDWARE)
    if hardware is not None:
        await inventory.store_hardware(session, device_id, hardware, now)
        saved.append((inventory.HARDWARE, hardware.hardware_hash, hardware))
    software = plan.to_store.get(inventory.SOFTWARE)
    if software is not None and software.software is not None:
        changes = await inventory.store_software(session, device_id, software.software)
        log.debug("device %s software: %s", device_id, changes)
        saved.append((inventory.SOFTWARE, software.software_hash, software))
    licences = plan.to_store.get(inventory.LICENCES)
    if licences is not None and licences.licences is not None:
        changes = await inventory.store_licences(session, device_id, licences.licences)
        log.debug("device %s licences: %s", device_id, changes)
        saved.append((inventory.LICENCES, licences.licences_hash, licences))
    await inventory.save_sections(session, device_id, saved, now)


@dataclass(frozen=True)
class _HealthReport:
    device_id: str
    samples: list[HealthSample]  # each report id once
    received_at: datetime


async def _store_health_reports(session: AsyncSession, reports: list[_HealthReport]) -> list[None]:
    """Store many devices' health reports with a few statements for all of them.

    A device with several reports in the list has them stored and judged one after the
    other, as if each had its own transaction: in rounds of at most one report per device.
    """
    pending = reports
    while pending:
        round_: list[_HealthReport] = []
        later: list[_HealthReport] = []
        devices: set[str] = set()
        for report in pending:
            (later if report.device_id in devices else round_).append(report)
            devices.add(report.device_id)
        # Core (no ORM objects), one statement: the samples stored now come back (a report
        # id stored before is left as it was).
        insert = (
            upsert_insert(session, _HEALTH_SAMPLES)
            .on_conflict_do_nothing(
                index_elements=[_HEALTH_SAMPLES.c.device_id, _HEALTH_SAMPLES.c.report_id]
            )
            .returning(_HEALTH_SAMPLES.c.device_id, _HEALTH_SAMPLES.c.report_id)
        )
        rows = [
            _health_values(report.device_id, sample, report.received_at)
            for report in round_
            for sample in report.samples
        ]
        stored = {
            (row.device_id, row.report_id)
            for row in await (await session.connection()).execute(insert, rows)
        }
        await record_health_in(
            session,
            [
                ReceivedHealth(
                    report.device_id,
                    [s for s in report.samples if (report.device_id, s.report_id) in stored],
                    report.received_at,
                )
                for report in round_
            ],
        )
        pending = later
    return [None] * len(reports)


def _first_of_each(reports: Iterable[_Report]) -> list[_Report]:
    seen: set[str] = set()
    unique: list[_Report] = []
    for report in reports:
        if report.report_id not in seen:
            seen.add(report.report_id)
            unique.append(report)
    return unique


def _health_values(device_id: str, sample: HealthSample, now: datetime) -> dict[str, object]:
    return {
        "device_id": device_id,
        "report_id": sample.report_id,
        "sample_time": sample.sample_time,
        "received_at": now,
        "cpu_percent": sample.cpu_percent,
        "memory_total_bytes": sample.memory_total_bytes,
        "memory_used_bytes": sample.memory_used_bytes,
        "memory_percent": sample.memory_percent,
        "swap_total_bytes": sample.swap_total_bytes,
        "swap_used_bytes": sample.swap_used_bytes,
        "swap_percent": sample.swap_percent,
        "load1": sample.load1,
        "load5": sample.load5,
        "load15": sample.load15,
        "uptime_seconds": sample.uptime_seconds,
        "filesystems": [asdict(filesystem) for filesystem in sample.filesystems],
        "load1_per_core": sample.load1_per_core,
        "load5_per_core": sample.load5_per_core,
        "load15_per_core": sample.load15_per_core,
        "oom_kills": sample.oom_kills,
        "reboot_pending": sample.reboot_pending,
        "pending_updates": sample.pending_updates,
        "pending_security_updates": sample.pending_security_updates,
        "memory_pressure": (
            asdict(sample.memory_pressure) if sample.memory_pressure is not None else None
        ),
        "temperatures": [asdict(reading) for reading in sample.temperatures],
        "fans": [asdict(fan) for fan in sample.fans],
        "batteries": [asdict(battery) for battery in sample.batteries],
        "disk_health": [asdict(disk) for disk in sample.disks],
        "unavailable": [asdict(signal) for signal in sample.unavailable],
        "reboot_pending_reasons": list(sample.reboot_pending_reasons),
    }


def _check_batch_size(batch: Sequence[object]) -> None:
    if len(batch) > MAX_BATCH:
        raise InvalidArgument(f"a batch holds at most {MAX_BATCH} reports, got {len(batch)}")
