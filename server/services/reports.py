"""Health samples and inventory snapshots reported by agents.

Reports arrive in batches and may be resent after any failure: each report id is stored
once per device, and the whole batch is checked before anything is stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.clock import Clock, utc_now
from server.services.devices import touch_in
from server.services.errors import InvalidArgument
from server.services.records import DeviceIdentity, HealthSample, InventorySnapshot
from server.store.database import begin_write
from server.store.dialect import upsert_insert
from server.store.models import DeviceInventoryRow, HealthSampleRow, InventoryReportRow

MAX_BATCH = 500
MAX_ITEMS = 256  # filesystems per sample; disks or interfaces per snapshot
MAX_ADDRESSES = 64
MAX_TEXT = 1024
MAX_PATH = 4096
MAX_INT = 2**63 - 1  # the largest value a BIGINT column holds
MAX_INT32 = 2**31 - 1

_Report = TypeVar("_Report", HealthSample, InventorySnapshot)

_REPORT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def validate_report_id(report_id: str) -> None:
    """Report ids are 1-64 characters of letters, digits, ``-`` and ``_``."""
    if not isinstance(report_id, str) or _REPORT_ID.fullmatch(report_id) is None:
        raise InvalidArgument(
            f"report id {report_id!r:.80} must be 1 to 64 letters, digits, '-' or '_'"
        )


class ReportService:
    """Stores what agents report, each report once."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock = utc_now) -> None:
        self._sessions = sessions
        self._clock = clock

    async def store_health(
        self, identity: DeviceIdentity, samples: Sequence[HealthSample]
    ) -> list[str]:
        """Store a batch of health samples; return every report id of the batch."""
        _check_batch_size(samples)
        for sample in samples:
            _validate_health(sample)
        now = self._clock()
        rows = [
            _health_values(identity.device_id, sample, now) for sample in _first_of_each(samples)
        ]
        async with self._sessions.begin() as session:
            await begin_write(session)
            if rows:
                insert = upsert_insert(session, HealthSampleRow).on_conflict_do_nothing(
                    index_elements=[HealthSampleRow.device_id, HealthSampleRow.report_id]
                )
                await session.execute(insert, rows)
            await touch_in(session, identity.device_id, now)
        return [sample.report_id for sample in samples]

    async def store_inventory(
        self, identity: DeviceIdentity, snapshots: Sequence[InventorySnapshot]
    ) -> list[str]:
        """Store a batch of inventory snapshots; keep the newest per device by collect time."""
        _check_batch_size(snapshots)
        for snapshot in snapshots:
            _validate_inventory(snapshot)
        now = self._clock()
        device_id = identity.device_id
        unique = _first_of_each(snapshots)
        async with self._sessions.begin() as session:
            await begin_write(session)
            if unique:
                received = upsert_insert(session, InventoryReportRow).on_conflict_do_nothing(
                    index_elements=[InventoryReportRow.device_id, InventoryReportRow.report_id]
                )
                await session.execute(
                    received,
                    [
                        {
                            "device_id": device_id,
                            "report_id": snapshot.report_id,
                            "collect_time": snapshot.collect_time,
                            "received_at": now,
                        }
                        for snapshot in unique
                    ],
                )
                newest = max(unique, key=lambda snapshot: snapshot.collect_time)
                await _keep_newest_inventory(session, device_id, newest, now)
            await touch_in(session, device_id, now)
        return [snapshot.report_id for snapshot in snapshots]


async def _keep_newest_inventory(
    session: AsyncSession, device_id: str, snapshot: InventorySnapshot, now: datetime
) -> None:
    values = _inventory_values(device_id, snapshot, now)
    insert = upsert_insert(session, DeviceInventoryRow).values(values)
    table = DeviceInventoryRow.__table__
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[DeviceInventoryRow.device_id],
            set_={name: insert.excluded[name] for name in values if name != "device_id"},
            where=table.c.collect_time < insert.excluded.collect_time,
        )
    )


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
    }


def _inventory_values(
    device_id: str, snapshot: InventorySnapshot, now: datetime
) -> dict[str, object]:
    return {
        "device_id": device_id,
        "report_id": snapshot.report_id,
        "collect_time": snapshot.collect_time,
        "received_at": now,
        "os_family": snapshot.os_family,
        "os_name": snapshot.os_name,
        "os_version": snapshot.os_version,
        "kernel": snapshot.kernel,
        "hostname": snapshot.hostname,
        "vendor": snapshot.vendor,
        "model": snapshot.model,
        "serial_number": snapshot.serial_number,
        "cpu_model": snapshot.cpu_model,
        "cpu_cores": snapshot.cpu_cores,
        "cpu_threads": snapshot.cpu_threads,
        "memory_total_bytes": snapshot.memory_total_bytes,
        "disks": [asdict(disk) for disk in snapshot.disks],
        "interfaces": [
            {
                "name": interface.name,
                "mac_address": interface.mac_address,
                "addresses": list(interface.addresses),
            }
            for interface in snapshot.interfaces
        ],
    }


def _check_batch_size(batch: Sequence[object]) -> None:
    if len(batch) > MAX_BATCH:
        raise InvalidArgument(f"a batch holds at most {MAX_BATCH} reports, got {len(batch)}")


def _validate_health(sample: HealthSample) -> None:
    validate_report_id(sample.report_id)
    where = f"health report {sample.report_id}"
    _check_time(where, "sample_time", sample.sample_time)
    for name in ("cpu_percent", "memory_percent", "swap_percent"):
        _check_percent(where, name, getattr(sample, name))
    for name in ("load1", "load5", "load15"):
        _check_number(where, name, getattr(sample, name))
    for name in (
        "memory_total_bytes",
        "memory_used_bytes",
        "swap_total_bytes",
        "swap_used_bytes",
        "uptime_seconds",
    ):
        _check_int(where, name, getattr(sample, name))
    _check_count(where, "filesystems", len(sample.filesystems))
    for filesystem in sample.filesystems:
        _check_text(where, "filesystem mountpoint", filesystem.mountpoint, MAX_PATH)
        _check_text(where, "filesystem device", filesystem.device, MAX_PATH)
        _check_text(where, "filesystem type", filesystem.fstype, MAX_TEXT)
        _check_int(where, "filesystem total_bytes", filesystem.total_bytes)
        _check_int(where, "filesystem used_bytes", filesystem.used_bytes)
        _check_percent(where, "filesystem percent", filesystem.percent)


def _validate_inventory(snapshot: InventorySnapshot) -> None:
    validate_report_id(snapshot.report_id)
    where = f"inventory report {snapshot.report_id}"
    _check_time(where, "collect_time", snapshot.collect_time)
    for name in (
        "os_family",
        "os_name",
        "os_version",
        "kernel",
        "hostname",
        "vendor",
        "model",
        "serial_number",
        "cpu_model",
    ):
        _check_text(where, name, getattr(snapshot, name), MAX_TEXT)
    _check_int(where, "cpu_cores", snapshot.cpu_cores, MAX_INT32)
    _check_int(where, "cpu_threads", snapshot.cpu_threads, MAX_INT32)
    _check_int(where, "memory_total_bytes", snapshot.memory_total_bytes)
    _check_count(where, "disks", len(snapshot.disks))
    for disk in snapshot.disks:
        _check_text(where, "disk name", disk.name, MAX_TEXT)
        _check_text(where, "disk model", disk.model, MAX_TEXT)
        _check_int(where, "disk size_bytes", disk.size_bytes)
    _check_count(where, "interfaces", len(snapshot.interfaces))
    for interface in snapshot.interfaces:
        _check_text(where, "interface name", interface.name, MAX_TEXT)
        _check_text(where, "interface mac_address", interface.mac_address, MAX_TEXT)
        if len(interface.addresses) > MAX_ADDRESSES:
            raise InvalidArgument(f"{where}: an interface has more than {MAX_ADDRESSES} addresses")
        for address in interface.addresses:
            _check_text(where, "interface address", address, MAX_TEXT)


def _check_time(where: str, name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise InvalidArgument(f"{where}: {name} must be a time")


def _check_number(where: str, name: str, value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidArgument(f"{where}: {name} must be a finite, non-negative number")


def _check_percent(where: str, name: str, value: float) -> None:
    _check_number(where, name, value)
    if value > 100:
        raise InvalidArgument(f"{where}: {name} must be between 0 and 100")


def _check_int(where: str, name: str, value: int, limit: int = MAX_INT) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise InvalidArgument(f"{where}: {name} must be a whole number from 0 to {limit}")


def _check_count(where: str, name: str, count: int) -> None:
    if count > MAX_ITEMS:
        raise InvalidArgument(f"{where}: at most {MAX_ITEMS} {name}, got {count}")


def _check_text(where: str, name: str, value: str, limit: int) -> None:
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidArgument(f"{where}: {name} must be text of at most {limit} characters")
    if "\x00" in value:
        raise InvalidArgument(f"{where}: {name} must not contain NUL characters")
