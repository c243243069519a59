"""rpm, snap and flatpak readers on recorded command output."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.collectors.software import (
    FlatpakReader,
    RpmReader,
    SnapReader,
    SoftwareReadError,
    SoftwareSource,
    parse_flatpak_list,
    parse_rpm_query,
    parse_snap_list,
)
from agent.collectors.software.flatpak import FLATPAK_LIST
from agent.collectors.software.rpm import RPM_QUERY
from agent.collectors.software.snap import SNAP_LIST, clean_publisher
from tests.agent.recorded import RecordedRunner, Recording
from tests.agent.software.conftest import SOFTWARE


def test_rpm_query_lines() -> None:
    packages = parse_rpm_query((SOFTWARE / "rpm-qa.txt").read_text(encoding="utf-8"))
    names = [p.name for p in packages]
    assert "gpg-pubkey" not in names
    assert "truncated line" not in names
    assert names == ["bash", "openssl-libs", "openssl-libs", "perl-Carp", "zlib", "libfoo"]
    bash = packages[0]
    assert bash.full_version == "5.2.26-1.fc40"
    assert bash.install_time == datetime.fromtimestamp(1714521600, UTC)
    assert bash.licence == "GPL-3.0-or-later"
    assert packages[1].full_version == "1:3.2.1-2.fc40"
    libfoo = packages[-1]
    assert libfoo.vendor == ""
    assert libfoo.install_time is None


def test_rpm_reader_rows() -> None:
    runner = RecordedRunner({RPM_QUERY: Recording.file(SOFTWARE / "rpm-qa.txt")})
    rows = RpmReader(runner).read()
    assert [(r.name, r.architecture, r.identifier) for r in rows][:3] == [
        ("bash", "x86_64", "bash.x86_64"),
        ("openssl-libs", "x86_64", "openssl-libs.x86_64"),
        ("openssl-libs", "i686", "openssl-libs.i686"),
    ]
    assert {r.source for r in rows} == {SoftwareSource.RPM}
    assert rows[0].publisher == "Fedora Project"


def test_rpm_reader_is_unsupported_without_rpm() -> None:
    assert not RpmReader(RecordedRunner({})).is_supported()


def test_snap_list() -> None:
    rows = parse_snap_list((SOFTWARE / "snap-list.txt").read_text(encoding="utf-8"))
    assert [(r.name, r.version, r.publisher) for r in rows] == [
        ("core22", "20240111", "canonical"),
        ("firefox", "124.0.1-1", "mozilla"),
        ("hello-local", "2.10", ""),
        ("lxd", "5.21.1-d46c406", "canonical"),
        ("spotify", "1.2.31.1205.g4d59ad7c", "spotify"),
    ]
    assert rows[0].identifier == "core22/1122"
    assert {r.source for r in rows} == {SoftwareSource.SNAP}


def test_snap_publisher_marks() -> None:
    assert clean_publisher("canonical\u2713") == "canonical"
    assert clean_publisher("kde\u272a") == "kde"
    assert clean_publisher("-") == ""


def test_snap_without_snaps_or_junk_gives_nothing() -> None:
    assert parse_snap_list("No snaps are installed yet. Try 'snap install hello-world'.\n") == []
    assert parse_snap_list("") == []


def test_snap_reader_failing_command_raises_a_clear_error() -> None:
    runner = RecordedRunner({SNAP_LIST: Recording(b"", 1, b"error: cannot communicate")})
    with pytest.raises(SoftwareReadError, match="exited with 1"):
        SnapReader(runner).read()


def test_flatpak_list() -> None:
    rows = parse_flatpak_list((SOFTWARE / "flatpak-list.txt").read_text(encoding="utf-8"))
    assert [(r.name, r.version, r.architecture) for r in rows] == [
        ("Firefox", "124.0.1", "x86_64"),
        ("GNU Image Manipulation Program", "2.10.36", "x86_64"),
        ("GNU Image Manipulation Program", "2.10.36", "x86_64"),
        ("Example", "", "aarch64"),
    ]
    assert rows[0].identifier == "app/org.mozilla.firefox/x86_64/stable"
    assert {r.source for r in rows} == {SoftwareSource.FLATPAK}


def test_flatpak_reader() -> None:
    runner = RecordedRunner({FLATPAK_LIST: Recording.file(SOFTWARE / "flatpak-list.txt")})
    assert len(FlatpakReader(runner).read()) == 4
    assert runner.calls == [FLATPAK_LIST]
