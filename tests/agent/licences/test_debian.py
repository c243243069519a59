"""Debian copyright files: machine-readable ones mapped, legacy ones unknown, reads bounded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.collectors.licences import (
    DebianCopyrightReader,
    linux_licences,
    parse_copyright,
    read_copyright_file,
)
from agent.collectors.licences.debian import FIRST_CHUNK
from tests.agent.recorded import FIXTURES, RecordedRunner

LICENCES = FIXTURES / "licences"
DOC = LICENCES / "debian/usr/share/doc"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "root"
    shutil.copytree(LICENCES / "debian", copy)
    return copy


@pytest.mark.parametrize(
    ("package", "declared"),
    [
        ("adduser", "GPL-2+"),  # Files: * first; the later paragraphs don't matter
        ("libc6", "LGPL-2.1+ with Font exception"),
        ("zlib1g", "Zlib"),
        ("perl-base", "GPL-1+ or Artistic, and BSD-3-clause"),
        ("legacy-tool", None),  # free-form: unknown, even though it mentions GPL-2+
        ("multi-files", "Expat, and Apache-2.0, and public-domain"),  # no Files: *
        ("later-star", "MPL-2.0"),  # "Files: * extra/*" is not the Files: * paragraph
        ("crlf-pkg", "Apache-2.0 or Expat"),
    ],
)
def test_declared_licence(package: str, declared: str | None) -> None:
    path = DOC / package / "copyright"
    assert read_copyright_file(str(path)) == declared
    assert parse_copyright(path.read_bytes()) == declared  # the slow path agrees


def test_header_only_and_empty_files() -> None:
    header = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    assert parse_copyright(header) == ""
    assert parse_copyright(header + b"License: GPL-3+\n") == "GPL-3+"
    assert parse_copyright(b"") is None
    assert parse_copyright(b"Format: something else\n\nFiles: *\nLicense: MIT\n") is None


def test_files_star_beyond_the_first_chunk(tmp_path: Path) -> None:
    filler = "".join(f"Files: part{i}/*\nCopyright: X\nLicense: Expat\n\n" for i in range(400))
    text = (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        + filler
        + "Files: *\nCopyright: Y\nLicense: GPL-3+\n"
    )
    assert len(text) > FIRST_CHUNK
    path = tmp_path / "copyright"
    path.write_text(text, encoding="utf-8")
    assert read_copyright_file(str(path)) == "GPL-3+"
    # Past the byte cap the answer is what the capped bytes said.
    assert read_copyright_file(str(path), limit=FIRST_CHUNK) == "Expat"


def test_reader_rows(root: Path) -> None:
    rows = {r.package: r for r in DebianCopyrightReader(root).read()}
    assert set(rows) == {
        "adduser",
        "libc6",  # once, though installed for two architectures
        "zlib1g",
        "perl-base",
        "legacy-tool",
        "multi-files",
        "later-star",
        "crlf-pkg",
    }  # not no-docs (no copyright file), not removed-pkg (config-files only)
    assert (rows["adduser"].spdx, rows["adduser"].declared) == ("GPL-2.0-or-later", "GPL-2+")
    assert rows["libc6"].spdx == "LGPL-2.1-or-later WITH Font-exception-2.0"
    assert rows["perl-base"].spdx == "(GPL-1.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause"
    assert (rows["legacy-tool"].spdx, rows["legacy-tool"].declared) == ("", "")
    assert rows["multi-files"].spdx == ""  # public-domain has no SPDX id
    assert rows["crlf-pkg"].spdx == "Apache-2.0 OR MIT"
    assert {r.source for r in rows.values()} == {"debian-copyright"}


def test_results_are_cached_per_package_version(root: Path) -> None:
    reader = DebianCopyrightReader(root)
    first = reader.read()
    (root / "usr/share/doc/adduser/copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nLicense: Expat\n",
        encoding="utf-8",
    )
    assert reader.read() == first  # same (package, version): not read again
    status = root / "var/lib/dpkg/status"
    status.write_text(
        status.read_text(encoding="utf-8").replace("Version: 3.134", "Version: 3.135"),
        encoding="utf-8",
    )
    rows = {r.package: r for r in reader.read()}
    assert rows["adduser"].spdx == "MIT"  # new version: read again


def test_linux_collector_on_fixtures(root: Path) -> None:
    collector = linux_licences(root, RecordedRunner({}))
    assert collector.is_supported()
    inventory = collector.collect()
    assert inventory.activations == ()
    names = [p.package for p in inventory.packages]
    assert names == sorted(names)
    assert len(names) == 8


def test_unsafe_package_names_are_not_paths(tmp_path: Path) -> None:
    status = tmp_path / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text("Package: ../../etc\nStatus: install ok installed\n", encoding="utf-8")
    assert DebianCopyrightReader(tmp_path).read() == []
