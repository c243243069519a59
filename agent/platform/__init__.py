"""The only place that knows which operating system the agent runs on.

``current_platform()`` picks the implementation once; collectors receive it by injection.
"""

from __future__ import annotations

import sys

from agent.platform.base import (
    BlockDevice,
    MachineIdentity,
    OsRelease,
    Platform,
    PlatformNotImplementedError,
    UnimplementedPlatform,
)


def current_platform(system: str = sys.platform) -> Platform:
    """The platform of the running machine (``system`` is a ``sys.platform`` value)."""
    if system.startswith("linux"):
        from agent.platform.linux import LinuxPlatform

        return LinuxPlatform()
    if system == "win32":
        from agent.platform.windows import WindowsPlatform

        return WindowsPlatform()
    if system == "darwin":
        from agent.platform.darwin import DarwinPlatform

        return DarwinPlatform()
    return UnimplementedPlatform(system)


__all__ = [
    "BlockDevice",
    "MachineIdentity",
    "OsRelease",
    "Platform",
    "PlatformNotImplementedError",
    "UnimplementedPlatform",
    "current_platform",
]
