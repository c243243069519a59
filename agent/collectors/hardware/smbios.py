"""SMBIOS memory devices (structure type 17, DSP0134 3.x section 7.18) from the raw
structure bytes in ``/sys/firmware/dmi/entries/17-*/raw`` or from ``dmidecode -t 17`` text.

A raw structure is a formatted area (``length`` bytes: type, length, handle, fields) followed
by NUL-terminated strings ending with an extra NUL; string fields hold a 1-based index into
those strings (0: none). Fields added by later SMBIOS versions are read only when the
formatted area is long enough to hold them.
"""

from __future__ import annotations

import re
from typing import Final

from agent.collectors.hardware import junk
from agent.collectors.hardware.values import first_int, parse_size
from agent.platform.base import MemoryModule

MEMORY_DEVICE: Final = 17
MIN_LENGTH: Final = 0x15  # SMBIOS 2.1's memory device

# Memory Device - Type (7.18.2).
MEMORY_TYPES: Final = {
    0x03: "DRAM",
    0x04: "EDRAM",
    0x05: "VRAM",
    0x06: "SRAM",
    0x07: "RAM",
    0x08: "ROM",
    0x09: "FLASH",
    0x0A: "EEPROM",
    0x0B: "FEPROM",
    0x0C: "EPROM",
    0x0D: "CDRAM",
    0x0E: "3DRAM",
    0x0F: "SDRAM",
    0x10: "SGRAM",
    0x11: "RDRAM",
    0x12: "DDR",
    0x13: "DDR2",
    0x14: "DDR2 FB-DIMM",
    0x18: "DDR3",
    0x19: "FBD2",
    0x1A: "DDR4",
    0x1B: "LPDDR",
    0x1C: "LPDDR2",
    0x1D: "LPDDR3",
    0x1E: "LPDDR4",
    0x1F: "Logical non-volatile device",
    0x20: "HBM",
    0x21: "HBM2",
    0x22: "DDR5",
    0x23: "LPDDR5",
    0x24: "HBM3",
}

MIB: Final = 1024 * 1024


class SmbiosError(ValueError):
    """Bytes that are not a well-formed SMBIOS structure of the expected type."""


def memory_type_name(code: int) -> str:
    """The memory type's name for an SMBIOS type code; "" for Other, Unknown or reserved."""
    return MEMORY_TYPES.get(code, "")


def _strings(data: bytes, length: int) -> list[str]:
    """The structure's string set (index 1 first)."""
    area = data[length:]
    end = area.find(b"\x00\x00")
    if end >= 0:
        area = area[: end + 1]
    return [s.decode("latin-1") for s in area.split(b"\x00") if s]


def _word(data: bytes, offset: int, length: int) -> int | None:
    if offset + 2 > length:
        return None
    return int.from_bytes(data[offset : offset + 2], "little")


def _dword(data: bytes, offset: int, length: int) -> int | None:
    if offset + 4 > length:
        return None
    return int.from_bytes(data[offset : offset + 4], "little")


def _module_size(data: bytes, length: int) -> int | None:
    """Bytes; None for an empty slot, 0 when the size is unknown."""
    size = _word(data, 0x0C, length)
    if size is None or size == 0:
        return None
    if size == 0xFFFF:
        return 0
    if size == 0x7FFF:
        extended = _dword(data, 0x1C, length)
        return (extended & 0x7FFFFFFF) * MIB if extended is not None else 0
    if size & 0x8000:
        return (size & 0x7FFF) * 1024
    return size * MIB


def parse_memory_device(data: bytes) -> MemoryModule | None:
    """The module a raw type-17 structure describes; None for an empty slot.

    Raises SmbiosError when the bytes are not a type-17 structure.
    """
    if len(data) < 2:
        raise SmbiosError("truncated SMBIOS structure header")
    if data[0] != MEMORY_DEVICE:
        raise SmbiosError(f"SMBIOS structure type {data[0]} is not a memory device")
    length = data[1]
    if length < MIN_LENGTH:
        raise SmbiosError(f"memory device structure too short ({length} bytes)")
    if len(data) < length:
        raise SmbiosError(f"truncated memory device ({len(data)} of {length} bytes)")
    size = _module_size(data, length)
    if size is None:
        return None
    strings = _strings(data, length)

    def text(offset: int) -> str:
        if offset >= length:
            return ""
        index = data[offset]
        return junk.clean(strings[index - 1]) if 0 < index <= len(strings) else ""

    speed = _word(data, 0x15, length) or 0
    if speed == 0xFFFF:
        speed = (_dword(data, 0x54, length) or 0) & 0x7FFFFFFF
    return MemoryModule(
        slot=text(0x10) or text(0x11),
        size_bytes=size,
        type=memory_type_name(data[0x12]),
        speed_mts=speed,
        manufacturer=text(0x17),
        part_number=text(0x1A),
        serial_number=text(0x18),
    )


_BLOCK_START: Final = re.compile(r"^Handle 0x[0-9A-Fa-f]+, DMI type (\d+),")


def parse_dmidecode_memory(text: str) -> list[MemoryModule]:
    """The installed modules in ``dmidecode -t 17`` output; empty slots are left out."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        if match := _BLOCK_START.match(line):
            current = {} if match.group(1) == "17" else None
            if current is not None:
                blocks.append(current)
            continue
        if current is None or not line.startswith("\t") or line.startswith("\t\t"):
            continue
        key, sep, value = line.strip().partition(":")
        if sep:
            current[key.strip()] = value.strip()
    modules: list[MemoryModule] = []
    for block in blocks:
        size_text = block.get("Size", "")
        if not size_text or size_text.startswith(("No Module", "Not Installed")):
            continue
        memory_type = junk.clean(block.get("Type", ""))
        if memory_type in ("Other", "Unknown"):
            memory_type = ""
        modules.append(
            MemoryModule(
                slot=junk.clean(block.get("Locator", ""))
                or junk.clean(block.get("Bank Locator", "")),
                size_bytes=parse_size(size_text),
                type=memory_type,
                speed_mts=first_int(block.get("Speed", "")),
                manufacturer=junk.clean(block.get("Manufacturer", "")),
                part_number=junk.clean(block.get("Part Number", "")),
                serial_number=junk.clean(block.get("Serial Number", "")),
            )
        )
    return modules
