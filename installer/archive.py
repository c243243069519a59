"""Reproducible archives: sorted entries, fixed mtime, owner root:root, normalised modes.

The same directory tree always gives the same bytes (gzip header mtime 0, no file name in it),
so a bundle can be rebuilt and compared by checksum. Extraction refuses anything but regular
files and directories inside the destination (no links, devices or ``..``).
"""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from installer.errors import BundleError

DEFAULT_EPOCH = 315532800  # 1980-01-01: the earliest time a zip entry can hold
DIR_MODE = 0o755
FILE_MODE = 0o644
EXEC_MODE = 0o755


def _entries(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX name, path) of every directory and file under root, sorted by name."""
    found = [(p.relative_to(root).as_posix(), p) for p in root.rglob("*")]
    for name, path in sorted(found):
        if path.is_symlink() or not (path.is_dir() or path.is_file()):
            raise BundleError(f"{path}: only regular files and directories can be archived")
        yield name, path


def _mode(path: Path) -> int:
    if path.is_dir():
        return DIR_MODE
    return EXEC_MODE if path.stat().st_mode & stat.S_IXUSR else FILE_MODE


def write_tar_gz(root: Path, out: Path, top: str, epoch: int = DEFAULT_EPOCH) -> None:
    """``root``'s tree as ``top/...`` in a gzip'd tar at ``out``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in [("", root), *_entries(root)]:
            info = tarfile.TarInfo(f"{top}/{name}".rstrip("/"))
            info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "root", "root"
            info.mode = _mode(path)
            if path.is_dir():
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    with (
        out.open("wb") as handle,
        gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(raw.getvalue())


def write_zip(root: Path, out: Path, top: str, epoch: int = DEFAULT_EPOCH) -> None:
    """``root``'s tree as ``top/...`` in a deflated zip at ``out``."""
    import time

    stamp = time.gmtime(max(epoch, DEFAULT_EPOCH))[:6]
    with zipfile.ZipFile(out, "w") as archive:
        for name, path in [("", root), *_entries(root)]:
            arcname = f"{top}/{name}".rstrip("/")
            if path.is_dir():
                info = zipfile.ZipInfo(arcname + "/", date_time=stamp)
                info.external_attr = (stat.S_IFDIR | DIR_MODE) << 16
                info.create_system = 3
                archive.writestr(info, b"")
            else:
                info = zipfile.ZipInfo(arcname, date_time=stamp)
                info.external_attr = (stat.S_IFREG | _mode(path)) << 16
                info.create_system = 3
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes(), compresslevel=9)


def _safe_name(name: str, dest: Path) -> Path:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise BundleError(f"unsafe path in archive: {name!r}")
    return dest.joinpath(*pure.parts)


def extract(archive: Path, dest: Path) -> Path:
    """Extracts a bundle archive (.tar.gz or .zip) into ``dest``; returns its top directory."""
    tops: set[str] = set()
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zipped:
                for info in zipped.infolist():
                    target = _safe_name(info.filename, dest)
                    tops.add(PurePosixPath(info.filename).parts[0])
                    if info.is_dir():
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zipped.read(info))
                    target.chmod((info.external_attr >> 16) & 0o755 or FILE_MODE)
        else:
            with tarfile.open(archive, "r:*") as tar:
                for member in tar.getmembers():
                    target = _safe_name(member.name, dest)
                    tops.add(PurePosixPath(member.name).parts[0])
                    if member.isdir():
                        target.mkdir(parents=True, exist_ok=True)
                    elif member.isfile():
                        source = tar.extractfile(member)
                        assert source is not None
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(source.read())
                        target.chmod(member.mode & 0o755)
                    else:
                        raise BundleError(f"{archive}: {member.name!r} is not a file or directory")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise BundleError(f"{archive}: not a readable bundle archive: {exc}") from None
    if len(tops) != 1:
        raise BundleError(f"{archive}: a bundle holds one top directory, found {sorted(tops)}")
    return dest / tops.pop()
