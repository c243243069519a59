"""macOS platform: the hardware inventory through system_profiler, ioreg, sw_vers and sysctl."""

from __future__ import annotations

from agent.collectors.hardware.profiler import ProfilerHardware
from agent.platform.base import HardwareFacts, QueriedPlatform
from agent.platform.runner import CommandRunner, SubprocessRunner

# Virtual filesystems psutil lists on macOS: the device tree, automounter maps, and the
# sealed system snapshot's firmlinked volumes are reported through their data volume.
PSEUDO_FILESYSTEMS = frozenset({"", "devfs", "autofs", "nullfs", "lifs"})


class DarwinPlatform(QueriedPlatform):
    """macOS readers over a command runner."""

    FAMILY = "darwin"
    PSEUDO_FILESYSTEMS = PSEUDO_FILESYSTEMS

    def __init__(self, runner: CommandRunner | None = None) -> None:
        self._profiler = ProfilerHardware(runner if runner is not None else SubprocessRunner())

    def hardware_facts(self) -> HardwareFacts:
        return self._profiler.read()

    def cpu_model_fallback(self) -> str:
        return self._profiler.cpu_brand()
