"""Flatpak applications, from ``flatpak list --app --columns=...``.

When its output is not a terminal flatpak prints one tab-separated line per application and
no header; a header line (``Application ID ...``), if present, is skipped. The identifier is
the ref ``app/<application>/<arch>/<branch>``; an app installed both system-wide and per user
is the same application and is collapsed by the collector.
"""

from __future__ import annotations

from agent.collectors.software.collector import SoftwareReadError
from agent.collectors.software.records import InstalledSoftware, SoftwareSource
from agent.platform.runner import CommandError, CommandRunner

FLATPAK_COLUMNS = ("application", "name", "version", "branch", "arch", "origin", "installation")
FLATPAK_LIST = ("flatpak", "list", "--app", "--columns=" + ",".join(FLATPAK_COLUMNS))
FLATPAK_TIMEOUT_S = 30.0


def parse_flatpak_list(text: str) -> list[InstalledSoftware]:
    """The applications in the listing; malformed lines are skipped."""
    rows: list[InstalledSoftware] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < len(FLATPAK_COLUMNS):
            continue
        application, name, version, branch, arch, _origin, _installation = (
            p.strip() for p in parts[: len(FLATPAK_COLUMNS)]
        )
        if application.lower() in {"application", "application id"} or "." not in application:
            continue  # a header, or not an application id (ids are reverse-DNS)
        rows.append(
            InstalledSoftware(
                name=name or application,
                version=version,
                publisher="",
                source=SoftwareSource.FLATPAK,
                architecture=arch,
                identifier=f"app/{application}/{arch}/{branch}",
            )
        )
    return rows


class FlatpakReader:
    """Installed Flatpak applications (system and per-user installations)."""

    name = "flatpak"

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def is_supported(self) -> bool:
        return self._runner.which("flatpak") is not None

    def read(self) -> list[InstalledSoftware]:
        try:
            result = self._runner.run(FLATPAK_LIST, timeout=FLATPAK_TIMEOUT_S)
        except CommandError as exc:
            raise SoftwareReadError(f"flatpak list failed: {exc}") from exc
        if result.returncode != 0:
            detail = result.stderr.decode("utf-8", errors="replace").strip()[:200]
            raise SoftwareReadError(f"flatpak list exited with {result.returncode}: {detail}")
        return parse_flatpak_list(result.text)
