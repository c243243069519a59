"""Windows platform: not implemented yet, so its collectors report themselves unsupported."""

from __future__ import annotations

from agent.platform.base import UnimplementedPlatform


class WindowsPlatform(UnimplementedPlatform):
    """Placeholder until the registry and WMI readers are written."""

    def __init__(self) -> None:
        super().__init__("windows")
