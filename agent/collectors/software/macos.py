"""macOS application bundles in the standard folders, read from their Info.plist.

Folders (under an injected root): ``/Applications``, ``/System/Applications``, and each user's
``/Users/<name>/Applications``; in each, the ``*.app`` bundles directly inside and those one
folder further down (``/Applications/Utilities/Terminal.app``, ``/Applications/Microsoft
Office/Word.app``). Bundles are not searched inside other bundles.

Name: CFBundleDisplayName, else CFBundleName, else the bundle's folder name. Version:
CFBundleShortVersionString, else CFBundleVersion. Identifier: CFBundleIdentifier. Publisher:
the holder named in NSHumanReadableCopyright when it reads cleanly ("Copyright © 2024 Acme
Inc. All rights reserved." → "Acme Inc."), else empty. Install time: the bundle's mtime.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.collectors.software.records import InstalledSoftware, SoftwareSource
from agent.platform.plist import PlistError, load_plist

log = logging.getLogger(__name__)

APPLICATION_FOLDERS = ("Applications", "System/Applications")
MAX_BUNDLES = 5000

_COPYRIGHT_NOISE = re.compile(
    r"copyright|\(c\)|\u00a9|all rights reserved\.?"
    r"|\b(?:19|20)\d{2}\b(?:\s*[-\u2013,]\s*(?:19|20)?\d{2,4}\b)*",
    re.IGNORECASE,
)
_UNCLEAN = re.compile(r"https?:|www\.|@|\n|;|\bportions\b|\blicen[cs]", re.IGNORECASE)


def publisher_from_copyright(text: object) -> str:
    """The copyright holder of a one-line notice, or "" when the notice is not that clean."""
    if not isinstance(text, str) or _UNCLEAN.search(text) or len(text) > 200:
        return ""
    holder = _COPYRIGHT_NOISE.sub(" ", text)
    holder = " ".join(holder.split()).strip(" ,.-\u2013:")
    if holder.lower().startswith("by "):
        holder = holder[3:]
    if not 2 <= len(holder) <= 80 or not any(ch.isalpha() for ch in holder):
        return ""
    # Keep the trailing period of "Inc." / "Ltd." the notice had.
    if text.rstrip().endswith(holder + ".") or f"{holder}." in text:
        holder += "."
    return holder


def _string(info: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = info.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def bundle_software(bundle: Path, info: dict[str, Any], mtime: float | None) -> InstalledSoftware:
    """The row for one bundle from its parsed Info.plist."""
    install_time = None
    if mtime is not None:
        try:
            install_time = datetime.fromtimestamp(mtime, UTC)
        except (OverflowError, OSError, ValueError):
            install_time = None
    return InstalledSoftware(
        name=_string(info, "CFBundleDisplayName", "CFBundleName") or bundle.stem,
        version=_string(info, "CFBundleShortVersionString", "CFBundleVersion"),
        publisher=publisher_from_copyright(info.get("NSHumanReadableCopyright")),
        source=SoftwareSource.APP_BUNDLE,
        install_time=install_time,
        identifier=_string(info, "CFBundleIdentifier"),
    )


def _subdirs(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return [e for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


class AppBundleReader:
    """Application bundles under an injected root (``/`` on the machine)."""

    name = "app-bundles"

    def __init__(self, root: Path = Path("/")) -> None:
        self._root = root

    def folders(self) -> list[Path]:
        folders = [self._root / folder for folder in APPLICATION_FOLDERS]
        for user in sorted(_subdirs(self._root / "Users"), key=lambda e: e.name):
            folders.append(Path(user.path) / "Applications")
        return [folder for folder in folders if folder.is_dir()]

    def is_supported(self) -> bool:
        return (self._root / "Applications").is_dir()

    def bundles(self) -> Iterator[Path]:
        count = 0
        for folder in self.folders():
            for entry in sorted(_subdirs(folder), key=lambda e: e.name):
                if entry.name.endswith(".app"):
                    candidates = [Path(entry.path)]
                elif entry.name.startswith("."):
                    continue
                else:
                    candidates = [
                        Path(inner.path)
                        for inner in sorted(_subdirs(Path(entry.path)), key=lambda e: e.name)
                        if inner.name.endswith(".app")
                    ]
                for bundle in candidates:
                    count += 1
                    if count > MAX_BUNDLES:
                        log.warning(
                            "more than %d application bundles; the rest are skipped", MAX_BUNDLES
                        )
                        return
                    yield bundle

    def read(self) -> list[InstalledSoftware]:
        rows: list[InstalledSoftware] = []
        for bundle in self.bundles():
            try:
                info = load_plist(bundle / "Contents" / "Info.plist")
            except PlistError as exc:
                log.debug("skipping %s: %s", bundle, exc)
                continue
            try:
                mtime: float | None = bundle.stat().st_mtime
            except OSError:
                mtime = None
            rows.append(bundle_software(bundle, info, mtime))
        return rows
