"""SMBIOS chassis types (DSP0134 3.x, 7.4.1) and the form factor Parc derives from them.

A machine with a hypervisor detected is a virtual machine whatever its chassis says
(hypervisors report "Other" or copy the host's chassis).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from agent.platform.base import FormFactor

OTHER: Final = 1
UNKNOWN: Final = 2

DESKTOP_TYPES: Final = frozenset(
    {
        3,  # Desktop
        4,  # Low Profile Desktop
        5,  # Pizza Box
        6,  # Mini Tower
        7,  # Tower
        13,  # All in One
        15,  # Space-saving
        16,  # Lunch Box
        24,  # Sealed-case PC
        35,  # Mini PC
        36,  # Stick PC
    }
)
LAPTOP_TYPES: Final = frozenset(
    {
        8,  # Portable
        9,  # Laptop
        10,  # Notebook
        14,  # Sub Notebook
        31,  # Convertible
        32,  # Detachable
    }
)
TABLET_TYPES: Final = frozenset({30})  # Tablet
SERVER_TYPES: Final = frozenset(
    {
        17,  # Main Server Chassis
        23,  # Rack Mount Chassis
        25,  # Multi-system chassis
        28,  # Blade
        29,  # Blade Enclosure
    }
)

_BY_TYPE: Final = {
    **dict.fromkeys(DESKTOP_TYPES, FormFactor.DESKTOP),
    **dict.fromkeys(LAPTOP_TYPES, FormFactor.LAPTOP),
    **dict.fromkeys(TABLET_TYPES, FormFactor.TABLET),
    **dict.fromkeys(SERVER_TYPES, FormFactor.SERVER),
}


def chassis_type(raw: int) -> int:
    """The chassis type number without the lock-present bit (bit 7); 0 when out of range."""
    value = raw & 0x7F if 0 <= raw <= 0xFF else 0
    return value


def first_meaningful(types: Iterable[int]) -> int:
    """The first chassis type that is neither "Other" nor "Unknown" (Windows lists several);
    else the first one given; else 0."""
    cleaned = [chassis_type(t) for t in types]
    for value in cleaned:
        if value not in (0, OTHER, UNKNOWN):
            return value
    return cleaned[0] if cleaned else 0


def form_factor(
    chassis: int, *, virtual_machine: bool, hint: FormFactor = FormFactor.UNKNOWN
) -> FormFactor:
    """The form factor: VIRTUAL_MACHINE when a hypervisor was detected, else the chassis
    type's, else the platform's hint."""
    if virtual_machine:
        return FormFactor.VIRTUAL_MACHINE
    return _BY_TYPE.get(chassis_type(chassis), hint)
