"""RPM packages, from ``rpm -qa --queryformat``: one tab-separated line per package.

Fields: NAME, EPOCH, VERSION, RELEASE, ARCH, VENDOR, INSTALLTIME, LICENSE. rpm prints
``(none)`` for an unset tag. The version is ``[epoch:]version-release``; ``gpg-pubkey``
entries are imported signing keys, not software, and are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from agent.collectors.software.collector import SoftwareReadError
from agent.collectors.software.records import InstalledSoftware, SoftwareSource
from agent.platform.runner import CommandError, CommandRunner

RPM_QUERY_FORMAT = (
    "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\t%{INSTALLTIME}"
    "\\t%{LICENSE}\\n"
)
RPM_QUERY = ("rpm", "-qa", "--queryformat", RPM_QUERY_FORMAT)
RPM_TIMEOUT_S = 60.0
_NONE = "(none)"
_PSEUDO_PACKAGES = frozenset({"gpg-pubkey", "gpg-pubkey-release"})


@dataclass(frozen=True, slots=True)
class RpmPackage:
    """One line of the query."""

    name: str
    epoch: str
    version: str
    release: str
    architecture: str
    vendor: str
    install_time: datetime | None
    licence: str

    @property
    def full_version(self) -> str:
        version = f"{self.version}-{self.release}" if self.release else self.version
        return f"{self.epoch}:{version}" if self.epoch else version


def _tag(value: str) -> str:
    value = value.strip()
    return "" if value == _NONE else value


def _time(value: str) -> datetime | None:
    try:
        seconds = int(value)
    except ValueError:
        return None
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_rpm_query(text: str) -> list[RpmPackage]:
    """The packages in the query's output; lines with fewer than eight fields are skipped."""
    packages: list[RpmPackage] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 8:
            continue
        # A licence cannot hold a tab, but be lenient: anything after the 7th tab is licence.
        name, epoch, version, release, arch, vendor, installed = (_tag(p) for p in parts[:7])
        if not name or name in _PSEUDO_PACKAGES:
            continue
        packages.append(
            RpmPackage(
                name=name,
                epoch=epoch,
                version=version,
                release=release,
                architecture=arch,
                vendor=vendor,
                install_time=_time(installed),
                licence=_tag("\t".join(parts[7:])),
            )
        )
    return packages


def query_rpm(runner: CommandRunner) -> list[RpmPackage]:
    """Run the query; SoftwareReadError when rpm fails."""
    try:
        result = runner.run(RPM_QUERY, timeout=RPM_TIMEOUT_S)
    except CommandError as exc:
        raise SoftwareReadError(f"rpm query failed: {exc}") from exc
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", errors="replace").strip()[:200]
        raise SoftwareReadError(f"rpm -qa exited with {result.returncode}: {detail}")
    return parse_rpm_query(result.text)


class RpmReader:
    """Installed RPM packages."""

    name = "rpm"

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def is_supported(self) -> bool:
        return self._runner.which("rpm") is not None

    def read(self) -> list[InstalledSoftware]:
        return [
            InstalledSoftware(
                name=package.name,
                version=package.full_version,
                publisher=package.vendor,
                source=SoftwareSource.RPM,
                architecture=package.architecture,
                install_time=package.install_time,
                identifier=(
                    f"{package.name}.{package.architecture}"
                    if package.architecture
                    else package.name
                ),
            )
            for package in query_rpm(self._runner)
        ]
