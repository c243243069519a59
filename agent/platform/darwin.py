"""macOS platform: the hardware inventory through system_profiler, ioreg, sw_vers and sysctl.
``os_release``, ``kernel``, ``machine_identity`` and ``block_devices`` each run the whole
query: callers wanting several facts use ``hardware_facts()`` once.
"""

from __future__ import annotations

from agent.collectors.hardware.profiler import ProfilerHardware
from agent.platform.base import (
    BlockDevice,
    HardwareFacts,
    MachineIdentity,
    OsRelease,
)
from agent.platform.runner import CommandRunner, SubprocessRunner

# Virtual filesystems psutil lists on macOS: the device tree, automounter maps, and the
# sealed system snapshot's firmlinked volumes are reported through their data volume.
PSEUDO_FILESYSTEMS = frozenset({"", "devfs", "autofs", "nullfs", "lifs"})


class DarwinPlatform:
    """macOS readers over a command runner."""

    def __init__(self, runner: CommandRunner | None = None) -> None:
        self._profiler = ProfilerHardware(runner if runner is not None else SubprocessRunner())

    @property
    def family(self) -> str:
        return "darwin"

    @property
    def implemented(self) -> bool:
        return True

    @property
    def hardware_supported(self) -> bool:
        return True

    def is_pseudo_filesystem(self, fstype: str) -> bool:
        return fstype.lower() in PSEUDO_FILESYSTEMS

    def hardware_facts(self) -> HardwareFacts:
        return self._profiler.read()

    def os_release(self) -> OsRelease:
        return self.hardware_facts().os

    def kernel(self) -> str:
        return self.hardware_facts().kernel

    def machine_identity(self) -> MachineIdentity:
        return self.hardware_facts().identity

    def block_devices(self) -> list[BlockDevice]:
        return self.hardware_facts().disks

    def cpu_model_fallback(self) -> str:
        return self._profiler.cpu_brand()
