"""Helpers for the hardware tests: fixture platforms per OS, root-only files refused,
and SMBIOS type-17 structures built from the specification's layout."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from agent.collectors.hardware import cim, profiler
from agent.platform.darwin import DarwinPlatform
from agent.platform.linux import LinuxPlatform
from agent.platform.windows import WindowsPlatform
from tests.agent.recorded import FIXTURES, RecordedRegistry, RecordedRunner, Recording

HARDWARE = FIXTURES / "hardware"
LINUX = HARDWARE / "linux"
WINDOWS = HARDWARE / "windows"
MACOS = HARDWARE / "macos"

# sysfs attributes the kernel makes readable by root only (mode 0400).
ROOT_ONLY = frozenset({"product_serial", "product_uuid", "board_serial", "chassis_serial", "raw"})


def linux_platform(
    name: str, runner: RecordedRunner | None = None, *, euid: int = 1000
) -> LinuxPlatform:
    root = LINUX / name
    return LinuxPlatform(
        sys_root=root / "sys",
        etc_root=root / "etc",
        proc_root=root / "proc",
        usr_lib_root=root / "usr" / "lib",
        fs_root=root,
        runner=runner if runner is not None else RecordedRunner({}),
        euid=lambda: euid,
    )


@contextmanager
def refusing_root_only_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Opening a root-only attribute raises PermissionError, as for a normal user (the tests
    may run as root, who could read a 0400 file)."""
    refused: list[str] = []
    real_open = Path.open

    def refusing_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name in ROOT_ONLY:
            refused.append(self.name)
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    def refusing_read_bytes(self: Path) -> bytes:
        with self.open("rb") as handle:
            data: bytes = handle.read()
        return data

    with monkeypatch.context() as patch:
        patch.setattr(Path, "open", refusing_open)
        patch.setattr(Path, "read_bytes", refusing_read_bytes)
        yield refused


def windows_platform(
    fixture: str | None, **recording: Any
) -> tuple[WindowsPlatform, RecordedRunner]:
    """A Windows platform whose PowerShell prints a fixture (or the given recording)."""
    if fixture is not None:
        recording.setdefault("stdout", (WINDOWS / fixture).read_bytes())
    runner = RecordedRunner({cim.COMMAND: Recording(**recording)})
    registry = RecordedRegistry(
        {
            "HKLM\\HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0": {
                "ProcessorNameString": "Intel(R) Core(TM) i7-1185G7 @ 3.00GHz  "
            }
        }
    )
    return WindowsPlatform(runner, registry), runner


def darwin_runner(
    profile: str,
    ioreg: str,
    sw_vers: str,
    overrides: dict[tuple[str, ...], Recording] | None = None,
) -> RecordedRunner:
    recordings = {
        profiler.SYSTEM_PROFILER: Recording.file(MACOS / profile),
        profiler.IOREG_PLATFORM: Recording.file(MACOS / ioreg),
        profiler.SW_VERS: Recording.file(MACOS / sw_vers),
        profiler.HV_VMM_PRESENT: Recording(b"0\n"),
        profiler.CPU_BRAND: Recording(b"Apple M2\n"),
    }
    recordings.update(overrides or {})
    return RecordedRunner(recordings)


def darwin_platform(runner: RecordedRunner) -> DarwinPlatform:
    return DarwinPlatform(runner)


def memory_device(
    *,
    size_word: int = 8192,
    extended_size: int = 0,
    memory_type: int = 0x1A,
    speed: int = 3200,
    extended_speed: int = 0,
    strings: tuple[str, ...] = ("DIMM 0", "BANK 0", "Samsung", "1234ABCD", "Tag", "M471A1K43DB1"),
    length: int = 0x5C,
) -> bytes:
    """A type-17 structure (DSP0134 7.18): locator=1, bank=2, manufacturer=3, serial=4,
    asset tag=5, part number=6."""
    body = bytearray(length)
    body[0], body[1] = 17, length
    struct.pack_into("<H", body, 0x0C, size_word)
    fields = {0x10: 1, 0x11: 2, 0x12: memory_type, 0x17: 3, 0x18: 4, 0x19: 5, 0x1A: 6}
    for offset, value in fields.items():
        if offset < length:
            body[offset] = value
    if length >= 0x17:
        struct.pack_into("<H", body, 0x15, speed)
    if length >= 0x20:
        struct.pack_into("<I", body, 0x1C, extended_size)
    if length >= 0x58:
        struct.pack_into("<I", body, 0x54, extended_speed)
    return bytes(body) + b"".join(s.encode() + b"\0" for s in strings) + b"\0"
