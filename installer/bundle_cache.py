"""Bundles built on demand for the dashboard's "Add devices" page, kept in a cache folder.

A bundle is keyed by everything that goes into it (format, collector addresses, CA, agent
version). Bundles built here never hold an enrolment token: a token's secret is shown once, so
the page's install commands pass it at install time (``--token`` / ``-Token``). Concurrent
requests (even from several collector processes on one data directory) build a bundle once:
the build holds an exclusive file lock on the cache folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import tempfile
from pathlib import Path

from installer import agent_wheel, wheels
from installer.build import FORMATS, BuildRequest, build
from installer.errors import BuildError

LOCK_FILE = ".lock"


def bundle_key(fmt: str, server: str, enroll_server: str, ca_pem: bytes) -> str:
    text = "\n".join([fmt, server, enroll_server, agent_wheel.agent_version()])
    return hashlib.sha256(text.encode() + b"\n" + ca_pem).hexdigest()[:20]


def cached_bundle(
    cache_dir: Path,
    fmt: str,
    server: str,
    enroll_server: str,
    ca_pem: bytes,
    wheel_cache: Path | None = None,
) -> Path:
    """The bundle for these inputs, built now if the cache does not hold it yet."""
    if fmt not in FORMATS:
        raise BuildError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = cache_dir / f"{fmt}-{bundle_key(fmt, server, enroll_server, ca_pem)}"
    with (cache_dir / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = sorted(folder.glob("parc-agent*")) if folder.is_dir() else []
        if found:
            return found[0]
        staging = Path(tempfile.mkdtemp(dir=cache_dir, prefix=".build-"))
        try:
            ca_file = staging / "ca.crt"
            ca_file.write_bytes(ca_pem)
            request = BuildRequest(
                fmt=fmt,
                server=server,
                enroll_server=enroll_server,
                ca_cert=ca_file,
                out_dir=staging / "out",
                arch="arm64" if fmt == "macos" else "amd64",
                wheel_cache=wheel_cache or wheels.default_cache_dir(),
            )
            result = build(request, lambda _message: None)
            shutil.rmtree(folder, ignore_errors=True)
            (staging / "out").rename(folder)
            return folder / result.path.name
        finally:
            shutil.rmtree(staging, ignore_errors=True)
