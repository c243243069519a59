"""Whether the OS says a reboot is pending, and what says so.

- Debian/Ubuntu: ``/run/reboot-required`` exists (written by update-notifier and package
  hooks), ``/run/reboot-required.pkgs`` names the packages.
- RHEL/Fedora: ``needs-restarting -r`` exits 1 when a reboot is needed, 0 when not, listing the
  updated core packages as ``  * name`` lines. It reads the rpm database: a slow signal.
- Windows: the ``RebootPending`` key of Component Based Servicing, the ``RebootRequired`` key of
  Windows Update, and the ``PendingFileRenameOperations`` value of the Session Manager.
"""

from __future__ import annotations

from pathlib import Path

from agent.collectors.health.records import RebootStatus
from agent.collectors.health.signals import ParseError, SignalSource, SignalUnavailable
from agent.collectors.health.sysfs import read_attribute
from agent.platform.registry import RegistryReader
from agent.platform.runner import CommandRunner

SIGNAL = "reboot_pending"
NEEDS_RESTARTING = ("needs-restarting", "-r")
NEEDS_RESTARTING_TIMEOUT_S = 120.0


def parse_reboot_required_pkgs(text: str) -> list[str]:
    """Package names of reboot-required.pkgs, each once, in order."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        name = line.strip()
        if name and not name.startswith("#"):
            seen.setdefault(name[:200])
    return list(seen)


def parse_needs_restarting(returncode: int, output: str) -> RebootStatus:
    """``needs-restarting -r``: exit 1 means a reboot is needed, 0 means it is not."""
    if returncode not in (0, 1):
        raise ParseError(f"needs-restarting -r exited with status {returncode}")
    packages = [
        line.strip()[2:].strip()
        for line in output.splitlines()
        if line.strip().startswith("* ") and line.strip()[2:].strip()
    ]
    if returncode == 0:
        return RebootStatus(False)
    return RebootStatus(True, ("needs-restarting -r", *(f"package: {p}" for p in packages)))


class RebootRequiredFile:
    """Debian/Ubuntu's flag file; absent means no reboot is pending."""

    signal = SIGNAL

    def __init__(self, run_root: Path = Path("/run")) -> None:
        self._flag = run_root / "reboot-required"
        self._pkgs = run_root / "reboot-required.pkgs"

    def flagged(self) -> RebootStatus | None:
        """The status when the flag file exists, else None."""
        if not self._flag.exists():
            return None
        packages = parse_reboot_required_pkgs(read_attribute(self._pkgs) or "")
        return RebootStatus(True, ("/run/reboot-required", *(f"package: {p}" for p in packages)))

    def read(self) -> RebootStatus:
        return self.flagged() or RebootStatus(False)


class NeedsRestarting:
    """RHEL/Fedora's ``needs-restarting -r`` (dnf-utils / yum-utils)."""

    signal = SIGNAL

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def read(self) -> RebootStatus:
        if self._runner.which(NEEDS_RESTARTING[0]) is None:
            raise SignalUnavailable("needs-restarting is not installed")
        result = self._runner.run(NEEDS_RESTARTING, timeout=NEEDS_RESTARTING_TIMEOUT_S)
        return parse_needs_restarting(result.returncode, result.text)


class LinuxReboot:
    """The flag file when it is set; otherwise ``needs-restarting`` (cached) where installed,
    else no reboot pending."""

    signal = SIGNAL

    def __init__(
        self, flag_file: RebootRequiredFile, needs_restarting: SignalSource[RebootStatus] | None
    ) -> None:
        self._flag_file = flag_file
        self._needs_restarting = needs_restarting

    def read(self) -> RebootStatus:
        flagged = self._flag_file.flagged()
        if flagged is not None:
            return flagged
        if self._needs_restarting is not None:
            return self._needs_restarting.read()
        return RebootStatus(False)


CBS = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing"
WINDOWS_UPDATE = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update"
SESSION_MANAGER = r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager"


def _has_subkey(registry: RegistryReader, parent: str, name: str) -> bool:
    return name.lower() in (key.lower() for key in registry.subkeys(parent))


def _non_empty(value: object) -> bool:
    if isinstance(value, list):
        return any(isinstance(item, str) and item.strip("\x00 ") for item in value)
    if isinstance(value, str):
        return bool(value.strip("\x00 "))
    if isinstance(value, bytes):
        return any(value)
    return False


class WindowsReboot:
    """Pending reboot from the registry keys Windows servicing sets."""

    signal = SIGNAL

    def __init__(self, registry: RegistryReader) -> None:
        self._registry = registry

    def read(self) -> RebootStatus:
        reasons: list[str] = []
        if _has_subkey(self._registry, CBS, "RebootPending"):
            reasons.append(f"{CBS}\\RebootPending")
        if _has_subkey(self._registry, WINDOWS_UPDATE, "RebootRequired"):
            reasons.append(f"{WINDOWS_UPDATE}\\RebootRequired")
        session = {k.lower(): v for k, v in self._registry.values(SESSION_MANAGER).items()}
        for name in ("PendingFileRenameOperations", "PendingFileRenameOperations2"):
            if _non_empty(session.get(name.lower())):
                reasons.append(f"{SESSION_MANAGER}\\{name}")
        return RebootStatus(bool(reasons), tuple(reasons))
