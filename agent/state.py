"""The layout of the agent's state directory (one place names every file in it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class StatePaths:
    """Files under the state directory DIR."""

    root: Path

    @property
    def identity_dir(self) -> Path:
        return self.root / "identity"

    @property
    def device_key(self) -> Path:
        return self.identity_dir / "device.key"

    @property
    def device_cert(self) -> Path:
        return self.identity_dir / "device.crt"

    @property
    def ca_cert(self) -> Path:
        return self.identity_dir / "ca.crt"

    @property
    def signing_key(self) -> Path:
        return self.identity_dir / "signing.pub"

    @property
    def device_record(self) -> Path:
        return self.identity_dir / "device.json"

    @property
    def config(self) -> Path:
        return self.root / "agent.toml"

    @property
    def spool(self) -> Path:
        return self.root / "spool.db"

    @property
    def inventory_sections(self) -> Path:
        """The hashes of the inventory sections last spooled in full (agent.sections)."""
        return self.root / "inventory_sections.json"

    @property
    def status(self) -> Path:
        return self.root / "status.json"
