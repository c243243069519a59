"""Deployment bundles: size per format, and the time from ``dpkg -i`` to the device online.

Builds every format for a real (temporary) collector with the release's Python versions (3.11,
3.12, 3.13 unless --python-version narrows them), then installs the .deb on this machine with
``dpkg -i``, starts the installed service command (what systemd's ExecStart runs; no systemd
runs as PID 1 here) and polls ``parc-server devices --json`` until the device shows online.
The .deb is purged afterwards. The install part needs root and no parc-agent already installed.

    python -m bench.installer_sizes [--python-version 3.11 ...] [--skip-install] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Figure, emit
from installer import wheels
from installer.build import BuildRequest, build
from installer.layout import DEB_LAYOUT
from tests.e2e.processes import Collector, init_collector, start_collector, wait_for

MIB = 1024 * 1024


def _build_all(
    collector: Collector, out: Path, versions: tuple[str, ...], token: str
) -> dict[str, Path]:
    built = {}
    for fmt in ("deb", "tar", "windows", "macos"):
        request = BuildRequest(
            fmt=fmt,
            server=collector.agent_address,
            enroll_server=collector.enroll_address,
            ca_cert=collector.ca_cert,
            out_dir=out / fmt,
            token=token if fmt == "deb" else None,
            python_versions=versions,
            arch="arm64" if fmt == "macos" else "amd64",
        )
        built[fmt] = build(request, lambda message: print(f"  {message}", file=sys.stderr)).path
    return built


def _time_dpkg_to_online(collector: Collector, deb: Path, log: Path) -> tuple[float, float]:
    started = time.monotonic()
    subprocess.run(["dpkg", "--install", str(deb)], check=True, capture_output=True)
    installed = time.monotonic()
    unit = Path(DEB_LAYOUT.unit).read_text()
    exec_start = next(line[10:] for line in unit.splitlines() if line.startswith("ExecStart="))
    with log.open("ab") as out:
        service = subprocess.Popen(shlex.split(exec_start), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(
            lambda: any(d["online"] for d in collector.devices()),
            120,
            "the packaged agent to show online",
        )
        online = time.monotonic()
    finally:
        service.terminate()
        service.wait(timeout=30)
        subprocess.run(["dpkg", "--purge", "parc-agent"], check=False, capture_output=True)
    return installed - started, online - started


def measure(versions: tuple[str, ...], skip_install: bool) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="parc-bench-installer-") as tmp:
        data_dir = Path(tmp) / "collector"
        init_collector(data_dir)
        collector = start_collector(data_dir)
        try:
            built = _build_all(collector, Path(tmp), versions, collector.create_token())
            for fmt, path in built.items():
                figures.append(
                    Figure(f"bundle size: {fmt} ({path.name})", path.stat().st_size / MIB, "MiB")
                )
            can_install = os.geteuid() == 0 and not Path("/opt/parc-agent").exists()
            if not skip_install and can_install:
                dpkg_s, online_s = _time_dpkg_to_online(
                    collector, built["deb"], Path(tmp) / "service.log"
                )
                figures.append(Figure("dpkg -i (postinst builds the venv)", dpkg_s, "s"))
                figures.append(Figure("dpkg -i start to device online", online_s, "s"))
            elif not skip_install:
                print("not root, or a parc-agent is installed: install time not measured")
        finally:
            collector.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--python-version", action="append", default=[], metavar="X.Y")
    parser.add_argument("--skip-install", action="store_true", help="sizes only")
    parser.add_argument("--json", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    versions = tuple(args.python_version) or wheels.DEFAULT_PYTHON_VERSIONS
    figures = measure(versions, args.skip_install)
    emit(f"Deployment bundles (Python {', '.join(versions)})", figures, args.json)
    if args.json:
        payload = json.loads(args.json.read_text())
        payload["python_versions"] = list(versions)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
