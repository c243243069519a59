"""The parc-agent .deb: inspected with dpkg-deb, then installed for real with dpkg on this machine.

The real install needs root and a machine without a parc-agent of its own (CI runs as root);
the installed service command is started by hand (no systemd runs as PID 1 here) and must enrol
with the baked token, report, and drop the token from /etc/parc/agent.toml.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from installer import settings
from installer.build import BuildResult
from installer.layout import DEB_LAYOUT
from tests.e2e.processes import Collector, wait_for
from tests.installer.conftest import Builder, installer_cli

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed"),
]


@pytest.fixture(scope="module")
def baked_token(collector: Collector) -> str:
    return collector.create_token(tenant="Acme", site="Lyon")


@pytest.fixture(scope="module")
def deb(builder: Builder, collector: Collector, baked_token: str) -> BuildResult:
    return builder(
        "deb",
        collector.agent_address,
        collector.ca_cert,
        enroll_server=collector.enroll_address,
        token=baked_token,
    )


def _dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


def test_control_and_maintainer_scripts(deb: BuildResult, tmp_path: Path) -> None:
    assert deb.path.name == "parc-agent_0.1.0_amd64.deb"
    info = _dpkg_deb("--info", str(deb.path))
    assert re.search(r"^ Package: parc-agent$", info, re.M)
    assert re.search(r"^ Architecture: amd64$", info, re.M)
    assert re.search(r"^ Depends: python3 \(>= 3.11\)$", info, re.M)
    for script in ("postinst", "prerm", "postrm"):
        assert re.search(rf"^\s+\d+ bytes,\s+\d+ lines\s+\*\s+{script}\s", info, re.M), script
    _dpkg_deb("--control", str(deb.path), str(tmp_path / "control"))
    for script in ("postinst", "prerm", "postrm"):
        path = tmp_path / "control" / script
        assert stat.S_IMODE(path.stat().st_mode) == 0o755
        subprocess.run(["sh", "-n", str(path)], check=True)
    postrm = (tmp_path / "control" / "postrm").read_text()
    purge = postrm.split("purge)")[1].split(";;")[0]
    assert "/var/lib/parc-agent" in purge and "/etc/parc/agent.toml" in purge
    remove = postrm.split("remove)")[1].split(";;")[0]
    assert "/var/lib/parc-agent" not in remove and "/etc/parc" not in remove
    postinst = (tmp_path / "control" / "postinst").read_text()
    assert "--no-index" in postinst
    assert "install -m 0600 -o root -g root" in postinst


def test_contents_and_modes(deb: BuildResult) -> None:
    listing = _dpkg_deb("--contents", str(deb.path))
    entries = {}
    for line in listing.splitlines():
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        entries[path] = (mode, owner)
    assert {owner for _mode, owner in entries.values()} == {"root/root"}
    assert entries["./opt/parc-agent/share/agent.toml"][0] == "-rw-------"
    assert entries["./opt/parc-agent/share/ca.crt"][0] == "-rw-r--r--"
    assert entries["./lib/systemd/system/parc-agent.service"][0] == "-rw-r--r--"
    assert "./opt/parc-agent/MANIFEST.json" in entries
    wheels = [p for p in entries if p.startswith("./opt/parc-agent/wheels/")]
    assert any("parc_rmm-0.1.0-py3-none-any.whl" in p for p in wheels)
    assert any("/grpcio-" in p for p in wheels)
    assert not any(p.startswith(("./etc/", "./var/")) for p in entries)
    assert "files match the manifest" in installer_cli("verify", str(deb.path)).stdout


def _installed() -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", "parc-agent"], capture_output=True, text=True
    )
    return done.returncode == 0 and "installed" in done.stdout.split()


@pytest.fixture
def host_install() -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.skip("installing a .deb for real needs root")
    if _installed() or Path("/opt/parc-agent").exists() or Path("/etc/parc").exists():
        pytest.skip("this machine already has a parc-agent of its own; not touching it")
    try:
        yield
    finally:
        subprocess.run(["dpkg", "--purge", "parc-agent"], capture_output=True, check=False)


def _dpkg(*args: str) -> None:
    done = subprocess.run(["dpkg", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_dpkg_install_enrols_reports_removes_and_purges(
    deb: BuildResult,
    builder: Builder,
    collector: Collector,
    baked_token: str,
    host_install: None,
    tmp_path: Path,
) -> None:
    layout = DEB_LAYOUT
    _dpkg("--install", str(deb.path))
    assert _installed()
    config = Path(layout.config)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert (config.stat().st_uid, config.stat().st_gid) == (0, 0)
    assert settings.load(config).token == baked_token
    assert stat.S_IMODE(Path(layout.state_dir).stat().st_mode) == 0o700
    unit = Path(layout.unit)
    if shutil.which("systemd-analyze"):
        done = subprocess.run(
            ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True
        )
        assert (done.returncode, done.stdout + done.stderr) == (0, "")

    exec_start = next(
        line.split("=", 1)[1]
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=")
    )
    log_path = tmp_path / "service.log"
    with log_path.open("ab") as log:
        service = subprocess.Popen(shlex.split(exec_start), stdout=log, stderr=subprocess.STDOUT)
    try:
        device = wait_for(
            lambda: next(
                (d for d in collector.devices() if d["site"] == "Lyon" and d["online"]), None
            ),
            90,
            "the packaged agent to enrol and show online",
        )
    finally:
        service.terminate()
        service.wait(timeout=30)
    assert device["tenant"] == "Acme"
    assert settings.load(config).token is None
    assert baked_token not in config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    # an upgrade (a newer build of the package) keeps the identity, the spool and the config
    identity = (Path(layout.state_dir) / "identity" / "device.json").read_bytes()
    config_text = config.read_text()
    newer = builder(
        "deb",
        collector.agent_address,
        collector.ca_cert,
        enroll_server=collector.enroll_address,
        token=baked_token,
        epoch=1_800_000_000,
    )
    _dpkg("--install", str(newer.path))
    assert (Path(layout.state_dir) / "identity" / "device.json").read_bytes() == identity
    assert (Path(layout.state_dir) / "spool.db").exists()
    assert config.read_text() == config_text  # the spent token does not come back
    assert Path(layout.python).exists()

    _dpkg("--remove", "parc-agent")
    assert not Path("/opt/parc-agent").exists()
    assert not unit.exists()
    assert config.exists()
    assert (Path(layout.state_dir) / "identity" / "device.json").exists()

    _dpkg("--purge", "parc-agent")
    for path in ("/opt/parc-agent", "/etc/parc", "/var/lib/parc-agent", str(unit)):
        assert not Path(path).exists(), path
    assert not _installed()
