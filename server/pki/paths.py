"""Where the collector keeps its keys and certificates: ``DATA/pki/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PkiPaths:
    """The files of the collector's PKI. Private keys are mode 0600, the folder 0700."""

    directory: Path
    ca_key: Path
    ca_certificate: Path
    server_key: Path
    server_certificate: Path
    signing_key: Path
    signing_public_key: Path

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> PkiPaths:
        directory = data_dir / "pki"
        return cls(
            directory=directory,
            ca_key=directory / "ca.key",
            ca_certificate=directory / "ca.crt",
            server_key=directory / "server.key",
            server_certificate=directory / "server.crt",
            signing_key=directory / "signing.key",
            signing_public_key=directory / "signing.pub",
        )

    def files(self) -> tuple[Path, ...]:
        """Every file of the PKI, private keys first."""
        return (
            self.ca_key,
            self.server_key,
            self.signing_key,
            self.ca_certificate,
            self.server_certificate,
            self.signing_public_key,
        )
