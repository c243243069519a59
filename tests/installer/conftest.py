"""Installer fixtures: one collector and one set of built bundles per test session.

Wheels are downloaded once into a cache that outlives the session (``PARC_INSTALLER_WHEEL_CACHE``,
default ~/.cache/parc-installer/wheels), and each bundle is built once per session for the
running Python version only, so the installer tests stay quick.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from installer import wheels
from installer.build import BuildRequest, BuildResult, build
from tests.e2e.processes import Collector, init_collector, start_collector

PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"

Builder = Callable[..., BuildResult]


@pytest.fixture(scope="session")
def wheel_cache() -> Path:
    return wheels.default_cache_dir()  # honours PARC_INSTALLER_WHEEL_CACHE


@pytest.fixture(scope="session")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    data_dir = tmp_path_factory.mktemp("installer-collector") / "collector"
    init_collector(data_dir)
    started = start_collector(data_dir)
    yield started
    assert started.stop() == 0, started.log()


@pytest.fixture(scope="session")
def builder(tmp_path_factory: pytest.TempPathFactory, wheel_cache: Path) -> Builder:
    """Builds a bundle for the running Python into a fresh folder."""

    def make(fmt: str, server: str, ca_cert: Path, **options: object) -> BuildResult:
        out = tmp_path_factory.mktemp(f"bundle-{fmt}")
        request = BuildRequest(
            fmt=fmt,
            server=server,
            ca_cert=ca_cert,
            out_dir=out,
            python_versions=(PYTHON_VERSION,),
            wheel_cache=wheel_cache,
            **options,  # type: ignore[arg-type]
        )
        return build(request, lambda _message: None)

    return make


@pytest.fixture(scope="session")
def tar_bundle(builder: Builder, collector: Collector) -> BuildResult:
    """A tarball for the session's collector, with no token baked in."""
    return builder(
        "tar", collector.agent_address, collector.ca_cert, enroll_server=collector.enroll_address
    )


def service_entry(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The unit's command (``python -m installer.service --config FILE``) with ``args``."""
    return subprocess.run(
        [sys.executable, "-m", "installer.service", "--config", str(config), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def installer_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "installer.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"parc-installer {' '.join(args)} failed: {done.stderr}")
    return done


def tree(root: Path) -> dict[str, tuple[int, int, bytes | None]]:
    """Every path under root with its mode, mtime (ns) and, for files, contents."""
    snapshot: dict[str, tuple[int, int, bytes | None]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        snapshot[str(path.relative_to(root))] = (info.st_mode, info.st_mtime_ns, data)
    return snapshot
