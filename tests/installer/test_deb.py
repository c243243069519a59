"""The parc-agent .deb: inspected with dpkg-deb, then installed for real with dpkg on this machine.

The real install needs root and a machine without a parc-agent of its own (CI runs as root);
the installed service command is started by hand (no systemd runs as PID 1 here) and must enrol
with the baked token, report, and drop the token from /etc/parc/agent.toml. The install-time
token (``PARC_TOKEN``) is tested with the dashboard's kind of package (no token baked in).

What postinst asks of systemd is recorded, not guessed: dpkg runs in a private mount namespace
where /run/systemd/system exists (so the scripts believe systemd is running) with a
``systemctl`` first on PATH that writes its arguments to a file.
"""

from __future__ import annotations

import json
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
from installer.deb import ENROL_LATER, RETRY, TOKEN_VARIABLE
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


@pytest.fixture(scope="module")
def bare_deb(builder: Builder, collector: Collector) -> BuildResult:
    """As the dashboard's "Add devices" page offers it: no token inside."""
    return builder(
        "deb", collector.agent_address, collector.ca_cert, enroll_server=collector.enroll_address
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


class FakeSystemd:
    """Runs dpkg where the maintainer scripts see a running systemd; keeps their systemctl calls."""

    def __init__(self, folder: Path) -> None:
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True)
        self.log = folder / "systemctl.log"
        self.log.touch()
        fake = self.bin / "systemctl"
        fake.write_text(f'#!/bin/sh\necho "$*" >> {self.log}\n')
        fake.chmod(0o755)

    def run(self, *argv: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
        env["PATH"] = f"{self.bin}:{env.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}"
        if token is not None:
            env[TOKEN_VARIABLE] = token
        inner = 'mount -t tmpfs parc-test /run/systemd && mkdir /run/systemd/system && exec "$@"'
        return subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", inner, "sh", *argv],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=600,
        )

    def calls(self) -> list[str]:
        """The systemctl calls since the last look."""
        lines = self.log.read_text().splitlines()
        self.log.write_text("")
        return lines


@pytest.fixture
def systemd(host_install: None, tmp_path: Path) -> FakeSystemd:
    fake = FakeSystemd(tmp_path / "systemd")
    probe = fake.run("true")
    if probe.returncode != 0:
        pytest.skip(f"cannot make a private mount namespace here: {probe.stderr.strip()}")
    return fake


STARTED = ["enable parc-agent.service", "restart parc-agent.service"]


def _dpkg(*args: str) -> None:
    done = subprocess.run(["dpkg", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _status() -> str:
    return subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", "parc-agent"], capture_output=True, text=True
    ).stdout


def _device_id() -> str | None:
    path = Path(DEB_LAYOUT.state_dir) / "identity" / "device.json"
    return str(json.loads(path.read_text())["device_id"]) if path.exists() else None


def _files_holding(secret: str, *folders: str) -> list[str]:
    found = []
    for folder in map(Path, folders):
        for path in [folder, *folder.rglob("*")] if folder.is_dir() else [folder]:
            if path.is_file() and not path.is_symlink() and secret.encode() in path.read_bytes():
                found.append(str(path))
    return found


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


def test_a_token_in_the_environment_enrols_at_install_and_is_kept_nowhere(
    bare_deb: BuildResult, builder: Builder, collector: Collector, systemd: FakeSystemd
) -> None:
    token = collector.create_token(tenant="Acme", site="Paris")
    done = systemd.run("dpkg", "--install", str(bare_deb.path), token=token)
    assert done.returncode == 0, done.stderr
    device_id = _device_id()
    assert device_id is not None
    assert f"parc-agent: this machine is enrolled as device {device_id}" in done.stdout
    device = collector.device(device_id)
    assert device is not None and (device["tenant"], device["site"]) == ("Acme", "Paris")
    calls = systemd.calls()
    assert calls[-2:] == STARTED, calls  # enrolled first, then started
    assert token not in done.stdout + done.stderr
    assert _files_holding(token, "/etc/parc", "/var/lib/parc-agent", "/var/log/dpkg.log") == []
    assert settings.load(Path(DEB_LAYOUT.config)).token is None

    # an upgrade with no token keeps the identity and restarts the service as before
    identity = (Path(DEB_LAYOUT.state_dir) / "identity" / "device.json").read_bytes()
    newer = builder(
        "deb",
        collector.agent_address,
        collector.ca_cert,
        enroll_server=collector.enroll_address,
        epoch=1_800_000_000,
    )
    done = systemd.run("dpkg", "--install", str(newer.path))
    assert done.returncode == 0, done.stderr
    assert (Path(DEB_LAYOUT.state_dir) / "identity" / "device.json").read_bytes() == identity
    assert "not enrolled" not in done.stdout
    calls = systemd.calls()
    assert calls[0] == "stop parc-agent.service"  # prerm upgrade
    assert calls[-2:] == STARTED, calls

    # a token given to an enrolled machine is not spent: the identity stays as it is
    spare = collector.create_token(tenant="Acme", site="Nice")
    done = systemd.run("dpkg", "--install", str(newer.path), token=spare)
    assert done.returncode == 0, done.stderr
    assert _device_id() == device_id
    assert not any(d["site"] == "Nice" for d in collector.devices())


def test_a_refused_token_fails_the_install_starts_nothing_and_can_be_retried(
    bare_deb: BuildResult, collector: Collector, systemd: FakeSystemd
) -> None:
    wrong = "not-a-token-" + "x" * 20
    done = systemd.run("dpkg", "--install", str(bare_deb.path), token=wrong)
    assert done.returncode != 0
    assert "the collector refused the enrolment" in done.stderr, done.stderr
    assert "parc-agent: NOT enrolled" in done.stderr
    assert f"parc-agent:     {RETRY}" in done.stderr
    assert wrong not in done.stdout + done.stderr
    assert _status().split()[-1] == "half-configured"
    assert _device_id() is None
    calls = systemd.calls()
    assert "disable --now parc-agent.service" in calls
    assert not any(call.startswith(("enable", "start", "restart")) for call in calls), calls
    assert _files_holding(wrong, "/etc/parc", "/var/lib/parc-agent") == []

    # the retry the message names, with a good token, finishes the install
    token = collector.create_token(tenant="Acme", site="Rennes")
    argv = shlex.split(RETRY.replace("=TOKEN", f"={token}"))
    assert argv[:3] == ["sudo", "env", f"{TOKEN_VARIABLE}={token}"]
    done = systemd.run(*argv[1:])  # as printed, but root already
    assert done.returncode == 0, done.stderr
    assert _installed()
    device = collector.device(_device_id() or "")
    assert device is not None and device["site"] == "Rennes"
    assert systemd.calls()[-2:] == STARTED


def test_no_token_installs_without_starting_and_says_how_to_enrol(
    bare_deb: BuildResult, collector: Collector, systemd: FakeSystemd
) -> None:
    done = systemd.run("dpkg", "--install", str(bare_deb.path))
    assert done.returncode == 0, done.stderr
    assert "this machine is not enrolled, so the service was not started" in done.stdout
    assert f"parc-agent:     {ENROL_LATER}" in done.stdout
    assert _installed()
    assert _device_id() is None
    calls = systemd.calls()
    assert "disable --now parc-agent.service" in calls
    assert not any(call.startswith(("enable", "start", "restart")) for call in calls), calls
    # a start by hand (or at boot) is skipped by the unit's condition instead of failing
    unit = Path(DEB_LAYOUT.unit).read_text()
    condition = next(
        line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecCondition=")
    )
    skipped = subprocess.run(shlex.split(condition), capture_output=True, text=True)
    assert skipped.returncode == 1 and "not enrolled" in skipped.stderr

    if shutil.which("dpkg-reconfigure") is None:
        return
    # the command it printed enrols the machine and starts the service
    token = collector.create_token(tenant="Acme", site="Brest")
    argv = shlex.split(ENROL_LATER.replace("=TOKEN", f"={token}"))
    assert argv[:3] == ["sudo", "env", f"{TOKEN_VARIABLE}={token}"]
    done = systemd.run(*argv[1:])
    assert done.returncode == 0, done.stderr
    device = collector.device(_device_id() or "")
    assert device is not None and device["site"] == "Brest"
    assert systemd.calls()[-2:] == STARTED
    assert subprocess.run(shlex.split(condition), capture_output=True).returncode == 0
