"""One bundle from its inputs: wheels, CA, config, service definition, scripts, manifest.

Everything that ends up in a bundle is derived from the request, the source tree and the
wheel set; timestamps come from ``epoch`` (SOURCE_DATE_EPOCH), so equal inputs give equal bytes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from installer import agent_wheel, deb, macos, manifest, settings, wheels, windows
from installer.archive import DEFAULT_EPOCH, write_tar_gz, write_zip
from installer.errors import BuildError
from installer.layout import DEB_LAYOUT, LinuxLayout
from installer.progress import Reporter
from installer.scripts import bundle_script
from installer.systemd import unit_text

FORMATS = ("deb", "tar", "windows", "macos")
SOURCE_ROOT = Path(agent_wheel.package_roots()["agent"]).parent
CONSTRAINTS = SOURCE_ROOT / "constraints.txt"


@dataclass(frozen=True, slots=True)
class BuildRequest:
    fmt: str
    server: str
    ca_cert: Path
    out_dir: Path
    token: str | None = None
    enroll_server: str | None = None
    python_versions: tuple[str, ...] = wheels.DEFAULT_PYTHON_VERSIONS
    arch: str = "amd64"
    wheel_cache: Path = field(default_factory=wheels.default_cache_dir)
    epoch: int = DEFAULT_EPOCH


@dataclass(frozen=True, slots=True)
class BuildResult:
    path: Path
    fmt: str
    size: int
    manifest_digest: str


def source_date_epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else DEFAULT_EPOCH


def _check_ca(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BuildError(f"cannot read the CA certificate {path}: {exc.strerror}") from None
    from cryptography import x509

    try:
        x509.load_pem_x509_certificate(data)
    except ValueError:
        raise BuildError(f"{path} is not a PEM certificate (give the collector's ca.crt)") from None
    return data


def _requirements(fmt: str) -> list[str]:
    plain = [r for r in agent_wheel.base_requirements() if ";" not in r]
    # pip download evaluates environment markers for the build machine, not the target, so the
    # target's marker-only dependencies are named here: the service class needs pywin32, and
    # tzlocal needs tzdata on Windows (no system time zone database there).
    extra = ["pywin32", "tzdata"] if fmt == "windows" else []
    return [*plain, *extra, f"pip=={wheels.pip_version()}"]


def _info(request: BuildRequest, os_name: str, target: str) -> dict[str, str]:
    return {
        "format": request.fmt,
        "os": os_name,
        "target": target,
        "version": agent_wheel.agent_version(),
        "python_versions": " ".join(request.python_versions),
        "server": request.server,
    }


def build(request: BuildRequest, step: Reporter) -> BuildResult:
    if request.fmt not in FORMATS:
        raise BuildError(f"unknown format {request.fmt!r} (one of {', '.join(FORMATS)})")
    ca = _check_ca(request.ca_cert)
    target = wheels.target_for(request.fmt, request.arch, request.python_versions)
    request.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parc-build-") as temp:
        stage = Path(temp) / "stage"
        wheel_dir = Path(temp) / "wheels"
        wheel_dir.mkdir(parents=True)
        constraints = CONSTRAINTS if CONSTRAINTS.is_file() else None
        wheels.fetch_wheels(
            target, _requirements(request.fmt), constraints, request.wheel_cache, wheel_dir, step
        )
        step("building the agent wheel")
        agent_wheel.build_agent_wheel(wheel_dir, request.epoch)
        step(f"assembling the {request.fmt} bundle")
        assemble = {"deb": _deb, "tar": _tar, "windows": _windows, "macos": _macos}[request.fmt]
        path, digest = assemble(request, stage, wheel_dir, ca, target.name)
    step(f"wrote {path}")
    return BuildResult(path, request.fmt, path.stat().st_size, digest)


def _config(request: BuildRequest, ca_cert: PurePath, state_dir: PurePath) -> str:
    """The bundle's agent.toml for a target whose CA file and state folder are these."""
    return settings.render(
        settings.make_settings(
            request.server, str(ca_cert), str(state_dir), request.enroll_server, request.token
        )
    )


def _pack(
    request: BuildRequest, stage: Path, os_name: str, target: str, fmt: str
) -> tuple[Path, str]:
    """Write the stage's manifest, then the stage as ``parc-agent-VERSION-TARGET.(zip|tar.gz)``."""
    found = manifest.write_manifest(stage, _info(request, os_name, target))
    name = f"parc-agent-{agent_wheel.agent_version()}-{target}"
    if fmt == "zip":
        out = request.out_dir / f"{name}.zip"
        write_zip(stage, out, name, request.epoch)
    else:
        out = request.out_dir / f"{name}.tar.gz"
        write_tar_gz(stage, out, name, request.epoch)
    return out, found.digest


def _copy_common(stage: Path, wheel_dir: Path, ca: bytes, config: str) -> None:
    shutil.copytree(wheel_dir, stage / "wheels")
    (stage / "ca.crt").write_bytes(ca)
    (stage / "agent.toml").write_text(config)
    (stage / "agent.toml").chmod(0o600)


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def _tar(
    request: BuildRequest, stage: Path, wheel_dir: Path, ca: bytes, target: str
) -> tuple[Path, str]:
    layout = LinuxLayout()
    _copy_common(stage, wheel_dir, ca, _config(request, layout.ca_cert, layout.state_dir))
    (stage / "parc-agent.service").write_text(unit_text(layout))
    wheel = agent_wheel.wheel_name()
    _executable(stage / "install.sh", bundle_script("install", wheel, "Installs the Parc agent."))
    _executable(
        stage / "uninstall.sh", bundle_script("uninstall", wheel, "Removes the Parc agent.")
    )
    return _pack(request, stage, "linux", target, "tar.gz")


def _deb(
    request: BuildRequest, stage: Path, wheel_dir: Path, ca: bytes, target: str
) -> tuple[Path, str]:
    layout = DEB_LAYOUT
    version = agent_wheel.agent_version()
    opt = stage / layout.opt_dir.relative_to("/")
    opt.mkdir(parents=True)
    shutil.copytree(wheel_dir, opt / "wheels")
    share = opt / "share"
    share.mkdir()
    (share / "ca.crt").write_bytes(ca)
    (share / "agent.toml").write_text(_config(request, layout.ca_cert, layout.state_dir))
    unit = stage / layout.unit.relative_to("/")
    unit.parent.mkdir(parents=True)
    unit.write_text(unit_text(layout))
    found = manifest.write_manifest(stage, _info(request, "linux", target), deb.MANIFEST_PATH)
    for path in [stage, *stage.rglob("*")]:
        os.utime(path, (request.epoch, request.epoch))
    return deb.build_deb(stage, request.out_dir, version, request.arch, request.epoch), found.digest


def _windows(
    request: BuildRequest, stage: Path, wheel_dir: Path, ca: bytes, target: str
) -> tuple[Path, str]:
    layout = windows.LAYOUT
    version = agent_wheel.agent_version()
    _copy_common(stage, wheel_dir, ca, _config(request, layout.ca_cert, layout.state_dir))
    (stage / "install.ps1").write_text(windows.install_script(version), newline="\r\n")
    (stage / "uninstall.ps1").write_text(windows.uninstall_script(), newline="\r\n")
    return _pack(request, stage, "windows", target, "zip")


def _macos(
    request: BuildRequest, stage: Path, wheel_dir: Path, ca: bytes, target: str
) -> tuple[Path, str]:
    layout = macos.LAYOUT
    version = agent_wheel.agent_version()
    _copy_common(stage, wheel_dir, ca, _config(request, layout.ca_cert, layout.state_dir))
    (stage / f"{layout.label}.plist").write_bytes(macos.launchd_plist())
    _executable(stage / "install.sh", macos.install_script(version, agent_wheel.wheel_name()))
    _executable(stage / "uninstall.sh", macos.uninstall_script())
    return _pack(request, stage, "macos", target, "tar.gz")
