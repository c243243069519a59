"""The macOS bundle, checked by parsing it (launchd and macOS are not available here)."""

from __future__ import annotations

import plistlib
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from installer import settings
from installer.archive import extract
from installer.build import BuildResult
from installer.manifest import verify
from tests.e2e.processes import Collector
from tests.installer.conftest import Builder


@pytest.fixture(scope="module")
def macos_bundle(builder: Builder, collector: Collector) -> BuildResult:
    return builder("macos", "collector.example.net:50051", collector.ca_cert, arch="arm64")


@pytest.fixture(scope="module")
def unpacked(macos_bundle: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract(macos_bundle.path, tmp_path_factory.mktemp("macos"))


def test_launchd_plist(unpacked: Path) -> None:
    plist = plistlib.loads((unpacked / "com.parc.agent.plist").read_bytes())
    assert plist["Label"] == "com.parc.agent"
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["UserName"] == "root"
    assert plist["ProgramArguments"] == [
        "/usr/local/parc-agent/venv/bin/python3",
        "-m",
        "installer.service",
        "--config",
        "/Library/Application Support/Parc/agent.toml",
    ]
    assert plist["StandardErrorPath"].startswith("/Library/Logs/Parc/")


def test_bundle_contents_and_wheels_for_apple_silicon(
    macos_bundle: BuildResult, unpacked: Path
) -> None:
    with tarfile.open(macos_bundle.path) as tar:
        modes = {m.name.split("/", 1)[-1]: m.mode for m in tar.getmembers()}
    assert modes["install.sh"] == 0o755
    assert modes["uninstall.sh"] == 0o755
    wheels = [p.name for p in (unpacked / "wheels").iterdir()]
    for dist in ("psutil-", "grpcio-", "cryptography-", "cffi-"):
        assert any(w.startswith(dist) and ("arm64" in w or "universal2" in w) for w in wheels)
    assert not any("x86_64" in w for w in wheels)
    assert macos_bundle.path.name == "parc-agent-0.1.0-macos-arm64.tar.gz"
    assert not any("manylinux" in w or "win_" in w for w in wheels)
    assert verify(unpacked).info["os"] == "macos"
    config = settings.load(unpacked / "agent.toml")
    assert config.state_dir == "/Library/Application Support/Parc/state"
    assert config.token is None


def test_scripts_parse_and_do_what_they_say(unpacked: Path) -> None:
    for name in ("install.sh", "uninstall.sh"):
        subprocess.run(["sh", "-n", str(unpacked / name)], check=True)
        assert stat.S_IMODE((unpacked / name).stat().st_mode) == 0o755
    install = (unpacked / "install.sh").read_text()
    assert "installer.cli verify" in install
    assert install.index("installer.cli verify") < install.index("-m venv")
    assert 'launchctl bootstrap system "$plist"' in install
    assert "plist=/Library/LaunchDaemons/com.parc.agent.plist" in install
    assert 'install -m 0600 -o root -g wheel "$here/agent.toml" "$config"' in install
    assert "trap 'rollback' EXIT" in install and "trap - EXIT" in install
    assert "--enrol-only" in install
    uninstall = (unpacked / "uninstall.sh").read_text()
    assert "launchctl bootout system/com.parc.agent" in uninstall
    purge_block = uninstall.split('if [ "$purge" = 1 ]; then', 1)[1]
    assert "/Library/Application Support/Parc" in purge_block
    assert uninstall.count("/Library/Application Support/Parc") == 1  # only when purging
