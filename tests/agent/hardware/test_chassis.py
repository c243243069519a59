"""SMBIOS chassis types to form factors; a detected hypervisor always means a VM."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.collectors.hardware.chassis import chassis_type, first_meaningful, form_factor
from agent.platform.base import FormFactor


@pytest.mark.parametrize(
    ("chassis", "expected"),
    [
        *[(t, FormFactor.DESKTOP) for t in (3, 4, 5, 6, 7, 13, 15, 16, 24, 35)],
        *[(t, FormFactor.LAPTOP) for t in (8, 9, 10, 14, 31, 32)],
        (30, FormFactor.TABLET),
        *[(t, FormFactor.SERVER) for t in (17, 23, 25, 28, 29)],
        *[(t, FormFactor.UNKNOWN) for t in (0, 1, 2, 12, 21, 99)],
        (0x80 | 10, FormFactor.LAPTOP),  # bit 7 is "chassis lock present"
    ],
)
def test_chassis_table(chassis: int, expected: FormFactor) -> None:
    assert form_factor(chassis, virtual_machine=False) == expected


@pytest.mark.parametrize("chassis", [0, 1, 3, 10, 17, 30])
def test_a_virtual_machine_is_one_whatever_its_chassis(chassis: int) -> None:
    assert form_factor(chassis, virtual_machine=True) == FormFactor.VIRTUAL_MACHINE


def test_hint_only_when_the_chassis_says_nothing() -> None:
    assert form_factor(2, virtual_machine=False, hint=FormFactor.LAPTOP) == FormFactor.LAPTOP
    assert form_factor(17, virtual_machine=False, hint=FormFactor.LAPTOP) == FormFactor.SERVER


def test_first_meaningful_skips_other_and_unknown() -> None:
    assert first_meaningful([1, 2, 10]) == 10
    assert first_meaningful([2]) == 2
    assert first_meaningful([]) == 0


@given(st.integers(min_value=-(2**40), max_value=2**40), st.booleans())
def test_any_number_gives_a_form_factor(chassis: int, vm: bool) -> None:
    assert isinstance(form_factor(chassis, virtual_machine=vm), FormFactor)
    assert 0 <= chassis_type(chassis) < 0x80
