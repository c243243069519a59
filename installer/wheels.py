"""Dependency wheels for a target system, fetched with ``pip download`` and kept in a cache.

A target is a set of platform tags and Python versions; each (platform set, Python version) pair
is one ``pip download --only-binary=:all:`` into its own cache folder, named by a hash of
everything that decides its contents (requirements, constraints, tags), so repeated builds and
test sessions reuse it instead of downloading again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer.errors import BuildError

DEFAULT_PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
COMPLETE_MARK = ".complete"


def _manylinux(arch: str) -> tuple[str, ...]:
    modern = tuple(f"manylinux_2_{minor}_{arch}" for minor in (34, 28, 17, 12, 5))
    return (*modern, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}")


def _macos(arch: str) -> tuple[str, ...]:
    versions = ("15_0", "14_0", "13_0", "12_0", "11_0", "10_15", "10_13", "10_12", "10_9")
    return tuple(f"macosx_{v}_{kind}" for v in versions for kind in (arch, "universal2"))


@dataclass(frozen=True, slots=True)
class Target:
    """The systems a bundle is for: one or more platform tag sets, and Python versions."""

    name: str
    platform_sets: tuple[tuple[str, ...], ...]
    python_versions: tuple[str, ...] = DEFAULT_PYTHON_VERSIONS


def target_for(fmt: str, arch: str, python_versions: Sequence[str]) -> Target:
    versions = tuple(python_versions) or DEFAULT_PYTHON_VERSIONS
    if fmt in ("deb", "tar"):
        linux_arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
        return Target(f"linux-{linux_arch}", (_manylinux(linux_arch),), versions)
    if fmt == "windows":
        return Target("windows-amd64", (("win_amd64",),), versions)
    if fmt == "macos":
        # Apple silicon by default: cryptography 50 ships no Intel (x86_64) macOS wheels.
        mac_arch = {"amd64": "x86_64"}.get(arch, arch)
        return Target(f"macos-{mac_arch}", (_macos(mac_arch),), versions)
    raise BuildError(f"unknown bundle format {fmt!r}")


def pip_version() -> str:
    return importlib.metadata.version("pip")


def default_cache_dir() -> Path:
    """$PARC_INSTALLER_WHEEL_CACHE, else parc-installer/wheels under the user's cache folder."""
    configured = os.environ.get("PARC_INSTALLER_WHEEL_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "parc-installer" / "wheels"


def _cache_key(requirements: Sequence[str], constraints: str, tags: Sequence[str], py: str) -> str:
    text = "\n".join(["v1", *requirements, constraints, *tags, py])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _download(
    dest: Path, requirements: Sequence[str], constraints: Path | None, tags: Sequence[str], py: str
) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--quiet",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        py,
        *(arg for tag in tags for arg in ("--platform", tag)),
        "--dest",
        str(dest),
        *(["--constraint", str(constraints)] if constraints else []),
        *requirements,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise BuildError(f"pip download for Python {py} ({tags[0]}, ...) failed:\n{tail}")


def fetch_wheels(
    target: Target,
    requirements: Sequence[str],
    constraints: Path | None,
    cache_dir: Path,
    out_dir: Path,
    step: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Copies every wheel the target needs into ``out_dir``; returns their sorted names."""
    requirements = sorted(requirements)
    constraints_text = constraints.read_text(encoding="utf-8") if constraints else ""
    names: set[str] = set()
    for tags in target.platform_sets:
        for py in target.python_versions:
            folder = cache_dir / _cache_key(requirements, constraints_text, tags, py)
            if not (folder / COMPLETE_MARK).exists():
                step(f"downloading wheels for Python {py} on {tags[0]}")
                cache_dir.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(dir=cache_dir, prefix=".download-"))
                try:
                    _download(staging, requirements, constraints, tags, py)
                    (staging / COMPLETE_MARK).write_text("ok\n")
                    shutil.rmtree(folder, ignore_errors=True)
                    staging.rename(folder)
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
            else:
                step(f"wheels for Python {py} on {tags[0]} from the cache")
            for wheel in sorted(folder.glob("*.whl")):
                if wheel.name not in names:
                    shutil.copyfile(wheel, out_dir / wheel.name)
                    names.add(wheel.name)
    return sorted(names)
