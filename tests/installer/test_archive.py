"""Reproducible archives and safe extraction."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from installer.archive import extract, write_tar_gz, write_zip
from installer.errors import BundleError


def _tree(root: Path, mtime: int, umask_mode: int) -> Path:
    (root / "wheels").mkdir(parents=True)
    (root / "wheels" / "b.whl").write_bytes(b"b" * 100)
    (root / "a.txt").write_text("hello")
    (root / "install.sh").write_text("#!/bin/sh\n")
    (root / "install.sh").chmod(0o700)
    (root / "a.txt").chmod(umask_mode)
    for path in [root, *root.rglob("*")]:
        os.utime(path, (mtime, mtime))
    return root


@pytest.mark.parametrize("writer", [write_tar_gz, write_zip])
def test_same_tree_gives_same_bytes_whatever_the_times_and_modes(tmp_path: Path, writer) -> None:
    one = _tree(tmp_path / "one", 1_000_000, 0o600)
    two = _tree(tmp_path / "two", 2_000_000, 0o664)
    writer(one, tmp_path / "one.out", "bundle")
    writer(two, tmp_path / "two.out", "bundle")
    assert (tmp_path / "one.out").read_bytes() == (tmp_path / "two.out").read_bytes()


def test_tar_entries_are_sorted_root_owned_and_normalised(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", 1_000_000, 0o600)
    write_tar_gz(root, tmp_path / "b.tar.gz", "bundle", epoch=1_700_000_000)
    raw = (tmp_path / "b.tar.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip header mtime
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {
        (0, 0, "root", "root", 1_700_000_000)
    }
    modes = {m.name: m.mode for m in members}
    assert modes["bundle/install.sh"] == 0o755
    assert modes["bundle/a.txt"] == 0o644
    assert modes["bundle/wheels"] == 0o755


def test_extract_round_trip(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", 1_000_000, 0o644)
    write_zip(root, tmp_path / "b.zip", "bundle")
    top = extract(tmp_path / "b.zip", tmp_path / "out")
    assert (top / "wheels" / "b.whl").read_bytes() == b"b" * 100
    assert os.access(top / "install.sh", os.X_OK)


def test_extract_refuses_path_traversal_and_links(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("bundle/../../escaped")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(BundleError, match="unsafe path"):
        extract(evil, tmp_path / "out")
    assert not (tmp_path / "escaped").exists()

    linked = tmp_path / "link.tar.gz"
    with tarfile.open(linked, "w:gz") as tar:
        info = tarfile.TarInfo("bundle/passwd")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(BundleError, match="not a file or directory"):
        extract(linked, tmp_path / "out2")

    zipped = tmp_path / "abs.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("/etc/cron.d/x", "boom")
    with pytest.raises(BundleError, match="unsafe path"):
        extract(zipped, tmp_path / "out3")


def test_extract_refuses_what_is_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    with pytest.raises(BundleError, match="not a readable bundle archive"):
        extract(junk, tmp_path / "out")
