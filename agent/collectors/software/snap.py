"""Snaps, from ``snap list --unicode=never --color=never``.

The output is a table with a header: ``Name Version Rev Tracking Publisher Notes``, columns
separated by runs of spaces (no column holds a space). The publisher carries a mark after its
name for verified (``✓``, ``**`` without unicode) and starred (``✪``, ``*``) accounts; ``-``
means a local install without publisher. snap does not say when a snap was installed.
"""

from __future__ import annotations

from agent.collectors.software.collector import SoftwareReadError
from agent.collectors.software.records import InstalledSoftware, SoftwareSource
from agent.platform.runner import CommandError, CommandRunner

SNAP_LIST = ("snap", "list", "--unicode=never", "--color=never")
SNAP_TIMEOUT_S = 30.0
_MARKS = ("**", "*", "\u2713", "\u272a")


def clean_publisher(publisher: str) -> str:
    """The publisher's name without its verification mark; "" for ``-``."""
    publisher = publisher.strip()
    for mark in _MARKS:
        if publisher.endswith(mark):
            publisher = publisher[: -len(mark)]
            break
    return "" if publisher in {"", "-"} else publisher


def parse_snap_list(text: str) -> list[InstalledSoftware]:
    """The snaps in the table; "No snaps are installed yet." and junk give []."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = [column.lower() for column in lines[0].split()]
    if header[:2] != ["name", "version"]:
        return []
    index = {column: position for position, column in enumerate(header)}
    rows: list[InstalledSoftware] = []
    for line in lines[1:]:
        parts = line.split()
        if len(parts) < 2:
            continue
        name = parts[0]

        def column(key: str, parts: list[str] = parts) -> str:
            position = index.get(key)
            return parts[position] if position is not None and position < len(parts) else ""

        revision = column("rev")
        rows.append(
            InstalledSoftware(
                name=name,
                version=column("version"),
                publisher=clean_publisher(column("publisher")),
                source=SoftwareSource.SNAP,
                identifier=f"{name}/{revision}" if revision else name,
            )
        )
    return rows


class SnapReader:
    """Installed snaps (current revisions)."""

    name = "snap"

    def __init__(self, runner: CommandRunner) -> None:
        self._runner = runner

    def is_supported(self) -> bool:
        return self._runner.which("snap") is not None

    def read(self) -> list[InstalledSoftware]:
        try:
            result = self._runner.run(SNAP_LIST, timeout=SNAP_TIMEOUT_S)
        except CommandError as exc:
            raise SoftwareReadError(f"snap list failed: {exc}") from exc
        if result.returncode != 0:
            detail = result.stderr.decode("utf-8", errors="replace").strip()[:200]
            raise SoftwareReadError(f"snap list exited with {result.returncode}: {detail}")
        return parse_snap_list(result.text)
