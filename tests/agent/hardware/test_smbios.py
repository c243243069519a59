"""SMBIOS memory devices from raw type-17 structures and from dmidecode text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.collectors.hardware.smbios import (
    SmbiosError,
    parse_dmidecode_memory,
    parse_memory_device,
)
from agent.platform.base import MemoryModule
from tests.agent.hardware.support import LINUX, memory_device

GIB = 1024**3


def test_fixture_module() -> None:
    raw = (LINUX / "laptop/sys/firmware/dmi/entries/17-0/raw").read_bytes()
    assert parse_memory_device(raw) == MemoryModule(
        slot="Controller0-ChannelA-DIMM0",
        size_bytes=8 * GIB,
        type="DDR4",
        speed_mts=3200,
        manufacturer="Samsung",
        part_number="M471A1K43DB1-CWE",
        serial_number="36FB1C2A",
    )


def test_empty_slot_is_none() -> None:
    raw = (LINUX / "desktop-junk/sys/firmware/dmi/entries/17-1/raw").read_bytes()
    assert parse_memory_device(raw) is None


def test_extended_size_and_speed() -> None:
    module = parse_memory_device(
        memory_device(size_word=0x7FFF, extended_size=65536, speed=0xFFFF, extended_speed=8800)
    )
    assert module is not None
    assert module.size_bytes == 64 * GIB and module.speed_mts == 8800


def test_kilobyte_granularity_and_unknown_size() -> None:
    module = parse_memory_device(memory_device(size_word=0x8000 | 512))
    assert module is not None and module.size_bytes == 512 * 1024
    unknown = parse_memory_device(memory_device(size_word=0xFFFF))
    assert unknown is not None and unknown.size_bytes == 0


def test_smbios_2_1_structure_without_later_fields() -> None:
    module = parse_memory_device(memory_device(length=0x15, strings=("DIMM0", "BANK0")))
    assert module == MemoryModule(slot="DIMM0", size_bytes=8 * GIB, type="DDR4")


def test_junk_strings_and_bad_indexes_are_unknown() -> None:
    module = parse_memory_device(
        memory_device(strings=("Not Specified", "BANK 1", "Unknown", "00000000"))
    )
    assert module is not None
    assert module.slot == "BANK 1"  # the locator was junk: the bank names the slot
    assert (module.manufacturer, module.serial_number, module.part_number) == ("", "", "")


@pytest.mark.parametrize(
    "data",
    [b"", b"\x11", b"\x10\x28" + bytes(40), b"\x11\x08" + bytes(10), b"\x11\x28" + bytes(10)],
)
def test_malformed_structures_raise(data: bytes) -> None:
    with pytest.raises(SmbiosError):
        parse_memory_device(data)


@given(st.binary(max_size=200))
def test_random_bytes_give_a_module_none_or_a_clear_error(data: bytes) -> None:
    try:
        module = parse_memory_device(data)
    except SmbiosError:
        return
    assert module is None or module.size_bytes >= 0


@given(st.integers(min_value=0, max_value=200))
def test_truncated_fixture_never_crashes(cut: int) -> None:
    data = (LINUX / "laptop/sys/firmware/dmi/entries/17-1/raw").read_bytes()[:cut]
    try:
        module = parse_memory_device(data)
    except SmbiosError:
        return
    assert module is None or isinstance(module.slot, str)


def test_dmidecode_text() -> None:
    text = (LINUX / "server-dmidecode-t17.txt").read_text()
    modules = parse_dmidecode_memory(text)
    assert [(m.slot, m.size_bytes, m.type, m.speed_mts) for m in modules] == [
        ("A1", 32 * GIB, "DDR4", 3200),
        ("B1", 32 * GIB, "DDR4", 3200),
    ]
    assert modules[0].part_number == "HMA84GR7CJR4N-XN"
    assert modules[0].serial_number == "93A1B2C3"


@given(st.text(max_size=2000))
def test_dmidecode_parser_never_crashes(text: str) -> None:
    for module in parse_dmidecode_memory(text):
        assert module.size_bytes >= 0 and module.speed_mts >= 0


@given(st.integers(min_value=0, max_value=3000))
def test_truncated_dmidecode_gives_a_prefix_of_the_modules(cut: int) -> None:
    text = (LINUX / "server-dmidecode-t17.txt").read_text()
    modules = parse_dmidecode_memory(text[:cut])
    assert len(modules) <= 2
