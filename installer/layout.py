"""Where the agent lives on each system. Linux paths can be re-rooted (``--root DIR``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

SERVICE_NAME = "parc-agent"
PACKAGE_NAME = "parc-agent"

LINUX_OPT = PurePosixPath("/opt/parc-agent")
LINUX_CONFIG = PurePosixPath("/etc/parc")
LINUX_STATE = PurePosixPath("/var/lib/parc-agent")
LOCAL_UNITS = PurePosixPath("/etc/systemd/system")
PACKAGED_UNITS = PurePosixPath("/lib/systemd/system")
WINDOWS_PROGRAM = PureWindowsPath(r"C:\Program Files\Parc Agent")
WINDOWS_DATA = PureWindowsPath(r"C:\ProgramData\Parc")
MAC_PROGRAM = PurePosixPath("/usr/local/parc-agent")
MAC_DATA = PurePosixPath("/Library/Application Support/Parc")
MAC_LOGS = PurePosixPath("/Library/Logs/Parc")


@dataclass(frozen=True, slots=True)
class LinuxLayout:
    """Target paths (as the running service sees them) and their place under ``root``."""

    root: Path = Path("/")
    opt_dir: PurePosixPath = LINUX_OPT
    config_dir: PurePosixPath = LINUX_CONFIG
    state_dir: PurePosixPath = LINUX_STATE
    unit_dir: PurePosixPath = LOCAL_UNITS

    @property
    def venv(self) -> PurePosixPath:
        return self.opt_dir / "venv"

    @property
    def wheels(self) -> PurePosixPath:
        return self.opt_dir / "wheels"

    @property
    def installed_record(self) -> PurePosixPath:
        return self.opt_dir / "installed.json"

    @property
    def config(self) -> PurePosixPath:
        return self.config_dir / "agent.toml"

    @property
    def ca_cert(self) -> PurePosixPath:
        return self.config_dir / "ca.crt"

    @property
    def unit(self) -> PurePosixPath:
        return self.unit_dir / f"{SERVICE_NAME}.service"

    @property
    def python(self) -> PurePosixPath:
        return self.venv / "bin" / "python"

    def host(self, path: PurePosixPath) -> Path:
        """Where ``path`` is on this machine (under ``root``)."""
        return self.root / path.relative_to("/")

    @property
    def rerooted(self) -> bool:
        return self.root.resolve() != Path("/")


DEB_LAYOUT = LinuxLayout(unit_dir=PACKAGED_UNITS)


@dataclass(frozen=True, slots=True)
class WindowsLayout:
    program_dir: PureWindowsPath = WINDOWS_PROGRAM
    data_dir: PureWindowsPath = WINDOWS_DATA
    service_name: str = "ParcAgent"
    display_name: str = "Parc Agent"

    @property
    def venv(self) -> PureWindowsPath:
        return self.program_dir / "venv"

    @property
    def python(self) -> PureWindowsPath:
        return self.venv / "Scripts" / "python.exe"

    @property
    def config(self) -> PureWindowsPath:
        return self.data_dir / "agent.toml"

    @property
    def ca_cert(self) -> PureWindowsPath:
        return self.data_dir / "ca.crt"

    @property
    def state_dir(self) -> PureWindowsPath:
        return self.data_dir / "state"


@dataclass(frozen=True, slots=True)
class MacLayout:
    program_dir: PurePosixPath = MAC_PROGRAM
    data_dir: PurePosixPath = MAC_DATA
    label: str = "com.parc.agent"
    log_dir: PurePosixPath = MAC_LOGS

    @property
    def venv(self) -> PurePosixPath:
        return self.program_dir / "venv"

    @property
    def python(self) -> PurePosixPath:
        return self.venv / "bin" / "python3"

    @property
    def config(self) -> PurePosixPath:
        return self.data_dir / "agent.toml"

    @property
    def ca_cert(self) -> PurePosixPath:
        return self.data_dir / "ca.crt"

    @property
    def state_dir(self) -> PurePosixPath:
        return self.data_dir / "state"

    @property
    def plist(self) -> PurePosixPath:
        return PurePosixPath("/Library/LaunchDaemons") / f"{self.label}.plist"
