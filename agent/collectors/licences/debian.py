"""Licences of Debian packages, from their machine-readable copyright files.

``/usr/share/doc/<package>/copyright`` is machine-readable when its first paragraph has a
``Format:`` field naming copyright-format 1.0 (or one of the DEP-5 drafts it came from).
The package's licence is the License of the ``Files: *`` paragraph; without one, the licences
of all Files paragraphs together ("A, and B": the comma keeps each part whole). A file that is
not machine-readable gives an unknown licence (declared empty) — never a guess from prose;
a package without a copyright file gives nothing.

Cost: a file is read line by line only until the ``Files: *`` License line (nearly always in
the first few hundred bytes), and never past 64 KiB; results are cached per (package,
version) for the life of the reader, so the 6-hourly inventory re-reads only what changed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from agent.collectors.licences.records import PackageLicence
from agent.collectors.licences.spdx import debian_to_spdx
from agent.collectors.software.dpkg import DpkgPackage, DpkgStatusCache

SOURCE = "debian-copyright"
MAX_COPYRIGHT_BYTES = 64 * 1024
_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)")
_FORMAT_MARKERS = ("copyright-format/1.0", "dep5", "dep-5")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.~_-]*")


FIRST_CHUNK = 8 * 1024
# The License line of a "Files: *" paragraph (no continuation of the Files value, no blank
# line before the License field). Lines are matched whole, so this is linear in the text.
_FILES_STAR = re.compile(
    r"^Files:[ \t]*\*[ \t]*\n(?![ \t]+\S)(?:[ \t]*\S[^\n]*\n)*?License:[ \t]*([^\n]*)",
    re.MULTILINE | re.IGNORECASE,
)
_HEADER_END = re.compile(r"\n[ \t]*\n")
_FORMAT = re.compile(r"^Format(?:-Specification)?:[ \t]*([^\n]*)", re.MULTILINE | re.IGNORECASE)


class _Paragraph:
    __slots__ = ("field", "files", "licence")

    def __init__(self) -> None:
        self.field = ""
        self.files: list[str] | None = None
        self.licence: str | None = None


def _quick(text: str, complete: bool) -> tuple[bool, str | None]:
    """(True, answer) when the first chunk settles it; (False, None) when the full parse must
    decide (the Files: * paragraph is further on, or the chunk ends inside the header)."""
    stripped = text.lstrip("\n \t")
    if stripped and _FIELD.match(stripped.split("\n", 1)[0]) is None:
        return True, None  # prose: a free-form (legacy) copyright file
    header_end = _HEADER_END.search(stripped)
    if header_end is None and not complete:
        return False, None
    header = stripped if header_end is None else stripped[: header_end.start()]
    format_line = _FORMAT.search(header)
    if format_line is None or not any(m in format_line.group(1).lower() for m in _FORMAT_MARKERS):
        return True, None
    match = _FILES_STAR.search(stripped, header_end.end() if header_end else len(stripped))
    if match is not None and match.group(1).strip():
        return True, match.group(1).strip()
    return False, None


def read_copyright_file(path: str, limit: int = MAX_COPYRIGHT_BYTES) -> str | None:
    """The declared licence in the copyright file at ``path`` (see :func:`parse_copyright`).

    Reads the first 8 KiB, and the rest up to ``limit`` only when the answer is not in it.
    Raises OSError when the file cannot be opened or read.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        head = os.read(fd, min(FIRST_CHUNK, limit))
        complete = len(head) < min(FIRST_CHUNK, limit)
        text = head.decode("utf-8", errors="replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        settled, answer = _quick(text, complete)
        if settled:
            return answer
        chunks = [head]
        remaining = limit - len(head)
        while not complete and remaining > 0:
            chunk = os.read(fd, min(remaining, 64 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(fd)
    return parse_copyright(b"".join(chunks))


def parse_copyright(data: bytes) -> str | None:
    """The declared licence in copyright-file bytes; None when not machine-readable.

    "" means machine-readable but naming no licence (in the bytes given).
    """
    lines = data.decode("utf-8", errors="replace").splitlines()
    header = True
    format_seen = False
    header_licence = ""
    licences: list[str] = []
    paragraph = _Paragraph()
    started = False

    def finish() -> str | None:
        # Called at each paragraph end; returns the answer when it is known.
        if paragraph.files is not None and paragraph.licence:
            if paragraph.files == ["*"]:
                return paragraph.licence
            if paragraph.licence not in licences:
                licences.append(paragraph.licence)
        return None

    for line in lines:
        if not line.strip():
            if not started:
                continue
            if header:
                if not format_seen:
                    return None
                header = False
            elif (found := finish()) is not None:
                return found
            paragraph = _Paragraph()
            continue
        if line[0] in " \t":
            if paragraph.field == "files" and paragraph.files is not None:
                paragraph.files.extend(line.split())
            continue  # other continuation lines (licence text, copyright holders) don't matter
        match = _FIELD.fullmatch(line)
        if match is None:
            if not started or header:
                return None  # prose: a free-form (legacy) copyright file
            continue
        started = True
        field, value = match.group(1).lower(), match.group(2).strip()
        paragraph.field = field
        if header:
            if field in {"format", "format-specification"}:
                format_seen = any(marker in value.lower() for marker in _FORMAT_MARKERS)
            elif field == "license":
                header_licence = value
        elif field == "files":
            paragraph.files = value.split()
        elif field == "license" and paragraph.licence is None:
            paragraph.licence = value
            if paragraph.files == ["*"] and value:
                return value
    if header:
        return header_licence if format_seen else None
    if (found := finish()) is not None:
        return found
    if licences:
        return ", and ".join(licences)
    return header_licence


def package_licence(
    name: str, declared: str | None, to_spdx: Callable[[str], str] = debian_to_spdx
) -> PackageLicence:
    """The record for a package whose copyright file said ``declared`` (None: not readable)."""
    if not declared:
        return PackageLicence(package=name, source=SOURCE, spdx="", declared="")
    return PackageLicence(package=name, source=SOURCE, spdx=to_spdx(declared), declared=declared)


class DebianCopyrightReader:
    """Declared licences of the installed Debian packages under an injected root."""

    name = "debian-copyright"

    def __init__(self, root: Path = Path("/"), status: DpkgStatusCache | None = None) -> None:
        self._root = root
        self._cache: dict[tuple[str, str], PackageLicence | None] = {}
        self._status = status if status is not None else DpkgStatusCache(root)
        self._spdx: dict[str, str] = {}

    def is_supported(self) -> bool:
        return (self._root / "var/lib/dpkg/status").is_file()

    def read(self) -> list[PackageLicence]:
        return self.licences(self._status.packages())

    def licences(self, packages: Iterable[DpkgPackage]) -> list[PackageLicence]:
        doc = os.fspath(self._root / "usr/share/doc")
        found: list[PackageLicence] = []
        cache: dict[tuple[str, str], PackageLicence | None] = {}
        for package in packages:
            key = (package.name, package.version)
            if not package.installed or key in cache:
                continue
            cached = key in self._cache
            result = self._cache[key] if cached else self._read_one(doc, package.name)
            cache[key] = result
            if result is not None:
                found.append(result)
        self._cache = cache  # forget removed and upgraded packages
        return found

    def _read_one(self, doc: str, name: str) -> PackageLicence | None:
        if not _SAFE_NAME.fullmatch(name):
            return None
        try:
            declared = read_copyright_file(os.path.join(doc, name, "copyright"))
        except OSError:
            return None  # no copyright file (docs excluded, or not a Debian package)
        return package_licence(name, declared, self._to_spdx)

    def _to_spdx(self, declared: str) -> str:
        # Many packages share a licence line; map each distinct line once per collection.
        spdx = self._spdx.get(declared)
        if spdx is None:
            if len(self._spdx) > 4096:
                self._spdx.clear()
            spdx = self._spdx[declared] = debian_to_spdx(declared)
        return spdx
