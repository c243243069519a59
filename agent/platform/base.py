"""What the collectors need to know about the operating system, as one protocol.

Each supported OS implements :class:`Platform` in its own module; nothing outside
``agent.platform`` checks which OS it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OsRelease:
    """The distribution or product name and version, empty when unknown."""

    name: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class MachineIdentity:
    """The machine's vendor, model and serial number from firmware, empty when unknown."""

    vendor: str = ""
    model: str = ""
    serial_number: str = ""


@dataclass(frozen=True, slots=True)
class BlockDevice:
    """A physical block device."""

    name: str
    model: str
    size_bytes: int


class PlatformNotImplementedError(NotImplementedError):
    """Raised by a platform whose readers are not written yet."""


class Platform(Protocol):
    """The OS-specific readers the collectors use."""

    @property
    def family(self) -> str:
        """ "linux", "windows" or "darwin"."""
        ...

    @property
    def implemented(self) -> bool:
        """False for an OS whose readers are not written yet: its collectors are unsupported."""
        ...

    def os_release(self) -> OsRelease: ...

    def kernel(self) -> str: ...

    def machine_identity(self) -> MachineIdentity: ...

    def block_devices(self) -> list[BlockDevice]: ...

    def cpu_model_fallback(self) -> str:
        """The CPU model from the OS's own records, for when py-cpuinfo fails."""
        ...

    def is_pseudo_filesystem(self, fstype: str) -> bool:
        """Whether a filesystem type is virtual (no disk behind it) and not worth reporting."""
        ...


class UnimplementedPlatform:
    """A platform Parc does not support yet: honest about it, so its collectors turn off."""

    def __init__(self, family: str) -> None:
        self._family = family

    @property
    def family(self) -> str:
        return self._family

    @property
    def implemented(self) -> bool:
        return False

    def _refuse(self) -> PlatformNotImplementedError:
        return PlatformNotImplementedError(f"the {self._family} platform is not implemented yet")

    def os_release(self) -> OsRelease:
        raise self._refuse()

    def kernel(self) -> str:
        raise self._refuse()

    def machine_identity(self) -> MachineIdentity:
        raise self._refuse()

    def block_devices(self) -> list[BlockDevice]:
        raise self._refuse()

    def cpu_model_fallback(self) -> str:
        raise self._refuse()

    def is_pseudo_filesystem(self, fstype: str) -> bool:
        raise self._refuse()
