"""The tarball installed into a --root tree: enrols, runs, is idempotent, upgrades, uninstalls.

A real collector (one per session) and the installed agent's own environment, started the way
the systemd unit starts it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer import settings
from installer.archive import extract
from installer.build import BuildResult
from installer.errors import BundleError, EnrolmentError
from installer.layout import LinuxLayout
from installer.linux import install, status, uninstall
from tests.e2e.processes import Collector, wait_for
from tests.installer.conftest import Builder, installer_cli, service_entry, tree

pytestmark = pytest.mark.e2e


def _start_service(root: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """What ExecStart runs, re-rooted into the test tree."""
    layout = LinuxLayout(root)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [
                str(layout.host(layout.python)),
                "-m",
                "installer.service",
                "--config",
                str(layout.config),
                "--root",
                str(root),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


def test_install_enrols_runs_is_idempotent_and_upgrades_keep_identity(
    tar_bundle: BuildResult, collector: Collector, builder: Builder, root: Path, tmp_path: Path
) -> None:
    log_path = tmp_path / "service.log"
    token = collector.create_token()
    # the bundle's own install.sh, with the system's python3 (the installer runs from the wheel)
    unpacked = extract(tar_bundle.path, tmp_path / "bundle")
    python = shutil.which("python3") or sys.executable
    done = subprocess.run(
        ["sh", str(unpacked / "install.sh"), "--root", str(root), "--token", token],
        capture_output=True,
        text=True,
        env={**os.environ, "PARC_PYTHON": python, "PYTHONPATH": ""},
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "installed version 0.1.0" in done.stdout
    layout = LinuxLayout(root)

    config = layout.host(layout.config)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert settings.load(config).token is None  # enrolled, then forgotten
    assert token not in config.read_text()
    assert stat.S_IMODE(layout.host(layout.state_dir).stat().st_mode) == 0o700
    assert "NoNewPrivileges=yes" in layout.host(layout.unit).read_text()
    device_id = json.loads((layout.host(layout.state_dir) / "identity/device.json").read_text())[
        "device_id"
    ]

    service = _start_service(root, log_path)
    try:
        wait_for(
            lambda: (collector.device(device_id) or {}).get("online"),
            60,
            "the installed agent to show online",
        )
    finally:
        _stop(service)
    spool = layout.host(layout.state_dir) / "spool.db"
    assert spool.exists()

    before = tree(root)
    again = installer_cli("install", str(tar_bundle.path), "--root", str(root))
    assert again.stdout.startswith("nothing to do")
    assert tree(root) == before

    newer = builder(
        "tar",
        collector.agent_address,
        collector.ca_cert,
        enroll_server=collector.enroll_address,
        epoch=1_800_000_000,
    )
    upgraded = installer_cli("install", str(newer.path), "--root", str(root))
    assert "upgraded version 0.1.0" in upgraded.stdout
    assert device_id in upgraded.stdout
    assert spool.exists()
    report = json.loads(installer_cli("status", "--root", str(root), "--json").stdout)
    assert report["installed"] is True
    assert report["device_id"] == device_id
    assert report["manifest_digest"] == newer.manifest_digest

    service = _start_service(root, log_path)
    try:
        wait_for(
            lambda: "connected to the collector" in log_path.read_text(),
            60,
            "the upgraded agent to connect",
        )
    finally:
        _stop(service)
    assert [d["device_id"] for d in collector.devices()].count(device_id) == 1

    removed = installer_cli("uninstall", "--root", str(root)).stdout
    assert "/opt/parc-agent" in removed
    assert not layout.host(layout.opt_dir).exists()
    assert not layout.host(layout.unit).exists()
    assert (layout.host(layout.state_dir) / "identity/device.json").exists()  # kept
    installer_cli("uninstall", "--purge", "--root", str(root))
    leftovers = [
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()
    ]
    assert leftovers == []
    assert not layout.host(layout.state_dir).exists()
    assert not layout.host(layout.config_dir).exists()


def _nothing_installed(root: Path) -> None:
    files = [p for p in root.rglob("*") if not p.is_dir()] if root.exists() else []
    assert files == [], files


def test_a_tampered_bundle_installs_nothing(tar_bundle: BuildResult, tmp_path: Path) -> None:
    top = extract(tar_bundle.path, tmp_path / "bundle")
    wheel = next((top / "wheels").glob("grpcio-*.whl"))
    wheel.write_bytes(wheel.read_bytes()[:-10] + b"0123456789")
    root = tmp_path / "root"
    with pytest.raises(BundleError, match=f"checksum mismatch: wheels/{wheel.name}"):
        install(top, LinuxLayout(root), token="whatever")
    _nothing_installed(root)
    done = installer_cli("install", str(top), "--root", str(root), "--token", "x", check=False)
    assert done.returncode == 1
    assert "checksum mismatch" in done.stderr


def test_a_wrong_collector_address_installs_nothing(
    builder: Builder, collector: Collector, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bundle = builder(
        "tar", f"127.0.0.1:{port}", collector.ca_cert, enroll_server=f"127.0.0.1:{port}"
    )
    root = tmp_path / "root"
    with pytest.raises(EnrolmentError, match=f"cannot reach the collector.*127.0.0.1:{port}"):
        install(bundle.path, LinuxLayout(root), token=collector.create_token())
    _nothing_installed(root)


@pytest.fixture
def not_a_collector() -> Iterator[str]:
    """A TCP server that answers anything with garbage (say, a web server on the wrong port)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stopped = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stopped.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stopped.set()
    thread.join()
    server.close()


def test_something_that_is_not_a_parc_collector_installs_nothing(
    builder: Builder, collector: Collector, not_a_collector: str, tmp_path: Path
) -> None:
    bundle = builder("tar", not_a_collector, collector.ca_cert, enroll_server=not_a_collector)
    root = tmp_path / "root"
    with pytest.raises(EnrolmentError, match="enrolment failed") as caught:
        install(bundle.path, LinuxLayout(root), token=collector.create_token())
    assert not_a_collector in str(caught.value)
    _nothing_installed(root)


def test_an_expired_or_spent_token_installs_nothing(
    tar_bundle: BuildResult, collector: Collector, tmp_path: Path
) -> None:
    out = collector.cli(
        "token", "create", "--tenant", "Acme", "--site", "HQ", "--expires", "1s", "--json"
    ).stdout
    expired = json.loads(out)["secret"]
    time.sleep(1.5)
    root = tmp_path / "root"
    with pytest.raises(EnrolmentError, match="refused the enrolment") as caught:
        install(tar_bundle.path, LinuxLayout(root), token=expired)
    assert "expired" in str(caught.value).lower()
    _nothing_installed(root)

    done = installer_cli("install", str(tar_bundle.path), "--root", str(root), check=False)
    assert done.returncode == 1
    assert "no token" in done.stderr
    _nothing_installed(root)


def test_a_failed_upgrade_puts_the_old_install_back(
    tar_bundle: BuildResult, collector: Collector, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    layout = LinuxLayout(root)
    install(tar_bundle.path, layout, token=collector.create_token())
    python_before = layout.host(layout.python).resolve()
    record_before = layout.host(layout.installed_record).read_bytes()
    bundle = extract(tar_bundle.path, tmp_path / "bundle")
    (bundle / "install.sh").write_text("tampered")
    with pytest.raises(BundleError):
        install(bundle, layout)
    assert layout.host(layout.installed_record).read_bytes() == record_before
    assert layout.host(layout.python).resolve() == python_before
    assert status(layout)["installed"] is True
    uninstall(layout, purge=True)


def _service_first_start(config: Path) -> subprocess.CompletedProcess[str]:
    """What ExecStart runs on a machine not yet enrolled (stops before the agent would run)."""
    return service_entry(config, "--enrol-only")


def test_a_refused_baked_token_stops_the_service_instead_of_restarting_it(
    collector: Collector, tmp_path: Path
) -> None:
    """A token the collector refuses exits with the code the unit's RestartPreventExitStatus
    names (no restart every RestartSec); an unreachable collector exits 1, which systemd
    retries, since the collector may come back."""
    from installer.service import EXIT_TOKEN_REFUSED

    state = tmp_path / "state"
    config = tmp_path / "agent.toml"
    baked = settings.make_settings(
        collector.agent_address,
        str(collector.ca_cert),
        str(state),
        collector.enroll_address,
        token="not-a-token-this-collector-issued",
    )
    settings.write(config, baked)
    done = _service_first_start(config)
    assert done.returncode == EXIT_TOKEN_REFUSED, done.stderr
    assert "refused the enrolment" in done.stderr
    assert "not-a-token-this-collector-issued" not in done.stderr
    assert not (state / "identity" / "device.json").exists()

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    settings.write(
        config,
        settings.make_settings(closed, str(collector.ca_cert), str(state), closed, token="t"),
    )
    done = _service_first_start(config)
    assert done.returncode == 1, done.stderr
    assert "cannot reach" in done.stderr
