"""A device's details as the command line shows them: JSON, or text for a person.

``parc-server device show`` calls ``details_json`` or ``details_text``; nothing here
touches the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from server.services.records import DeviceDetails, HealthSample, InventorySnapshot

# Section fields of an inventory record: shown under "sections", not under "inventory".
_SECTION_FIELDS = (
    "hardware_included",
    "hardware_hash",
    "software",
    "software_hash",
    "licences",
    "licences_hash",
)


def jsonable(value: Any) -> Any:
    """``value`` with times as ISO 8601 strings and tuples as lists, recursively."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def details_json(details: DeviceDetails) -> dict[str, Any]:
    inventory = None
    if details.inventory is not None:
        inventory = asdict(details.inventory)
        for name in _SECTION_FIELDS:
            inventory.pop(name, None)
    summary = asdict(details.summary)
    summary.pop("extra", None)
    tree: dict[str, Any] = jsonable(
        {
            "device": summary,
            "inventory": inventory,
            "health": asdict(details.health) if details.health is not None else None,
            "software_count": len(details.software),
            "software": [asdict(package) for package in details.software],
            "licences": asdict(details.licences),
            "sections": [asdict(section) for section in details.sections],
        }
    )
    return tree


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def _bytes(value: int) -> str:
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"  # pragma: no cover - the loop always returns


def _or_dash(*parts: object) -> str:
    text = " ".join(str(part) for part in parts if part not in (None, ""))
    return text or "-"


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def details_text(details: DeviceDetails) -> str:
    return "\n".join(_lines(details)) + "\n"


def _lines(details: DeviceDetails) -> Iterator[str]:
    s = details.summary
    state = "revoked" if s.revoked else ("online" if s.online else "offline")
    yield f"Device {s.device_id}"
    yield f"  hostname     {_or_dash(s.hostname)}"
    yield f"  tenant/site  {s.tenant} / {s.site}"
    yield f"  state        {state} (last seen {_when(s.last_seen_at)})"
    yield f"  enrolled     {_when(s.enrolled_at)}"
    if details.inventory is None:
        yield ""
        yield "Hardware: no inventory received yet"
    else:
        yield from _hardware(details.inventory)
    yield from _health(details.health)
    yield ""
    yield f"Software: {len(details.software)} installed"
    for package in details.software:
        yield "  " + _or_dash(
            package.name,
            package.version,
            f"[{package.architecture}]" if package.architecture else "",
            f"({package.source})" if package.source else "",
            f"- {package.publisher}" if package.publisher else "",
        )
    yield ""
    licences = details.licences
    yield (
        f"Licences: {len(licences.activations)} activation(s), "
        f"{len(licences.packages)} package licence(s)"
    )
    for activation in licences.activations:
        key = f"key ...{activation.partial_product_key}" if activation.partial_product_key else ""
        yield "  " + _or_dash(
            activation.product, activation.name, activation.channel, activation.state, key
        )
    for licence in licences.packages:
        yield f"  {licence.package}: {licence.spdx or licence.declared} ({licence.source})"
    if details.sections:
        yield ""
        yield "Inventory sections"
        for section in details.sections:
            yield (
                f"  {section.section:<9} {section.content_hash[:12] or '(no hash)':<12} "
                f"collected {_when(section.collect_time)}, report {section.report_id}"
            )


def _hardware(inventory: InventorySnapshot) -> Iterator[str]:
    yield ""
    yield f"Hardware (collected {_when(inventory.collect_time)})"
    yield f"  vendor/model {_or_dash(inventory.vendor, inventory.model)}"
    yield f"  serial       {_or_dash(inventory.serial_number)}"
    yield f"  uuid         {_or_dash(inventory.uuid)}"
    yield f"  form factor  {_or_dash(inventory.form_factor.replace('_', ' '))}" + (
        f" (chassis type {inventory.chassis_type})" if inventory.chassis_type else ""
    )
    yield f"  virtual      {inventory.virtualization or 'no'}"
    bios = _or_dash(inventory.bios_vendor, inventory.bios_version, inventory.bios_date)
    yield f"  bios         {bios}"
    yield (
        f"  cpu          {_or_dash(inventory.cpu_model)}: {inventory.cpu_sockets} socket(s), "
        f"{inventory.cpu_cores} cores, {inventory.cpu_threads} threads"
    )
    yield f"  memory       {_bytes(inventory.memory_total_bytes)}"
    for module in inventory.memory_modules:
        yield "    " + _or_dash(
            module.slot,
            _bytes(module.size_bytes),
            module.type,
            f"{module.speed_mts} MT/s" if module.speed_mts else "",
            module.manufacturer,
            module.part_number,
            f"s/n {module.serial_number}" if module.serial_number else "",
        )
    yield f"  os           {_or_dash(inventory.os_name, inventory.os_version)}" + (
        f" build {inventory.os_build}" if inventory.os_build else ""
    )
    yield f"  kernel       {_or_dash(inventory.kernel)} ({inventory.os_family or '-'})"
    yield "  disks"
    for disk in inventory.disks:
        yield "    " + _or_dash(
            disk.name,
            (disk.type or "unknown type").upper(),
            _bytes(disk.size_bytes),
            disk.model,
            f"s/n {disk.serial_number}" if disk.serial_number else "",
        )
    yield "  interfaces"
    for nic in inventory.interfaces:
        yield "    " + _or_dash(
            nic.name,
            nic.mac_address,
            f"{nic.speed_mbps} Mbit/s" if nic.speed_mbps else "",
            "physical" if nic.physical else "virtual",
            ", ".join(nic.addresses),
        )


def _health(health: HealthSample | None) -> Iterator[str]:
    yield ""
    if health is None:
        yield "Health: no sample received yet"
        return
    yield f"Health (sampled {_when(health.sample_time)})"
    yield (
        f"  cpu {health.cpu_percent:.0f}%  memory {health.memory_percent:.0f}%  "
        f"swap {health.swap_percent:.0f}%  load {health.load1:.2f} {health.load5:.2f} "
        f"{health.load15:.2f}"
        + (f" ({health.load1_per_core:.2f} per core)" if health.load1_per_core is not None else "")
    )
    for filesystem in health.filesystems:
        size = _bytes(filesystem.total_bytes)
        yield f"  {filesystem.mountpoint}: {filesystem.percent:.0f}% of {size}"
    pending = "unknown" if health.pending_updates is None else str(health.pending_updates)
    if health.pending_security_updates is not None:
        pending += f" ({health.pending_security_updates} security)"
    yield f"  pending updates  {pending}"
    reasons = (
        f" ({'; '.join(health.reboot_pending_reasons)})" if health.reboot_pending_reasons else ""
    )
    yield f"  reboot pending   {_yes_no(health.reboot_pending)}{reasons}"
    if health.oom_kills is not None:
        yield f"  OOM kills        {health.oom_kills}"
    if health.memory_pressure is not None:
        psi = health.memory_pressure
        yield f"  memory pressure  some {psi.some_avg60:.1f}% / full {psi.full_avg60:.1f}% (60 s)"
    for reading in health.temperatures:
        where = _or_dash(reading.sensor, reading.label)
        yield f"  temperature      {where}: {reading.celsius:.1f} °C"
    for fan in health.fans:
        yield f"  fan              {_or_dash(fan.sensor, fan.label)}: {fan.rpm} rpm"
    for battery in health.batteries:
        wear = "unknown" if battery.wear_percent is None else f"{battery.wear_percent:.1f}%"
        cycles = "" if battery.cycle_count is None else f", {battery.cycle_count} cycles"
        status = battery.status.replace("_", " ") or "status unknown"
        name = _or_dash(battery.name, battery.model)
        yield f"  battery          {name}: wear {wear}{cycles}, {status}"
    for disk in health.disks:
        if not disk.smart_available:
            verdict = f"SMART unavailable ({disk.unavailable_reason or 'no reason given'})"
        else:
            verdict = {True: "PASSED", False: "FAILED", None: "no verdict"}[disk.passed]
            if disk.exit_status_flags:
                verdict += f" [{'; '.join(disk.exit_status_flags)}]"
        yield f"  SMART            {_or_dash(disk.device, disk.model)}: {verdict}"
    for signal in health.unavailable:
        yield f"  unavailable      {signal.signal}: {signal.reason}"
