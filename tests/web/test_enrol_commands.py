"""The install lines on "Add devices" name what the real bundles hold, and the Linux ones work.

Bundles are built by the installer exactly as the page's downloads are (same formats and
architectures), for the running Python only so the cached wheels suffice. Each line's file,
folder, script and options are checked against the built artefact; the tarball's line and the
.deb's enrolment are run for real (re-rooted with ``--root``, without sudo) against the
dashboard's own collector; as root on a machine without a parc-agent, the .deb line itself too
(apt-get, then the package purged).
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from installer.archive import extract
from installer.build import BuildResult
from installer.layout import DEB_LAYOUT, LinuxLayout
from server.services.tokens import TokenService
from tests.installer.conftest import Builder
from tests.installer.conftest import builder as builder  # the installer's bundle fixtures
from tests.installer.conftest import wheel_cache as wheel_cache
from tests.web.conftest import WebHarness
from tests.web.test_tenancy_pages import SECRET, site_id, technician

pytestmark = pytest.mark.e2e

ROW = re.compile(r"<tr><td>([^<]+)</td><td><pre><code class=\"command\">([^<]+)</code>")


async def _commands(web: WebHarness) -> tuple[str, dict[str, str]]:
    """A new token's secret, and the page's install line per system."""
    me = await technician(web, "Acme")
    made = await me.client.post(
        "/devices/add",
        data={"site_id": str(await site_id(web, "Acme")), "uses": "5", "csrf_token": me.csrf},
    )
    assert made.status_code == 200, made.text
    [secret] = set(SECRET.findall(made.text))
    lines = {html.unescape(p): html.unescape(c) for p, c in ROW.findall(made.text)}
    assert len(lines) == 4, lines
    return secret, lines


def _line(lines: dict[str, str], platform: str) -> str:
    [found] = [command for name, command in lines.items() if name.startswith(platform)]
    return found


def _build(web: WebHarness, builder: Builder, fmt: str, arch: str = "amd64") -> BuildResult:
    """The bundle as the page's download builds it (installer.bundle_cache: no token)."""
    return builder(
        fmt,
        str(web.collector.agent_address),
        web.data_dir / "pki" / "ca.crt",
        enroll_server=str(web.collector.enroll_address),
        arch=arch,
    )


async def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A command in another process; the collector answering it runs in this event loop."""
    return await asyncio.to_thread(
        subprocess.run,
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONPATH": "", **env},
    )


async def _uses(web: WebHarness) -> int:
    [token] = await TokenService(web.sessions).list()
    return token.uses_count


async def test_the_linux_tarball_line_unpacks_installs_and_enrols(
    web: WebHarness, builder: Builder, tmp_path: Path
) -> None:
    secret, lines = await _commands(web)
    line = _line(lines, "Linux")
    bundle = _build(web, builder, "tar")
    folder = bundle.path.name.removesuffix(".tar.gz")
    assert line == f"tar xzf {folder}.tar.gz && sudo sh {folder}/install.sh --token {secret}"
    work = tmp_path / "downloads"
    work.mkdir()
    shutil.copy(bundle.path, work / bundle.path.name)
    root = tmp_path / "root"
    # The line as shown, without sudo, installing into a tree instead of /.
    command = line.replace("sudo ", "") + f" --root {shlex.quote(str(root))}"
    python = shutil.which("python3") or sys.executable
    done = await _run(["sh", "-c", command], work, PARC_PYTHON=python)
    assert done.returncode == 0, done.stderr
    assert (work / folder / "install.sh").is_file()
    layout = LinuxLayout(root)
    identity = layout.host(layout.state_dir) / "identity" / "device.json"
    assert json.loads(identity.read_text())["device_id"]
    assert await _uses(web) == 1


def _host_has_an_agent() -> bool:
    return any(Path(p).exists() for p in (DEB_LAYOUT.opt_dir, DEB_LAYOUT.config_dir))


def _host_install() -> tuple[str, str]:
    """The device id and config text the .deb left on this machine."""
    identity = Path(DEB_LAYOUT.state_dir) / "identity" / "device.json"
    return json.loads(identity.read_text())["device_id"], Path(DEB_LAYOUT.config).read_text()


def _apt_logs_hold(secret: str) -> bool:
    logs = [Path("/var/log/apt/term.log"), Path("/var/log/apt/history.log")]
    return any(secret.encode() in log.read_bytes() for log in logs if log.is_file())


async def test_the_deb_line_installs_the_package_with_the_token_in_its_environment(
    web: WebHarness, builder: Builder, tmp_path: Path
) -> None:
    secret, lines = await _commands(web)
    line = _line(lines, "Debian")
    bundle = _build(web, builder, "deb")
    assert line == f"sudo env PARC_TOKEN={secret} apt-get install -y ./{bundle.path.name}"
    payload = tmp_path / "payload"
    control = tmp_path / "control"
    for option, into in (("-x", payload), ("-e", control)):
        unpacked = await _run(["dpkg-deb", option, str(bundle.path), str(into)], tmp_path)
        assert unpacked.returncode == 0, unpacked.stderr
    assert (payload / "lib/systemd/system/parc-agent.service").is_file()
    # postinst enrols with PARC_TOKEN (from the environment, never argv) before any start
    enrol = (
        f"{DEB_LAYOUT.python} -m installer.service --config {DEB_LAYOUT.config} "
        "--enrol-only --token-env PARC_TOKEN"
    )
    postinst = (control / "postinst").read_text()
    assert enrol in postinst
    assert postinst.index(enrol) < postinst.index("systemctl restart")
    venv = DEB_LAYOUT.python.parent.parent
    assert f"python3 -m venv --without-pip {venv}" in postinst
    assert f"{DEB_LAYOUT.opt_dir}/share/agent.toml {DEB_LAYOUT.config}" in postinst
    # What postinst installs, re-rooted; then its enrolment, run from the packaged wheel.
    root = tmp_path / "root"
    config = root / DEB_LAYOUT.config.relative_to("/")
    config.parent.mkdir(parents=True)
    shutil.copy(payload / DEB_LAYOUT.opt_dir.relative_to("/") / "share" / "agent.toml", config)
    shutil.copy(
        payload / DEB_LAYOUT.opt_dir.relative_to("/") / "share" / "ca.crt",
        root / DEB_LAYOUT.ca_cert.relative_to("/"),
    )
    [wheel] = (payload / DEB_LAYOUT.wheels.relative_to("/")).glob("parc_rmm-*.whl")
    done = await _run(
        [sys.executable, *shlex.split(enrol)[1:], "--root", str(root)],
        tmp_path,
        PYTHONPATH=str(wheel),
        PARC_TOKEN=secret,
    )
    assert done.returncode == 0, done.stderr
    identity = root / DEB_LAYOUT.state_dir.relative_to("/") / "identity" / "device.json"
    assert json.loads(identity.read_text())["device_id"] == done.stdout.strip()
    assert secret not in config.read_text() + done.stdout + done.stderr
    assert await _uses(web) == 1

    # The line itself, as root on this machine, when it has no parc-agent of its own.
    if os.geteuid() != 0 or shutil.which("apt-get") is None or _host_has_an_agent():
        return
    work = tmp_path / "downloads"
    work.mkdir()
    shutil.copy(bundle.path, work / bundle.path.name)
    try:
        done = await _run(["sh", "-c", line.removeprefix("sudo ")], work)
        assert done.returncode == 0, done.stdout + done.stderr
        device_id, config_text = _host_install()
        assert f"enrolled as device {device_id}" in done.stdout
        assert secret not in config_text
        assert not _apt_logs_hold(secret)
        assert await _uses(web) == 2
    finally:
        await _run(["dpkg", "--purge", "parc-agent"], tmp_path)


async def test_the_windows_and_macos_lines_name_the_bundles_and_their_options(
    web: WebHarness, builder: Builder, tmp_path: Path
) -> None:
    secret, lines = await _commands(web)
    windows = _build(web, builder, "windows")
    folder = windows.path.name.removesuffix(".zip")
    assert _line(lines, "Windows") == (
        f"Expand-Archive -Force {folder}.zip . ; powershell -ExecutionPolicy Bypass "
        f"-File {folder}\\install.ps1 -Token {secret}"
    )
    with zipfile.ZipFile(windows.path) as archive:
        script = archive.read(f"{folder}/install.ps1").decode()
    assert re.search(r"param\(\s*\[string\]\$Token\b", script), script[:400]

    mac = _build(web, builder, "macos", arch="arm64")
    folder = mac.path.name.removesuffix(".tar.gz")
    assert _line(lines, "macOS") == (
        f"tar xzf {folder}.tar.gz && sudo sh {folder}/install.sh --token {secret}"
    )
    top = extract(mac.path, tmp_path / "mac")
    assert top.name == folder
    assert '--token) token="$2"' in (top / "install.sh").read_text()
