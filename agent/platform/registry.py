"""Reading the Windows registry, behind a protocol so tests feed recorded keys on any OS.

The agent on Windows passes :class:`WinRegReader` (stdlib ``winreg``, imported only there);
tests pass ``tests/agent/registry_fixture.py``'s reader built from a JSON export.
Paths are full key paths with the hive first: ``HKLM\\SOFTWARE\\Microsoft\\...``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any, Protocol

RegistryValue = str | int | bytes | list[str] | None

HIVES = ("HKLM", "HKCU", "HKU", "HKCR")


class RegistryReader(Protocol):
    """Read-only access to registry keys and their values."""

    def subkeys(self, path: str) -> list[str]:
        """Names of the key's direct subkeys; [] when the key does not exist."""
        ...

    def values(self, path: str) -> dict[str, RegistryValue]:
        """The key's values by name; {} when the key does not exist."""
        ...


def walk(reader: RegistryReader, path: str) -> Iterator[tuple[str, dict[str, RegistryValue]]]:
    """Each direct subkey's full path and values."""
    for name in reader.subkeys(path):
        child = f"{path}\\{name}"
        yield child, reader.values(child)


class WinRegReader:  # pragma: no cover - exercised on Windows only
    """The real registry, through ``winreg``, 64-bit view unless told otherwise."""

    def __init__(self, view_32bit: bool = False) -> None:
        # Imported by name and typed Any: typeshed's winreg exists only when checking for win32.
        winreg: Any = importlib.import_module("winreg")
        self._winreg = winreg
        self._access = winreg.KEY_READ | (
            winreg.KEY_WOW64_32KEY if view_32bit else winreg.KEY_WOW64_64KEY
        )
        self._hives = {
            "HKLM": winreg.HKEY_LOCAL_MACHINE,
            "HKCU": winreg.HKEY_CURRENT_USER,
            "HKU": winreg.HKEY_USERS,
            "HKCR": winreg.HKEY_CLASSES_ROOT,
        }

    def _open(self, path: str) -> Any:
        hive, _, rest = path.partition("\\")
        try:
            key: object = self._winreg.OpenKey(self._hives[hive], rest, 0, self._access)
        except (OSError, KeyError):
            return None
        return key

    def subkeys(self, path: str) -> list[str]:
        key = self._open(path)
        if key is None:
            return []
        names: list[str] = []
        with key:
            index = 0
            while True:
                try:
                    names.append(self._winreg.EnumKey(key, index))
                except OSError:
                    return names
                index += 1

    def values(self, path: str) -> dict[str, RegistryValue]:
        key = self._open(path)
        if key is None:
            return {}
        found: dict[str, RegistryValue] = {}
        with key:
            index = 0
            while True:
                try:
                    name, value, _kind = self._winreg.EnumValue(key, index)
                except OSError:
                    return found
                found[name] = value
                index += 1
