"""Checks on what agents report, before anything is stored: bounded, finite, well-formed.

Every check raises ``InvalidArgument`` with a message naming the report and the field; the
caller checks a whole batch first, so one bad item stores nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sized
from datetime import datetime

from server.services.errors import InvalidArgument
from server.services.records import (
    ACTIVATION_STATES,
    BATTERY_STATUSES,
    DISK_PROTOCOLS,
    DISK_TYPES,
    FORM_FACTORS,
    SOFTWARE_SOURCES,
    BatteryHealth,
    DiskHealth,
    HealthSample,
    InventorySnapshot,
    LicenceFacts,
    SoftwarePackage,
)

MAX_ITEMS = 256  # filesystems per sample; disks, interfaces or memory modules per snapshot
MAX_SENSORS = 64  # temperatures, fans, batteries, SMART disks, unavailable signals, reasons
MAX_ADDRESSES = 64
MAX_PACKAGES = 20_000  # software packages or package licences per report
MAX_ACTIVATIONS = 64
MAX_PARTIAL_KEY = 5
MAX_TEXT = 1024
MAX_PATH = 4096
MAX_INT = 2**63 - 1  # the largest value a BIGINT column holds
MAX_INT32 = 2**31 - 1

_REPORT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HASH = re.compile(r"[0-9a-f]{64}")


def validate_report_id(report_id: str) -> None:
    """Report ids are 1-64 characters of letters, digits, ``-`` and ``_``."""
    if not isinstance(report_id, str) or _REPORT_ID.fullmatch(report_id) is None:
        raise InvalidArgument(
            f"report id {report_id!r:.80} must be 1 to 64 letters, digits, '-' or '_'"
        )


def validate_health(sample: HealthSample) -> None:
    validate_report_id(sample.report_id)
    where = f"health report {sample.report_id}"
    check_time(where, "sample_time", sample.sample_time)
    for name in ("cpu_percent", "memory_percent", "swap_percent"):
        check_percent(where, name, getattr(sample, name))
    for name in ("load1", "load5", "load15"):
        check_number(where, name, getattr(sample, name))
    for name in (
        "memory_total_bytes",
        "memory_used_bytes",
        "swap_total_bytes",
        "swap_used_bytes",
        "uptime_seconds",
    ):
        check_int(where, name, getattr(sample, name))
    check_count(where, "filesystems", sample.filesystems)
    for filesystem in sample.filesystems:
        check_text(where, "filesystem mountpoint", filesystem.mountpoint, MAX_PATH)
        check_text(where, "filesystem device", filesystem.device, MAX_PATH)
        check_text(where, "filesystem type", filesystem.fstype, MAX_TEXT)
        check_int(where, "filesystem total_bytes", filesystem.total_bytes)
        check_int(where, "filesystem used_bytes", filesystem.used_bytes)
        check_percent(where, "filesystem percent", filesystem.percent)
    _validate_health_signals(where, sample)


def _validate_health_signals(where: str, sample: HealthSample) -> None:
    for name in ("load1_per_core", "load5_per_core", "load15_per_core"):
        _optional(check_number, where, name, getattr(sample, name))
    _optional(check_int, where, "oom_kills", sample.oom_kills)
    for name in ("pending_updates", "pending_security_updates"):
        _optional(check_int, where, name, getattr(sample, name), MAX_INT32)
    if sample.reboot_pending is not None and not isinstance(sample.reboot_pending, bool):
        raise InvalidArgument(f"{where}: reboot_pending must be true, false or unknown")
    check_count(where, "reboot reasons", sample.reboot_pending_reasons, MAX_SENSORS)
    for reason in sample.reboot_pending_reasons:
        check_text(where, "reboot reason", reason, MAX_TEXT)
    check_count(where, "temperatures", sample.temperatures, MAX_SENSORS)
    for reading in sample.temperatures:
        check_text(where, "temperature sensor", reading.sensor, MAX_TEXT)
        check_text(where, "temperature label", reading.label, MAX_TEXT)
        check_celsius(where, "temperature", reading.celsius)
        _optional(check_celsius, where, "temperature high", reading.high_celsius)
        _optional(check_celsius, where, "temperature critical", reading.critical_celsius)
    check_count(where, "fans", sample.fans, MAX_SENSORS)
    for fan in sample.fans:
        check_text(where, "fan sensor", fan.sensor, MAX_TEXT)
        check_text(where, "fan label", fan.label, MAX_TEXT)
        check_int(where, "fan rpm", fan.rpm, MAX_INT32)
    if sample.memory_pressure is not None:
        for name in (
            "some_avg10",
            "some_avg60",
            "some_avg300",
            "full_avg10",
            "full_avg60",
            "full_avg300",
        ):
            check_percent(where, f"memory pressure {name}", getattr(sample.memory_pressure, name))
    check_count(where, "batteries", sample.batteries, MAX_SENSORS)
    for battery in sample.batteries:
        _validate_battery(where, battery)
    check_count(where, "SMART disks", sample.disks, MAX_SENSORS)
    for disk in sample.disks:
        _validate_disk_health(where, disk)
    check_count(where, "unavailable signals", sample.unavailable, MAX_SENSORS)
    for signal in sample.unavailable:
        check_text(where, "unavailable signal", signal.signal, MAX_TEXT)
        check_text(where, "unavailable reason", signal.reason, MAX_TEXT)


def _validate_battery(where: str, battery: BatteryHealth) -> None:
    for name in ("name", "manufacturer", "model", "serial_number", "capacity_unit"):
        check_text(where, f"battery {name}", getattr(battery, name), MAX_TEXT)
    check_int(where, "battery design_capacity", battery.design_capacity)
    check_int(where, "battery full_capacity", battery.full_capacity)
    _optional(check_percent, where, "battery wear_percent", battery.wear_percent)
    _optional(check_percent, where, "battery charge_percent", battery.charge_percent)
    _optional(check_int, where, "battery cycle_count", battery.cycle_count, MAX_INT32)
    check_choice(where, "battery status", battery.status, BATTERY_STATUSES)


def _validate_disk_health(where: str, disk: DiskHealth) -> None:
    for name in ("device", "model", "serial_number", "unavailable_reason"):
        check_text(where, f"SMART disk {name}", getattr(disk, name), MAX_TEXT)
    check_choice(where, "SMART disk protocol", disk.protocol, DISK_PROTOCOLS)
    check_int(where, "SMART exit_status", disk.exit_status, MAX_INT32)
    check_count(where, "SMART exit status flags", disk.exit_status_flags, MAX_SENSORS)
    for flag in disk.exit_status_flags:
        check_text(where, "SMART exit status flag", flag, MAX_TEXT)
    check_count(where, "SMART attributes", disk.attributes, MAX_ITEMS)
    for attribute in disk.attributes:
        check_text(where, "SMART attribute name", attribute.name, MAX_TEXT)
        check_text(where, "SMART attribute when_failed", attribute.when_failed, MAX_TEXT)
        for name in ("id", "value", "worst", "threshold"):
            check_int(where, f"SMART attribute {name}", getattr(attribute, name), MAX_INT32)
        check_int(where, "SMART attribute raw", attribute.raw)
    if disk.nvme is not None:
        for name in (
            "critical_warning",
            "percentage_used",
            "available_spare",
            "available_spare_threshold",
        ):
            check_int(where, f"NVMe {name}", getattr(disk.nvme, name), MAX_INT32)
        for name in ("media_errors", "unsafe_shutdowns", "power_on_hours"):
            check_int(where, f"NVMe {name}", getattr(disk.nvme, name))
    _optional(check_celsius, where, "SMART disk temperature", disk.temperature_celsius)
    _optional(check_int, where, "SMART disk power_on_hours", disk.power_on_hours)


def validate_inventory(snapshot: InventorySnapshot) -> None:
    validate_report_id(snapshot.report_id)
    where = f"inventory report {snapshot.report_id}"
    check_time(where, "collect_time", snapshot.collect_time)
    for name in ("hardware_hash", "software_hash", "licences_hash"):
        check_hash(where, name, getattr(snapshot, name))
    if not snapshot.hardware_included and not snapshot.hardware_hash:
        raise InvalidArgument(f"{where}: a hardware section left out needs its hash")
    if snapshot.hardware_included:
        _validate_hardware(where, snapshot)
    if snapshot.software is not None:
        validate_software(where, snapshot.software)
    if snapshot.licences is not None:
        validate_licences(where, snapshot.licences)


def _validate_hardware(where: str, snapshot: InventorySnapshot) -> None:
    for name in (
        "os_family",
        "os_name",
        "os_version",
        "os_build",
        "kernel",
        "hostname",
        "vendor",
        "model",
        "serial_number",
        "uuid",
        "bios_vendor",
        "bios_version",
        "bios_date",
        "cpu_model",
        "virtualization",
    ):
        check_text(where, name, getattr(snapshot, name), MAX_TEXT)
    for name in ("cpu_cores", "cpu_threads", "cpu_sockets", "chassis_type"):
        check_int(where, name, getattr(snapshot, name), MAX_INT32)
    check_int(where, "memory_total_bytes", snapshot.memory_total_bytes)
    check_choice(where, "form_factor", snapshot.form_factor, FORM_FACTORS)
    check_count(where, "disks", snapshot.disks)
    for disk in snapshot.disks:
        for name in ("name", "model", "serial_number"):
            check_text(where, f"disk {name}", getattr(disk, name), MAX_TEXT)
        check_int(where, "disk size_bytes", disk.size_bytes)
        check_choice(where, "disk type", disk.type, DISK_TYPES)
    check_count(where, "interfaces", snapshot.interfaces)
    for interface in snapshot.interfaces:
        check_text(where, "interface name", interface.name, MAX_TEXT)
        check_text(where, "interface mac_address", interface.mac_address, MAX_TEXT)
        check_int(where, "interface speed_mbps", interface.speed_mbps, MAX_INT32)
        if not isinstance(interface.physical, bool):
            raise InvalidArgument(f"{where}: interface physical must be true or false")
        check_count(where, "addresses of an interface", interface.addresses, MAX_ADDRESSES)
        for address in interface.addresses:
            check_text(where, "interface address", address, MAX_TEXT)
    check_count(where, "memory modules", snapshot.memory_modules)
    for module in snapshot.memory_modules:
        for name in ("slot", "type", "manufacturer", "part_number", "serial_number"):
            check_text(where, f"memory module {name}", getattr(module, name), MAX_TEXT)
        check_int(where, "memory module size_bytes", module.size_bytes)
        check_int(where, "memory module speed_mts", module.speed_mts, MAX_INT32)


def validate_software(where: str, packages: Collection[SoftwarePackage]) -> None:
    check_count(where, "software packages", packages, MAX_PACKAGES)
    for package in packages:
        # Hundreds a report: the usual well-formed package is passed by one cheap test, any
        # other goes through the checks below, which raise the same error as ever.
        if (
            _plain_texts(
                MAX_TEXT,
                package.name,
                package.version,
                package.publisher,
                package.architecture,
                package.identifier,
            )
            and isinstance(package.source, str)
            and package.source in _SOFTWARE_SOURCES
            and (package.install_time is None or isinstance(package.install_time, datetime))
        ):
            continue
        _validate_package(where, package)


def _validate_package(where: str, package: SoftwarePackage) -> None:
    for name in ("name", "version", "publisher", "architecture", "identifier"):
        check_text(where, f"software {name}", getattr(package, name), MAX_TEXT)
    check_choice(where, "software source", package.source, SOFTWARE_SOURCES)
    if package.install_time is not None:
        check_time(where, "software install_time", package.install_time)


def validate_licences(where: str, licences: LicenceFacts) -> None:
    check_count(where, "product activations", licences.activations, MAX_ACTIVATIONS)
    for activation in licences.activations:
        for name in ("product", "name", "channel"):
            check_text(where, f"activation {name}", getattr(activation, name), MAX_TEXT)
        check_choice(where, "activation state", activation.state, ACTIVATION_STATES)
        # Never more than the last five characters of a product key: refuse, do not trim.
        check_text(where, "partial product key", activation.partial_product_key, MAX_PARTIAL_KEY)
    check_count(where, "package licences", licences.packages, MAX_PACKAGES)
    for licence in licences.packages:
        if _plain_texts(MAX_TEXT, licence.package, licence.spdx, licence.declared) and _plain_texts(
            16, licence.source
        ):
            continue
        for name in ("package", "spdx", "declared"):
            check_text(where, f"package licence {name}", getattr(licence, name), MAX_TEXT)
        check_text(where, "package licence source", licence.source, 16)


# --- primitive checks -------------------------------------------------------------------------

_SOFTWARE_SOURCES = frozenset(("", *SOFTWARE_SOURCES))


def _plain_texts(limit: int, *values: object) -> bool:
    """Whether every value passes ``check_text`` with ``limit`` (a fast test, raises nothing)."""
    for value in values:
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            return False
    return True


def check_time(where: str, name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise InvalidArgument(f"{where}: {name} must be a time")


def check_number(where: str, name: str, value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidArgument(f"{where}: {name} must be a finite, non-negative number")


def check_celsius(where: str, name: str, value: float) -> None:
    """A temperature: finite, and not below absolute zero (sensors do read below 0 °C)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not -273.15 <= value <= 10_000
    ):
        raise InvalidArgument(f"{where}: {name} must be a finite temperature in Celsius")


def check_percent(where: str, name: str, value: float) -> None:
    check_number(where, name, value)
    if value > 100:
        raise InvalidArgument(f"{where}: {name} must be between 0 and 100")


def check_int(where: str, name: str, value: int, limit: int = MAX_INT) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise InvalidArgument(f"{where}: {name} must be a whole number from 0 to {limit}")


def check_count(where: str, name: str, items: Sized, limit: int = MAX_ITEMS) -> None:
    if len(items) > limit:
        raise InvalidArgument(f"{where}: at most {limit} {name}, got {len(items)}")


def check_text(where: str, name: str, value: str, limit: int) -> None:
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidArgument(f"{where}: {name} must be text of at most {limit} characters")
    if "\x00" in value:
        raise InvalidArgument(f"{where}: {name} must not contain NUL characters")


def check_choice(where: str, name: str, value: str, choices: Collection[str]) -> None:
    """``value`` is one of ``choices`` or "" (unknown)."""
    if value != "" and value not in choices:
        raise InvalidArgument(f"{where}: {name} {value!r:.40} is not one of {sorted(choices)}")


def check_hash(where: str, name: str, value: str) -> None:
    """A section hash: empty (none) or SHA-256 as 64 lowercase hex digits."""
    if value != "" and (not isinstance(value, str) or _HASH.fullmatch(value) is None):
        raise InvalidArgument(f"{where}: {name} must be 64 lowercase hex digits (SHA-256)")


def _optional(check: Callable[..., None], where: str, name: str, value: object, *rest: int) -> None:
    """``check`` the value unless it is None (unknown)."""
    if value is not None:
        check(where, name, value, *rest)
