"""The systemd unit: hardened, yet able to run package installs and smartctl; systemd accepts it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest

from installer.layout import LinuxLayout
from installer.settings import make_settings, write
from installer.systemd import unit_text
from tests.installer.conftest import service_entry

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def _directives(text: str) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#"]
    return {key: value for key, value in pairs}


def test_the_unit_is_hardened_without_breaking_installs_or_smartctl() -> None:
    unit = _directives(unit_text(LinuxLayout()))
    assert unit["ExecStart"] == (
        "/opt/parc-agent/venv/bin/python -m installer.service --config /etc/parc/agent.toml"
    )
    assert unit["ExecCondition"] == unit["ExecStart"] + " --check"
    expected = {
        "Restart": "on-failure",
        "RestartPreventExitStatus": "78",  # installer.service's EXIT_TOKEN_REFUSED
        "NoNewPrivileges": "yes",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "Nice": "10",
        "IOSchedulingClass": "idle",
        "MemoryMax": "256M",
    }
    assert {key: unit.get(key) for key in expected} == expected
    # package installs write /usr and /etc; smartctl needs the raw disks
    for forbidden in ("ProtectSystem", "PrivateDevices", "CapabilityBoundingSet", "DevicePolicy"):
        assert forbidden not in unit
    assert unit["WantedBy"] == "multi-user.target"


def _verify(unit: Path) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE is not None
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(unit)], capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    opt = tmp_path / "opt"
    (opt / "venv" / "bin").mkdir(parents=True)
    (opt / "venv" / "bin" / "python").symlink_to(sys.executable)
    layout = LinuxLayout(opt_dir=PurePosixPath(opt))
    unit = tmp_path / "parc-agent.service"
    unit.write_text(unit_text(layout))
    done = _verify(unit)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")

    # the check can fail: a mistyped directive is reported
    unit.write_text(unit_text(layout).replace("Nice=10", "Nice=ten"))
    assert "nice priority 'ten'" in _verify(unit).stderr


def _check(config: Path) -> subprocess.CompletedProcess[str]:
    return service_entry(config, "--check")


def test_the_condition_skips_a_machine_with_neither_identity_nor_token(tmp_path: Path) -> None:
    """ExecCondition exits 1 (start skipped, no restart loop) until there is something to run."""
    state = tmp_path / "state"
    config = tmp_path / "agent.toml"
    bare = make_settings("collector.example:50051", str(tmp_path / "ca.crt"), str(state))
    write(config, bare)
    done = _check(config)
    assert done.returncode == 1
    assert "not enrolled" in done.stderr and str(config) in done.stderr

    write(config, replace(bare, token="a-baked-token"))  # the first start will enrol with it
    assert _check(config).returncode == 0

    write(config, bare)
    (state / "identity").mkdir(parents=True)
    (state / "identity" / "device.json").write_text(json.dumps({"device_id": "d-1"}))
    done = _check(config)
    assert (done.returncode, done.stderr) == (0, "")
