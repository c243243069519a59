"""Merging readers: duplicates collapsed by the documented key, failures isolated, order."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.collectors.base import GuardedCollector
from agent.collectors.software import (
    InstalledSoftware,
    SoftwareCollector,
    SoftwareSource,
    collapse_duplicates,
    linux_software,
)
from agent.collectors.software.flatpak import FLATPAK_LIST
from agent.collectors.software.records import MAX_NAME, clean_text
from agent.collectors.software.rpm import RPM_QUERY
from agent.collectors.software.snap import SNAP_LIST
from tests.agent.recorded import RecordedRunner, Recording
from tests.agent.software.conftest import SOFTWARE

WHEN = datetime(2024, 1, 1, tzinfo=UTC)


def row(name: str, version: str = "1", publisher: str = "", **kw: object) -> InstalledSoftware:
    source = kw.pop("source", SoftwareSource.REGISTRY)
    assert isinstance(source, SoftwareSource)
    return InstalledSoftware(name, version, publisher, source, **kw)  # type: ignore[arg-type]


def test_msi_wins_over_registry_and_borrows_missing_facts() -> None:
    merged = collapse_duplicates(
        [
            row("App", publisher="Acme", install_time=WHEN, identifier="App"),
            row("app ", publisher="", source=SoftwareSource.MSI, identifier="{GUID}"),
        ]
    )
    assert len(merged) == 1
    assert merged[0].source is SoftwareSource.MSI
    assert merged[0].identifier == "{GUID}"
    assert merged[0].publisher == "Acme"
    assert merged[0].install_time == WHEN


def test_different_versions_publishers_architectures_or_families_stay_apart() -> None:
    rows = [
        row("App", "1", "Acme"),
        row("App", "2", "Acme"),
        row("App", "1", "Other Corp"),
        row("libc6", "2.36", source=SoftwareSource.DEB, architecture="amd64"),
        row("libc6", "2.36", source=SoftwareSource.DEB, architecture="i386"),
        row("firefox", "124", source=SoftwareSource.SNAP),
        row("firefox", "124", source=SoftwareSource.DEB),
    ]
    assert len(collapse_duplicates(rows)) == len(rows)


def test_sorted_by_name_then_version() -> None:
    rows = collapse_duplicates([row("beta", "2"), row("Alpha", "1"), row("beta", "10")])
    assert [(r.name, r.version) for r in rows] == [("Alpha", "1"), ("beta", "10"), ("beta", "2")]


def test_nameless_rows_are_dropped() -> None:
    assert collapse_duplicates([row("\x00\x01")]) == []


def test_clean_text_bounds_and_strips() -> None:
    assert clean_text("a\tb\nc\x7fd\u200be", 100) == "a b c d e"
    assert len(clean_text("x" * 10_000, MAX_NAME)) == MAX_NAME
    assert clean_text(None, 10) == ""
    assert clean_text(42, 10) == "42"
    assert clean_text(True, 10) == ""


class Exploding:
    name = "exploding"

    def is_supported(self) -> bool:
        return True

    def read(self) -> list[InstalledSoftware]:
        raise RuntimeError("boom")


class Listing:
    name = "listing"

    def is_supported(self) -> bool:
        return True

    def read(self) -> list[InstalledSoftware]:
        return [row("Kept")]


def test_a_failing_reader_is_logged_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        inventory = SoftwareCollector([Exploding(), Listing()]).collect()
    assert [r.name for r in inventory.packages] == ["Kept"]
    assert "exploding failed: boom" in caplog.text


def test_linux_collector_on_fixtures(debian_root: Path) -> None:
    runner = RecordedRunner(
        {
            RPM_QUERY: Recording.file(SOFTWARE / "rpm-qa.txt"),
            SNAP_LIST: Recording.file(SOFTWARE / "snap-list.txt"),
            FLATPAK_LIST: Recording.file(SOFTWARE / "flatpak-list.txt"),
        }
    )
    collector = linux_software(debian_root, runner)
    assert collector.name == "software"
    assert collector.is_supported()
    rows = collector.collect().packages
    sources = {r.source for r in rows}
    assert sources == {
        SoftwareSource.DEB,
        SoftwareSource.RPM,
        SoftwareSource.SNAP,
        SoftwareSource.FLATPAK,
    }
    # GIMP installed system-wide and per user is one row; libc6 for two arches is two.
    assert [r.name for r in rows].count("GNU Image Manipulation Program") == 1
    assert [r.name for r in rows].count("libc6") == 2
    assert list(rows) == sorted(rows, key=lambda r: (r.name.casefold(), r.name, r.version))


def test_linux_collector_without_any_tool_still_reads_dpkg(debian_root: Path) -> None:
    guarded = GuardedCollector(linux_software(debian_root, RecordedRunner({})))
    inventory = guarded.run()
    assert inventory is not None
    assert {r.source for r in inventory.packages} == {SoftwareSource.DEB}


def test_linux_collector_on_an_empty_root_is_unsupported(tmp_path: Path) -> None:
    guarded = GuardedCollector(linux_software(tmp_path, RecordedRunner({})))
    assert guarded.run() is None


def test_a_shared_status_cache_parses_once(
    debian_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.collectors.licences import linux_licences
    from agent.collectors.software import DpkgStatusCache, dpkg

    calls: list[Path] = []
    real = dpkg.read_dpkg_status

    def counting(root: Path) -> list[dpkg.DpkgPackage]:
        calls.append(root)
        return real(root)

    monkeypatch.setattr(dpkg, "read_dpkg_status", counting)
    status = DpkgStatusCache(debian_root)
    software = linux_software(debian_root, RecordedRunner({}), status=status)
    licences = linux_licences(debian_root, RecordedRunner({}), status=status)
    assert software.collect().packages
    licences.collect()
    assert calls == [debian_root]
