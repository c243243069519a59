"""Sizes, speeds and firmware dates as the readers meet them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.collectors.hardware.values import as_int, first_int, iso_date, parse_size


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("09/14/2023", "2023-09-14"),
        ("08/10/21", "2021-08-10"),
        ("12/31/99", "1999-12-31"),
        ("2023-11-08", "2023-11-08"),
        ("2023-11-08T00:00:00+01:00", "2023-11-08"),
        ("20200515000000.000000+000", "2020-05-15"),
        ("/Date(1588291200000)/", "2020-05-01"),
        ("\\/Date(1588291200000)\\/", "2020-05-01"),
        ("13/45/2020", ""),
        ("02/30/2021", ""),
        ("Not Specified", ""),
        ("", ""),
    ],
)
def test_iso_date(raw: str, expected: str) -> None:
    assert iso_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("16 GB", 16 * 1024**3),
        ("8192 MB", 8 * 1024**3),
        ("512 kB", 512 * 1024),
        ("500.28 GB", int(500.28 * 1024**3)),
        ("1 TB", 1024**4),
        (123, 123),
        ("empty", 0),
        ("No Module Installed", 0),
        ("12 parsecs", 0),
        (True, 0),
    ],
)
def test_parse_size(raw: object, expected: int) -> None:
    assert parse_size(raw) == expected


def test_integers() -> None:
    assert first_int("3200 MT/s") == 3200
    assert first_int("Unknown") == 0
    assert as_int("42") == 42 and as_int("-1") == 0 and as_int(-5) == 0 and as_int(None) == 0
    assert as_int(float("nan")) == 0 and as_int(1e300) == 0 and as_int(True) == 0


@given(st.one_of(st.text(max_size=80), st.integers(), st.floats(), st.none(), st.booleans()))
def test_value_parsers_never_crash(raw: object) -> None:
    assert parse_size(raw) >= 0
    assert first_int(raw) >= 0
    assert as_int(raw) >= 0
    date = iso_date(raw)
    assert date == "" or (len(date) == 10 and date[4] == "-" and date[7] == "-")
