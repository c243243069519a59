"""macOS platform: the hardware inventory through system_profiler, ioreg, sw_vers and sysctl.

The other collectors (health, ...) are not written for macOS yet, so ``implemented`` stays
False and only ``hardware_supported`` is True. ``os_release``, ``kernel``,
``machine_identity`` and ``block_devices`` each run the whole query: callers wanting several
facts use ``hardware_facts()`` once.
"""

from __future__ import annotations

from agent.collectors.hardware.profiler import ProfilerHardware
from agent.platform.base import (
    BlockDevice,
    HardwareFacts,
    MachineIdentity,
    OsRelease,
    UnimplementedPlatform,
)
from agent.platform.runner import CommandRunner, SubprocessRunner


class DarwinPlatform(UnimplementedPlatform):
    """macOS readers over a command runner."""

    def __init__(self, runner: CommandRunner | None = None) -> None:
        super().__init__("darwin")
        self._profiler = ProfilerHardware(runner if runner is not None else SubprocessRunner())

    @property
    def hardware_supported(self) -> bool:
        return True

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
