"""Disk SMART health through smartctl 7.x's JSON output: a slow signal.

``smartctl --scan-open --json`` lists the devices (``devices[]``: name, type, protocol, and
``open_error`` when the device could not be opened); ``smartctl --json -a -n standby -d TYPE
NAME`` reads each one without waking a sleeping disk. Exit status bits (smartctl(8)):

    0 command line did not parse        4 prefail attributes at or below threshold
    1 device open failed / low-power    5 attributes at or below threshold in the past
    2 SMART command failed / checksum   6 error log has errors
    3 disk failing                      7 self-test log has errors

Skipped on virtual machines (their disks are emulated) and where smartctl is absent, with the
reason reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.collectors.health.records import DiskHealth, DiskProtocol, NvmeHealth, SmartAttribute
from agent.collectors.health.signals import ParseError, SignalUnavailable
from agent.platform.runner import CommandError, CommandRunner

SIGNAL = "smart"
SCAN = ("smartctl", "--scan-open", "--json")
TIMEOUT_S = 60.0
MAX_DEVICES = 64
WATCHED_ATTRIBUTES = frozenset({5, 187, 197, 198})

EXIT_STATUS_FLAGS = (
    "command line did not parse",
    "device open failed or device in low-power mode",
    "SMART command failed or checksum error",
    "disk failing",
    "prefail attributes at or below threshold",
    "attributes at or below threshold in the past",
    "error log has errors",
    "self-test log has errors",
)

_PROTOCOLS = {"ata": DiskProtocol.ATA, "nvme": DiskProtocol.NVME, "scsi": DiskProtocol.SCSI}


def decode_exit_status(status: int) -> tuple[str, ...]:
    """The meaning of each bit set in smartctl's exit status."""
    return tuple(flag for bit, flag in enumerate(EXIT_STATUS_FLAGS) if status & (1 << bit))


@dataclass(frozen=True, slots=True)
class ScannedDevice:
    """One device ``--scan-open`` listed."""

    name: str
    type: str
    protocol: DiskProtocol
    open_error: str = ""

    def command(self) -> tuple[str, ...]:
        return ("smartctl", "--json", "-a", "-n", "standby", "-d", self.type, self.name)


def _load_object(text: str, what: str) -> dict[str, Any]:
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"{what} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError(f"{what} is not a JSON object")
    return data


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _uint(value: Any, default: int = 0) -> int:
    number = _int(value)
    return number if number is not None and number >= 0 else default


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _protocol(value: Any) -> DiskProtocol:
    return _PROTOCOLS.get(_text(value).lower(), DiskProtocol.UNKNOWN)


def parse_scan(text: str) -> list[ScannedDevice]:
    """The devices of ``smartctl --scan-open --json``; names that could pass for options are
    dropped (they go on a command line)."""
    data = _load_object(text, "smartctl --scan-open output")
    devices = data.get("devices", [])
    if not isinstance(devices, list):
        raise ParseError("smartctl --scan-open output: devices is not a list")
    found: list[ScannedDevice] = []
    for item in devices:
        if not isinstance(item, dict):
            continue
        name, kind = _text(item.get("name")), _text(item.get("type"))
        if not name or not kind or name.startswith("-") or kind.startswith("-"):
            continue
        found.append(
            ScannedDevice(
                name=name,
                type=kind,
                protocol=_protocol(item.get("protocol")),
                open_error=_text(item.get("open_error")),
            )
        )
    return found


def _messages(data: dict[str, Any]) -> list[str]:
    messages = _dict(data.get("smartctl")).get("messages", [])
    if not isinstance(messages, list):
        return []
    return [
        _text(m.get("string"))
        for m in messages
        if isinstance(m, dict)
        and _text(m.get("string"))
        and _text(m.get("severity")).lower() in ("error", "warning", "")
    ]


def _attributes(data: dict[str, Any]) -> tuple[SmartAttribute, ...]:
    table = _dict(data.get("ata_smart_attributes")).get("table", [])
    if not isinstance(table, list):
        return ()
    kept: list[SmartAttribute] = []
    for row in table:
        if not isinstance(row, dict):
            continue
        ident = _int(row.get("id"))
        if ident is None or ident < 0:
            continue
        when_failed = _text(row.get("when_failed")).lower()
        if ident not in WATCHED_ATTRIBUTES and when_failed not in ("now", "past"):
            continue
        kept.append(
            SmartAttribute(
                id=ident,
                name=_text(row.get("name")),
                value=_uint(row.get("value")),
                worst=_uint(row.get("worst")),
                threshold=_uint(row.get("thresh")),
                raw=_uint(_dict(row.get("raw")).get("value")),
                when_failed=when_failed if when_failed in ("now", "past") else "",
            )
        )
    return tuple(kept)


def _nvme(data: dict[str, Any]) -> NvmeHealth | None:
    log = data.get("nvme_smart_health_information_log")
    if not isinstance(log, dict):
        return None
    return NvmeHealth(
        critical_warning=_uint(log.get("critical_warning")),
        percentage_used=_uint(log.get("percentage_used")),
        media_errors=_uint(log.get("media_errors")),
        available_spare=_uint(log.get("available_spare")),
        available_spare_threshold=_uint(log.get("available_spare_threshold")),
        unsafe_shutdowns=_uint(log.get("unsafe_shutdowns")),
        power_on_hours=_uint(log.get("power_on_hours")),
    )


def _unavailable_reason(data: dict[str, Any], exit_status: int) -> str:
    support = _dict(data.get("smart_support"))
    messages = _messages(data)
    if messages:
        return "; ".join(messages)[:500]
    if support.get("available") is False:
        return "device does not support SMART"
    if support.get("enabled") is False:
        return "SMART is disabled on the device"
    flags = decode_exit_status(exit_status)
    return "; ".join(flags) if flags else "smartctl reported no SMART data"


def parse_device(text: str, device: ScannedDevice | None = None) -> DiskHealth:
    """One ``smartctl --json -a`` output."""
    data = _load_object(text, "smartctl output")
    exit_status = _uint(_dict(data.get("smartctl")).get("exit_status"))
    info = _dict(data.get("device"))
    name = _text(info.get("name")) or (device.name if device else "")
    protocol = _protocol(info.get("protocol"))
    if protocol is DiskProtocol.UNKNOWN and device is not None:
        protocol = device.protocol
    status = data.get("smart_status")
    passed = status.get("passed") if isinstance(status, dict) else None
    attributes = _attributes(data)
    nvme = _nvme(data)
    available = isinstance(passed, bool) or bool(attributes) or nvme is not None
    temperature = _int(_dict(data.get("temperature")).get("current"))
    hours = _int(_dict(data.get("power_on_time")).get("hours"))
    if hours is None and nvme is not None:
        hours = nvme.power_on_hours
    return DiskHealth(
        device=name,
        model=_text(data.get("model_name")) or _text(data.get("scsi_model_name")),
        serial_number=_text(data.get("serial_number")),
        protocol=protocol,
        smart_available=available,
        unavailable_reason="" if available else _unavailable_reason(data, exit_status),
        passed=passed if isinstance(passed, bool) else None,
        exit_status=exit_status,
        exit_status_flags=decode_exit_status(exit_status),
        attributes=attributes,
        nvme=nvme,
        temperature_celsius=float(temperature) if temperature is not None else None,
        power_on_hours=hours if hours is not None and hours >= 0 else None,
    )


class SmartDisks:
    """SMART health of every disk smartctl finds."""

    signal = SIGNAL

    def __init__(self, runner: CommandRunner, is_virtual: Callable[[], bool]) -> None:
        self._runner = runner
        self._is_virtual = is_virtual

    def read(self) -> list[DiskHealth]:
        if self._is_virtual():
            raise SignalUnavailable("virtual machine: its disks are emulated, SMART not read")
        if self._runner.which("smartctl") is None:
            raise SignalUnavailable("smartctl not installed (smartmontools 7+)")
        scan = self._runner.run(SCAN, timeout=TIMEOUT_S)
        devices = parse_scan(scan.text)[:MAX_DEVICES]
        if not devices:
            raise SignalUnavailable("smartctl found no disks")
        if all(d.open_error for d in devices):
            errors = {d.open_error for d in devices}
            if any("permission" in e.lower() for e in errors):
                raise SignalUnavailable("permission denied: smartctl needs administrator rights")
        return [self._examine(device) for device in devices]

    def _examine(self, device: ScannedDevice) -> DiskHealth:
        if device.open_error:
            return DiskHealth(
                device=device.name,
                protocol=device.protocol,
                unavailable_reason=f"open failed: {device.open_error}"[:500],
            )
        try:
            result = self._runner.run(device.command(), timeout=TIMEOUT_S)
        except CommandError as exc:
            return DiskHealth(
                device=device.name, protocol=device.protocol, unavailable_reason=str(exc)
            )
        try:
            return parse_device(result.text, device)
        except ParseError as exc:
            return DiskHealth(
                device=device.name,
                protocol=device.protocol,
                exit_status=result.returncode,
                exit_status_flags=decode_exit_status(result.returncode),
                unavailable_reason=str(exc)[:500],
            )
