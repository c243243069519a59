"""What the collectors need to know about the operating system, as one protocol.

Each supported OS implements :class:`Platform` in its own module; nothing outside
``agent.platform`` checks which OS it runs on. The records here are what the platform
readers return: plain values, empty strings and zeros where a fact is unknown.

Capabilities are split: ``hardware_supported`` says the hardware inventory readers
(``os_release``, ``kernel``, ``machine_identity``, ``block_devices``, ``hardware_facts``,
``cpu_model_fallback``) work; ``implemented`` says every reader works, which the other
collectors (health, ...) need.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Protocol


class FormFactor(enum.Enum):
    """What kind of machine this is."""

    UNKNOWN = "unknown"
    LAPTOP = "laptop"
    DESKTOP = "desktop"
    SERVER = "server"
    VIRTUAL_MACHINE = "virtual_machine"
    TABLET = "tablet"


class DiskType(enum.Enum):
    """The kind of storage behind a disk."""

    UNKNOWN = "unknown"
    HDD = "hdd"
    SSD = "ssd"
    NVME = "nvme"


@dataclass(frozen=True, slots=True)
class OsRelease:
    """The distribution or product name, version and build, empty when unknown."""

    name: str = ""
    version: str = ""
    build: str = ""


@dataclass(frozen=True, slots=True)
class MachineIdentity:
    """The machine's identity from firmware, junk values already turned into "".

    ``bios_date`` is ISO 8601 (YYYY-MM-DD); ``chassis_type`` is the SMBIOS chassis type
    number (0 when unknown); ``uuid`` is lower case.
    """

    vendor: str = ""
    model: str = ""
    serial_number: str = ""
    uuid: str = ""
    bios_vendor: str = ""
    bios_version: str = ""
    bios_date: str = ""
    chassis_type: int = 0


@dataclass(frozen=True, slots=True)
class BlockDevice:
    """A physical block device."""

    name: str
    model: str
    size_bytes: int
    serial_number: str = ""
    type: DiskType = DiskType.UNKNOWN


@dataclass(frozen=True, slots=True)
class MemoryModule:
    """One installed memory module."""

    slot: str
    size_bytes: int
    type: str = ""
    speed_mts: int = 0
    manufacturer: str = ""
    part_number: str = ""
    serial_number: str = ""


@dataclass(frozen=True, slots=True)
class NetworkPort:
    """What the OS knows about a network interface beyond its addresses."""

    name: str
    mac_address: str = ""
    speed_mbps: int = 0
    physical: bool = False


@dataclass(frozen=True, slots=True)
class CpuTopology:
    """The processors as the OS reports them; 0 and "" where unknown."""

    model: str = ""
    sockets: int = 0
    cores: int = 0
    threads: int = 0


@dataclass(frozen=True, slots=True)
class Virtualization:
    """The hypervisor ("kvm", "vmware", "hyperv", ...) and container ("docker", "lxc", ...)
    the agent runs under; both empty on bare metal."""

    hypervisor: str = ""
    container: str = ""

    @property
    def is_virtual_machine(self) -> bool:
        return bool(self.hypervisor)

    @property
    def label(self) -> str:
        """One string for the wire: "kvm", "container:docker", "kvm,container:docker" or ""."""
        parts = [self.hypervisor] if self.hypervisor else []
        if self.container:
            parts.append(f"container:{self.container}")
        return ",".join(parts)


@dataclass(frozen=True, slots=True)
class HardwareFacts:
    """Everything a platform reads about the machine for the hardware inventory.

    ``form_factor_hint`` is for machines without an SMBIOS chassis type (Macs): the
    platform's own idea of the form factor, used when the chassis type says nothing.
    """

    os: OsRelease = field(default_factory=OsRelease)
    kernel: str = ""
    identity: MachineIdentity = field(default_factory=MachineIdentity)
    cpu: CpuTopology = field(default_factory=CpuTopology)
    memory_total_bytes: int = 0
    memory_modules: list[MemoryModule] = field(default_factory=list)
    disks: list[BlockDevice] = field(default_factory=list)
    network_ports: list[NetworkPort] = field(default_factory=list)
    virtualization: Virtualization = field(default_factory=Virtualization)
    form_factor_hint: FormFactor = FormFactor.UNKNOWN


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
        """False for an OS whose readers are not all written yet: its collectors other than
        the hardware inventory are unsupported."""
        ...

    @property
    def hardware_supported(self) -> bool:
        """Whether the hardware inventory readers work on this OS."""
        ...

    def os_release(self) -> OsRelease: ...

    def kernel(self) -> str: ...

    def machine_identity(self) -> MachineIdentity: ...

    def block_devices(self) -> list[BlockDevice]: ...

    def hardware_facts(self) -> HardwareFacts:
        """Everything for the hardware inventory in one read; a reader that fails is logged
        and its facts are left unknown."""
        ...

    def cpu_model_fallback(self) -> str:
        """The CPU model from the OS's own records, for when py-cpuinfo fails."""
        ...

    def is_pseudo_filesystem(self, fstype: str) -> bool:
        """Whether a filesystem type is virtual (no disk behind it) and not worth reporting."""
        ...


class QueriedPlatform(ABC):
    """A platform whose facts all come from one query (``hardware_facts``): Windows' CIM
    query, macOS's system_profiler. Subclasses name the family, the pseudo filesystems and
    the query; the single-fact readers re-run the whole query, so callers wanting several
    facts use ``hardware_facts()`` once."""

    FAMILY = ""
    PSEUDO_FILESYSTEMS: frozenset[str] = frozenset()

    @property
    def family(self) -> str:
        return self.FAMILY

    @property
    def implemented(self) -> bool:
        return True

    @property
    def hardware_supported(self) -> bool:
        return True

    def is_pseudo_filesystem(self, fstype: str) -> bool:
        return fstype.lower() in self.PSEUDO_FILESYSTEMS

    @abstractmethod
    def hardware_facts(self) -> HardwareFacts:
        """Every fact, from the platform's one query."""

    def os_release(self) -> OsRelease:
        return self.hardware_facts().os

    def kernel(self) -> str:
        return self.hardware_facts().kernel

    def machine_identity(self) -> MachineIdentity:
        return self.hardware_facts().identity

    def block_devices(self) -> list[BlockDevice]:
        return self.hardware_facts().disks


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

    @property
    def hardware_supported(self) -> bool:
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

    def hardware_facts(self) -> HardwareFacts:
        raise self._refuse()

    def cpu_model_fallback(self) -> str:
        raise self._refuse()

    def is_pseudo_filesystem(self, fstype: str) -> bool:
        raise self._refuse()
