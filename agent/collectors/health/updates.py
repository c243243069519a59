"""Pending OS updates, and how many of them are security updates: a slow signal (subprocesses).

- apt: ``/usr/lib/update-notifier/apt-check`` where installed (prints ``N;M`` on stderr:
  updates;security updates), else ``apt-get -s -o Debug::NoLocking=1 upgrade`` (one ``Inst``
  line per package; a security update's origin names a ``-security`` suite). Both read the
  package lists as they are: the agent never runs ``apt-get update`` itself.
- dnf: ``dnf -q check-update`` (exit 100 when updates exist, 0 when none; one
  ``name.arch  version  repo`` line each) and ``dnf -q updateinfo list --security``.
- Windows: the Windows Update Agent COM API through PowerShell, searching
  ``IsInstalled=0 and IsHidden=0``; security = an MSRC severity or the Security Updates category.
- macOS: ``softwareupdate -l`` (one ``* Label:`` item each; security by title).
"""

from __future__ import annotations

import json
import re
from typing import Any

from agent.collectors.health.records import UpdateCounts
from agent.collectors.health.signals import ParseError, SignalUnavailable, SourceError
from agent.platform.runner import CommandResult, CommandRunner

SIGNAL = "pending_updates"
TIMEOUT_S = 300.0

APT_CHECK = "/usr/lib/update-notifier/apt-check"
APT_SIMULATE = ("apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade")
DNF_CHECK_UPDATE = ("dnf", "-q", "check-update")
DNF_SECURITY = ("dnf", "-q", "updateinfo", "list", "--security")
SOFTWAREUPDATE = ("softwareupdate", "-l")

WINDOWS_SECURITY_CATEGORY = "0fa1201d-4330-4fa8-8ae9-b877473b6441"  # "Security Updates"
WINDOWS_UPDATE_SCRIPT = (
    "$ErrorActionPreference = 'Stop'; "
    "$searcher = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher(); "
    "$result = $searcher.Search('IsInstalled=0 and IsHidden=0'); "
    "$updates = @(foreach ($u in $result.Updates) { [pscustomobject]@{ "
    "Title = $u.Title; MsrcSeverity = $u.MsrcSeverity; "
    "Categories = @(foreach ($c in $u.Categories) { $c.CategoryID }) } }); "
    "ConvertTo-Json -InputObject ([pscustomobject]@{ Count = $updates.Count; "
    "Updates = $updates }) -Depth 4 -Compress"
)
WINDOWS_UPDATE_COMMAND = (
    "powershell",
    "-NoProfile",
    "-NonInteractive",
    "-Command",
    WINDOWS_UPDATE_SCRIPT,
)

_APT_CHECK_OUTPUT = re.compile(r"^\s*(\d+);(\d+)\s*$")
_NEVRA = re.compile(r"^(?P<name>\S+)-[^-\s]+-[^-\s]+\.[A-Za-z0-9_]+$")


def _first_line(result: CommandResult) -> str:
    for raw in (result.stderr, result.stdout):
        for line in raw.decode("utf-8", errors="replace").splitlines():
            if line.strip():
                return line.strip()[:200]
    return "no output"


def _failed(result: CommandResult) -> SourceError:
    return SourceError(
        f"{result.args[0]} exited with status {result.returncode}: {_first_line(result)}"
    )


def parse_apt_check(stderr: str) -> UpdateCounts:
    """update-notifier's ``apt-check`` output: ``updates;security``."""
    for line in stderr.splitlines():
        match = _APT_CHECK_OUTPUT.match(line)
        if match:
            total, security = int(match.group(1)), int(match.group(2))
            return UpdateCounts(total, min(security, total))
    raise ParseError("apt-check printed no 'updates;security' line")


def parse_apt_simulation(text: str) -> UpdateCounts:
    """``apt-get -s upgrade``: one ``Inst`` line per package, its origins in parentheses."""
    total = security = 0
    for line in text.splitlines():
        if not line.startswith("Inst "):
            continue
        total += 1
        _, _, origins = line.partition("(")
        if "-security" in origins.lower():
            security += 1
    return UpdateCounts(total, security)


def parse_dnf_check_update(text: str) -> set[str]:
    """The ``name.arch`` of each package ``dnf check-update`` lists (obsoletes excluded)."""
    packages: set[str] = set()
    for line in text.splitlines():
        if line.startswith("Obsoleting Packages"):
            break
        if not line or line[0].isspace():
            continue  # blank, or the continuation of a wrapped line
        fields = line.split()
        if len(fields) in (1, 3) and "." in fields[0] and not fields[0].endswith(":"):
            packages.add(fields[0])
    return packages


def parse_dnf_security(text: str) -> set[str]:
    """Package names with a pending security advisory in ``dnf updateinfo list --security``
    (dnf 4: ``ID  Severity/Sec.  NEVRA``; dnf 5 adds a header and a type column)."""
    names: set[str] = set()
    for line in text.splitlines():
        fields = line.split()
        for field in fields[1:]:
            match = _NEVRA.match(field)
            if match:
                names.add(match.group("name"))
                break
    return names


def parse_windows_updates(text: str) -> UpdateCounts:
    """The JSON the Windows Update script prints."""
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"Windows Update output is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError("Windows Update output is not a JSON object")
    updates: Any = data.get("Updates")
    if updates is None:
        updates = []
    elif isinstance(updates, dict):
        updates = [updates]  # PowerShell unrolls one-element arrays
    if not isinstance(updates, list):
        raise ParseError("Windows Update output has no list of updates")
    security = 0
    for update in updates:
        if not isinstance(update, dict):
            raise ParseError("Windows Update output holds an update that is not an object")
        severity = update.get("MsrcSeverity")
        categories = update.get("Categories") or []
        if isinstance(categories, str):
            categories = [categories]
        in_security = isinstance(categories, list) and any(
            isinstance(c, str) and c.lower() == WINDOWS_SECURITY_CATEGORY for c in categories
        )
        if (isinstance(severity, str) and severity.strip()) or in_security:
            security += 1
    return UpdateCounts(len(updates), security)


def parse_softwareupdate(text: str) -> UpdateCounts:
    """``softwareupdate -l`` (stdout and stderr together)."""
    items: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("* "):
            items.append(stripped[2:])
        elif items and stripped.startswith("Title:"):
            items[-1] += " " + stripped
    if not items and "No new software available" not in text:
        raise ParseError("softwareupdate -l listed no updates and did not say there were none")
    security = sum(1 for item in items if "security" in item.lower())
    return UpdateCounts(len(items), security)


class LinuxUpdates:
    """apt (through apt-check or a simulated upgrade) or dnf, whichever is installed."""

    signal = SIGNAL

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def read(self) -> UpdateCounts:
        if self._runner.which(APT_CHECK) is not None:
            result = self._runner.run((APT_CHECK,), timeout=TIMEOUT_S)
            if result.returncode != 0:
                raise _failed(result)
            return parse_apt_check(result.stderr.decode("utf-8", errors="replace"))
        if self._runner.which(APT_SIMULATE[0]) is not None:
            result = self._runner.run(APT_SIMULATE, timeout=TIMEOUT_S)
            if result.returncode != 0:
                raise _failed(result)
            return parse_apt_simulation(result.text)
        if self._runner.which(DNF_CHECK_UPDATE[0]) is not None:
            return self._dnf()
        raise SignalUnavailable("no supported package manager (apt, dnf)")

    def _dnf(self) -> UpdateCounts:
        result = self._runner.run(DNF_CHECK_UPDATE, timeout=TIMEOUT_S)
        if result.returncode == 0:
            return UpdateCounts(0, 0)
        if result.returncode != 100:
            raise _failed(result)
        packages = parse_dnf_check_update(result.text)
        names = {package.rsplit(".", 1)[0] for package in packages}
        security = self._runner.run(DNF_SECURITY, timeout=TIMEOUT_S)
        if security.returncode != 0:
            reason = f"dnf updateinfo failed: {_first_line(security)}"
            return UpdateCounts(len(packages), None, reason)
        secure = parse_dnf_security(security.text) & names
        return UpdateCounts(len(packages), len(secure))


class WindowsUpdates:
    """Windows Update Agent search through PowerShell."""

    signal = SIGNAL

    def __init__(self, runner: CommandRunner, *, timeout_s: float = TIMEOUT_S) -> None:
        self._runner = runner
        self._timeout = timeout_s

    def read(self) -> UpdateCounts:
        result = self._runner.run(WINDOWS_UPDATE_COMMAND, timeout=self._timeout)
        if result.returncode != 0:
            raise _failed(result)
        return parse_windows_updates(result.text)


class MacUpdates:
    """``softwareupdate -l``."""

    signal = SIGNAL

    def __init__(self, runner: CommandRunner, *, timeout_s: float = TIMEOUT_S) -> None:
        self._runner = runner
        self._timeout = timeout_s

    def read(self) -> UpdateCounts:
        result = self._runner.run(SOFTWAREUPDATE, timeout=self._timeout)
        if result.returncode != 0:
            raise _failed(result)
        text = result.text + "\n" + result.stderr.decode("utf-8", errors="replace")
        return parse_softwareupdate(text)
