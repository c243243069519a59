"""The junk firmware value policy: placeholders are unknown, real values are kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.collectors.hardware.junk import JUNK_VALUES, clean, clean_uuid, is_junk

PLACEHOLDERS = [
    "Default string",
    "Default String",
    "To be filled by O.E.M.",
    "To Be Filled By O.E.M.",
    "TO BE FILLED BY OEM",
    "System Serial Number",
    "System Product Name",
    "System manufacturer",
    "System Version",
    "Chassis Serial Number",
    "Base Board Serial Number",
    "Not Specified",
    "Not Applicable",
    "None",
    "N/A",
    "OEM",
    "O.E.M.",
    "Unknown",
    "Invalid",
    "0",
    "00000000",
    "0.0",
    "FFFFFFFF",
    "ffff-ffff",
    "XXXXXXXXXX",
    "1111111111",
    "........",
    "  \n",
    "\x00",
    "\x00\x00Default string\x00",
    "123456789",
    "0123456789",
    "1234567890",
    "Type2 - Board Serial Number",
    "---",
    "",
]

REAL = [
    "5XKQ8J3",
    "PF0ABCDE",
    "Lenovo",
    "20HRCTO1WW",
    "0A1",
    "Dell Inc.",
    "ASUSTeK COMPUTER INC.",
    "PowerEdge R650",
    "N34ET57W (1.57 )",
    "VMware-56 4d 1a 2b",
    "1.10.2",
    "10",
    "S4ENNX0R123456",
]


@pytest.mark.parametrize("raw", PLACEHOLDERS)
def test_placeholders_are_unknown(raw: str) -> None:
    assert clean(raw) == ""
    assert is_junk(raw.replace("\x00", " ").strip())


@pytest.mark.parametrize("raw", REAL)
def test_real_values_are_kept_trimmed(raw: str) -> None:
    assert clean(f"  {raw}\n") == raw
    assert not is_junk(raw)


def test_every_table_entry_is_junk_in_any_case() -> None:
    for value in JUNK_VALUES:
        assert clean(value.upper()) == "", value
        assert clean(value.title()) == "", value


@pytest.mark.parametrize("raw", [None, 0, 12, b"Dell", ["x"], {"a": 1}])
def test_non_strings_are_unknown(raw: object) -> None:
    assert clean(raw) == ""
    assert clean_uuid(raw) == ""


@pytest.mark.parametrize(
    "raw",
    [
        "00000000-0000-0000-0000-000000000000",
        "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
        "03000200-0400-0500-0006-000700080009",
        "00020003-0004-0005-0006-000700080009",
        "Not Settable",
        "4C4C4544-0042-3910-8052",
        "",
        "zzzzzzzz-0042-3910-8052-b4c04f4e5433",
    ],
)
def test_junk_and_malformed_uuids_are_unknown(raw: str) -> None:
    assert clean_uuid(raw) == ""


def test_uuid_is_lower_case_with_dashes() -> None:
    assert clean_uuid("4C4C4544-0042-3910-8052-B4C04F4E5433\n") == (
        "4c4c4544-0042-3910-8052-b4c04f4e5433"
    )
    assert clean_uuid("{4C4C45440042391080528B4C04F4E543}") == (
        "4c4c4544-0042-3910-8052-8b4c04f4e543"
    )


@given(st.text(max_size=200))
def test_clean_never_crashes_and_is_idempotent(raw: str) -> None:
    value = clean(raw)
    assert value == value.strip()
    assert "\x00" not in value
    assert clean(value) == value


@given(st.text(max_size=60))
def test_clean_uuid_is_empty_or_canonical(raw: str) -> None:
    value = clean_uuid(raw)
    assert value == "" or (len(value) == 36 and value == value.lower() and value.count("-") == 4)


@given(st.sampled_from(sorted(JUNK_VALUES)), st.sampled_from(["", " ", "\n", "\x00", "\t"]))
def test_padding_does_not_rescue_a_placeholder(value: str, pad: str) -> None:
    assert clean(pad + value + pad) == ""
