"""Building bundles: contents, reproducibility, bad input."""

from __future__ import annotations

import hashlib
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from installer import settings
from installer.agent_wheel import build_agent_wheel
from installer.archive import extract
from installer.build import BuildResult
from installer.errors import BuildError
from installer.manifest import verify
from tests.e2e.processes import Collector
from tests.installer.conftest import Builder, installer_cli


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_tarball_holds_wheels_config_unit_scripts_and_a_manifest(
    tar_bundle: BuildResult, collector: Collector, tmp_path: Path
) -> None:
    with tarfile.open(tar_bundle.path) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    assert {"MANIFEST.json", "agent.toml", "ca.crt", "parc-agent.service", "install.sh"} <= set(
        members
    )
    assert members["install.sh"].mode == 0o755
    wheel_names = [n.removeprefix("wheels/") for n in members if n.startswith("wheels/")]
    for dist in ("parc_rmm-", "grpcio-", "cryptography-", "protobuf-", "psutil-", "pip-"):
        assert any(w.startswith(dist) for w in wheel_names), dist
    top = extract(tar_bundle.path, tmp_path)
    found = verify(top)
    assert found.info["os"] == "linux"
    assert found.info["format"] == "tar"
    config = settings.load(top / "agent.toml")
    assert config.server == collector.agent_address
    assert config.enroll_server == collector.enroll_address
    assert config.token is None
    assert (top / "ca.crt").read_bytes() == collector.ca_cert.read_bytes()


def test_the_same_inputs_give_the_same_bytes(builder: Builder, collector: Collector) -> None:
    for fmt in ("deb", "tar"):
        one = builder(fmt, collector.agent_address, collector.ca_cert, token="baked")
        two = builder(fmt, collector.agent_address, collector.ca_cert, token="baked")
        assert one.path.name == two.path.name
        assert _digest(one.path) == _digest(two.path), fmt
    other = builder("tar", collector.agent_address, collector.ca_cert, token="other")
    assert _digest(other.path) != _digest(one.path)


def test_the_agent_wheel_is_reproducible_and_complete(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = build_agent_wheel(tmp_path / "a", 1_700_000_000)
    two = build_agent_wheel(tmp_path / "b", 1_700_000_000)
    assert one.read_bytes() == two.read_bytes()
    with zipfile.ZipFile(one) as wheel:
        names = wheel.namelist()
        metadata = wheel.read("parc_rmm-0.1.0.dist-info/METADATA").decode()
        entry_points = wheel.read("parc_rmm-0.1.0.dist-info/entry_points.txt").decode()
    assert names == sorted(names[:-5]) + names[-5:]  # sources sorted, then the dist-info
    assert "agent/cli.py" in names
    assert "installer/service.py" in names
    assert "parc/v1/agent_service_pb2.py" in names
    assert not any(n.startswith("server/") for n in names)
    assert "Requires-Dist: grpcio" in metadata
    assert "sqlalchemy" not in metadata.lower()
    assert "parc-agent = agent.cli:main" in entry_points
    assert "parc-installer = installer.cli:main" in entry_points


def test_a_bad_ca_file_or_address_is_refused(
    builder: Builder, collector: Collector, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(BuildError, match="not a PEM certificate"):
        builder("tar", collector.agent_address, junk)
    with pytest.raises(BuildError, match="cannot read the CA certificate"):
        builder("tar", collector.agent_address, tmp_path / "missing.pem")
    done = installer_cli(
        "build",
        "--format",
        "tar",
        "--server",
        "no-port",
        "--ca-cert",
        str(collector.ca_cert),
        "--out",
        str(tmp_path / "out"),
        check=False,
    )
    assert done.returncode == 1
    assert "--server" in done.stderr
    assert not (tmp_path / "out").exists()


def test_verify_command_checks_archives(tar_bundle: BuildResult, tmp_path: Path) -> None:
    done = installer_cli("verify", str(tar_bundle.path))
    assert "files match the manifest" in done.stdout
    top = extract(tar_bundle.path, tmp_path)
    (top / "ca.crt").write_text("swapped")
    done = installer_cli("verify", str(top), check=False)
    assert done.returncode == 1
    assert "checksum mismatch: ca.crt" in done.stderr


def test_config_in_the_bundle_is_private(tar_bundle: BuildResult) -> None:
    with tarfile.open(tar_bundle.path) as tar:
        config = next(m for m in tar.getmembers() if m.name.endswith("/agent.toml"))
    # archives normalise modes; the installer writes the installed config 0600 itself
    assert stat.S_IMODE(config.mode) in (0o644, 0o600)
