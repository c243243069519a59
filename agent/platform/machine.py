"""The collectors for the machine the agent runs on, chosen by its OS in this one place.

Every concern has its per-OS factory in its own package (``linux_sources``,
``windows_software``, ...); this module picks the right one for ``platform.family`` and wires
the shared pieces: one command runner, the Windows registry, one dpkg status cache for software
and licences, and a once-per-process answer to "is this a virtual machine?" for SMART.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent.collectors.base import Collector
from agent.collectors.inventory import CpuModel, InventoryCollector
from agent.collectors.system import SystemProbe
from agent.platform.base import Platform
from agent.platform.runner import CommandRunner, SubprocessRunner

if TYPE_CHECKING:  # the resident agent loads health only; the worker loads the rest
    from agent.collectors.health import HealthCollector, SlowSchedule
    from agent.collectors.licences.records import LicenceInventory
    from agent.collectors.software.records import SoftwareInventory
    from agent.platform.windows import WindowsPlatform


@dataclass(frozen=True)
class MachineCollectors:
    """What the inventory collects about the machine (health has its own collector)."""

    hardware: InventoryCollector
    software: Collector[SoftwareInventory]
    licences: Collector[LicenceInventory]


def machine_collectors(
    platform: Platform,
    probe: SystemProbe,
    *,
    runner: CommandRunner | None = None,
    cpu_model: CpuModel | None = None,
    root: Path = Path("/"),
) -> MachineCollectors:
    """The inventory collectors (hardware, software, licences) for ``platform``."""
    runner = runner if runner is not None else SubprocessRunner()
    software: Collector[SoftwareInventory]
    licences: Collector[LicenceInventory]
    if platform.family == "linux":
        from agent.collectors.licences import linux_licences
        from agent.collectors.software import DpkgStatusCache, linux_software

        status = DpkgStatusCache(root)
        software = linux_software(root, runner, status=status)
        licences = linux_licences(root, runner, status=status)
    elif platform.family == "windows":
        from agent.collectors.licences import windows_licences
        from agent.collectors.software import windows_software

        software = windows_software(_windows(platform).registry, runner)
        licences = windows_licences(runner)
    else:
        from agent.collectors.licences import darwin_licences
        from agent.collectors.software import SoftwareCollector, darwin_software

        # macOS has application bundles; an OS Parc does not know gets collectors that
        # report themselves unsupported.
        software = darwin_software(root) if platform.family == "darwin" else SoftwareCollector([])
        licences = darwin_licences()
    return MachineCollectors(
        hardware=InventoryCollector(platform, probe, cpu_model=cpu_model),
        software=software,
        licences=licences,
    )


def health_collector(
    platform: Platform,
    probe: SystemProbe,
    *,
    runner: CommandRunner | None = None,
    schedule: SlowSchedule | None = None,
    root: Path = Path("/"),
) -> HealthCollector:
    """The health collector for ``platform`` with its OS's signal sources; ``schedule`` says
    how slow signals refresh (``SlowSchedule(background=False)`` for a one-shot sample)."""
    from agent.collectors.health import HealthCollector, HealthSources

    runner = runner if runner is not None else SubprocessRunner()

    @functools.cache
    def is_virtual() -> bool:
        return platform.hardware_facts().virtualization.is_virtual_machine

    sources: HealthSources
    if platform.family == "linux":
        from agent.collectors.health import linux_sources

        sources = linux_sources(
            runner,
            is_virtual,
            sys_root=root / "sys",
            proc_root=root / "proc",
            run_root=root / "run",
            schedule=schedule,
        )
    elif platform.family == "windows":
        from agent.collectors.health import windows_sources

        registry = _windows(platform).registry
        sources = windows_sources(runner, registry, is_virtual, schedule=schedule)
    elif platform.family == "darwin":
        from agent.collectors.health import darwin_sources

        sources = darwin_sources(runner, is_virtual, schedule=schedule)
    else:
        sources = HealthSources()
    return HealthCollector(platform, probe, sources=sources)


def _windows(platform: Platform) -> WindowsPlatform:
    from agent.platform.windows import WindowsPlatform

    if not isinstance(platform, WindowsPlatform):
        raise TypeError(f"expected the Windows platform, got {type(platform).__name__}")
    return platform
