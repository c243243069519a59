"""Licences of RPM packages: the License tag of each, from the same ``rpm -qa`` query the
software reader uses. Fedora's SPDX tags are kept as they are; legacy names are mapped."""

from __future__ import annotations

from agent.collectors.licences.records import PackageLicence
from agent.collectors.licences.spdx import rpm_to_spdx
from agent.collectors.software.rpm import RpmPackage, query_rpm
from agent.platform.runner import CommandRunner

SOURCE = "rpm"


def rpm_licences(
    packages: list[RpmPackage], to_spdx: dict[str, str] | None = None
) -> list[PackageLicence]:
    """One record per package name (the first architecture's), in query order."""
    memo = to_spdx if to_spdx is not None else {}
    seen: set[str] = set()
    found: list[PackageLicence] = []
    for package in packages:
        if package.name in seen:
            continue
        seen.add(package.name)
        declared = package.licence
        if declared and declared not in memo:
            memo[declared] = rpm_to_spdx(declared)
        found.append(
            PackageLicence(
                package=package.name,
                source=SOURCE,
                spdx=memo.get(declared, "") if declared else "",
                declared=declared,
            )
        )
    return found


class RpmLicenceReader:
    """Declared licences of the installed RPM packages."""

    name = "rpm-licences"

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner
        self._memo: dict[str, str] = {}

    def is_supported(self) -> bool:
        return self._runner.which("rpm") is not None

    def read(self) -> list[PackageLicence]:
        if len(self._memo) > 4096:
            self._memo.clear()
        return rpm_licences(query_rpm(self._runner), self._memo)
