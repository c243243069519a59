"""The dpkg status reader, on a fixture status file written from deb-control(5)."""

from __future__ import annotations

import os
from pathlib import Path

from agent.collectors.software import DpkgReader, SoftwareSource, parse_dpkg_status
from agent.collectors.software.dpkg import DpkgStatusCache, publisher_from_maintainer
from tests.agent.software.conftest import LIST_TIME, SOFTWARE


def test_every_paragraph_is_parsed_and_only_installed_ones_count() -> None:
    text = (SOFTWARE / "debian/var/lib/dpkg/status").read_text(encoding="utf-8")
    packages = parse_dpkg_status(text)
    by_status = {(p.name, p.architecture): p.installed for p in packages}
    assert by_status == {
        ("adduser", "all"): True,
        ("libc6", "amd64"): True,
        ("libc6", "i386"): True,
        ("openssh-server", "amd64"): True,  # hold ok installed
        ("man-db", "amd64"): True,  # triggers-pending: configured
        ("brokenpkg", "amd64"): False,  # half-installed
        ("oldpkg", "amd64"): False,  # config-files
        ("unpackedpkg", "amd64"): False,
        ("python3-ïnternational", "all"): True,
    }


def test_continuation_lines_are_not_fields() -> None:
    text = (SOFTWARE / "debian/var/lib/dpkg/status").read_text(encoding="utf-8")
    adduser = parse_dpkg_status(text)[0]
    assert adduser.name == "adduser"
    assert adduser.status == "install ok installed"
    assert adduser.version == "3.134"


def test_reader_rows(debian_root: Path) -> None:
    rows = DpkgReader(debian_root).read()
    assert [(r.name, r.architecture) for r in rows] == [
        ("adduser", "all"),
        ("libc6", "amd64"),
        ("libc6", "i386"),
        ("openssh-server", "amd64"),
        ("man-db", "amd64"),
        ("python3-ïnternational", "all"),
    ]
    ssh = rows[3]
    assert ssh.version == "1:9.2p1-2+deb12u2"  # epoch kept as given
    assert ssh.publisher == "Debian OpenSSH Maintainers"
    assert ssh.source is SoftwareSource.DEB
    assert ssh.identifier == "openssh-server:amd64"
    assert rows[-1].publisher == "Jürgen Müller"


def test_install_time_from_the_list_file_multiarch_aware(debian_root: Path) -> None:
    rows = {(r.name, r.architecture): r for r in DpkgReader(debian_root).read()}
    assert rows["libc6", "amd64"].install_time == LIST_TIME  # libc6:amd64.list
    assert rows["libc6", "i386"].install_time == LIST_TIME  # libc6:i386.list
    assert rows["adduser", "all"].install_time == LIST_TIME  # adduser.list
    assert rows["python3-ïnternational", "all"].install_time is None  # no .list file


def test_unchanged_status_is_not_parsed_again(debian_root: Path) -> None:
    reader = DpkgReader(debian_root)
    first = reader.read()
    (debian_root / "var/lib/dpkg/info/adduser.list").unlink()
    assert reader.read() == first  # status untouched: rows served from the cache
    status = debian_root / "var/lib/dpkg/status"
    status.write_text(status.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    os.utime(status, (1, 1))
    again = {r.name: r for r in reader.read()}
    assert again["adduser"].install_time is None


def test_status_cache_follows_file_changes(tmp_path: Path) -> None:
    status = tmp_path / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text("Package: a\nStatus: install ok installed\n", encoding="utf-8")
    cache = DpkgStatusCache(tmp_path)
    assert [p.name for p in cache.packages()] == ["a"]
    status.write_text("Package: bb\nStatus: install ok installed\n", encoding="utf-8")
    assert [p.name for p in cache.packages()] == ["bb"]


def test_missing_status_file_is_unsupported(tmp_path: Path) -> None:
    assert not DpkgReader(tmp_path).is_supported()


def test_odd_field_case_and_crlf_are_tolerated() -> None:
    text = "package: x\r\nSTATUS: install ok installed\r\nversion: 1\r\n\r\nPackage: y\r\n"
    packages = parse_dpkg_status(text)
    assert [(p.name, p.version, p.installed) for p in packages] == [
        ("x", "1", True),
        ("y", "", False),
    ]


def test_publisher_drops_the_address() -> None:
    assert publisher_from_maintainer("Jane Doe <jane@example.org>") == "Jane Doe"
    assert publisher_from_maintainer("<only@example.org>") == "<only@example.org>"
    assert publisher_from_maintainer("Plain Name") == "Plain Name"
