"""Windows platform: the hardware inventory through one PowerShell CIM query, the registry
for what is cheap there."""

from __future__ import annotations

import logging

from agent.collectors.hardware.cim import CimHardware
from agent.platform.base import HardwareFacts, QueriedPlatform
from agent.platform.registry import RegistryReader, WinRegReader
from agent.platform.runner import CommandRunner, SubprocessRunner

log = logging.getLogger(__name__)

CPU_KEY = "HKLM\\HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0"


# psutil reports CD/DVD drives without media and network shares with these types; neither has a
# local disk behind it worth a use percentage.
PSEUDO_FILESYSTEMS = frozenset({"", "cdfs", "udf"})


class WindowsPlatform(QueriedPlatform):
    """Windows readers over a command runner (PowerShell) and a registry reader."""

    FAMILY = "windows"
    PSEUDO_FILESYSTEMS = PSEUDO_FILESYSTEMS

    def __init__(
        self, runner: CommandRunner | None = None, registry: RegistryReader | None = None
    ) -> None:
        self._cim = CimHardware(runner if runner is not None else SubprocessRunner())
        self._registry = registry

    def hardware_facts(self) -> HardwareFacts:
        return self._cim.read()

    @property
    def registry(self) -> RegistryReader:
        """The registry (the real one unless a reader was injected)."""
        if self._registry is None:
            self._registry = WinRegReader()  # pragma: no cover - imports winreg
        return self._registry

    def cpu_model_fallback(self) -> str:
        """ProcessorNameString from the registry: cheap, no PowerShell."""
        value = self.registry.values(CPU_KEY).get("ProcessorNameString")
        return value.strip() if isinstance(value, str) else ""
