"""macOS platform: not implemented yet, so its collectors report themselves unsupported."""

from __future__ import annotations

from agent.platform.base import UnimplementedPlatform


class DarwinPlatform(UnimplementedPlatform):
    """Placeholder until the IOKit/sysctl readers are written."""

    def __init__(self) -> None:
        super().__init__("darwin")
