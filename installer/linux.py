"""Install, upgrade, uninstall and status of the agent on Linux (tarball bundles, ``--root``).

Install checks the bundle against its manifest before touching anything, then keeps a journal
of every path it creates or replaces: if any step fails (the environment cannot be built, the
collector is unreachable, the token is refused) the journal puts everything back as it was.
An identical bundle on an enrolled machine is a no-op; a newer bundle replaces the program and
keeps the config, the identity and the spool.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from installer import manifest, settings
from installer.archive import extract
from installer.enrolment import device_id
from installer.errors import BundleError, EnrolmentError, InstallError
from installer.layout import SERVICE_NAME, LinuxLayout
from installer.systemd import unit_text
from installer.venv import create_venv

STATE_MODE = 0o700


@dataclass
class Journal:
    """What an install changed, so it can be undone: created paths and replaced ones."""

    created: list[Path] = field(default_factory=list)
    moved: list[tuple[Path, Path]] = field(default_factory=list)  # (original, backup)

    def create_dir(self, path: Path, mode: int) -> None:
        missing = []
        probe = path
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        path.mkdir(parents=True, exist_ok=True, mode=mode)
        path.chmod(mode)
        self.created.extend(reversed(missing))

    def set_aside(self, path: Path) -> None:
        """Moves ``path`` out of the way (restored on rollback, deleted on commit)."""
        if path.exists():
            backup = path.with_name(f".{path.name}.previous")
            if backup.exists():
                _remove(backup)
            path.rename(backup)
            self.moved.append((path, backup))

    def new_file(self, path: Path, data: bytes, mode: int) -> None:
        self.set_aside(path)
        self.created.append(path)
        path.write_bytes(data)
        path.chmod(mode)

    def rollback(self) -> None:
        for path in reversed(self.created):
            _remove(path)
        for original, backup in reversed(self.moved):
            _remove(original)
            backup.rename(original)

    def commit(self) -> None:
        for _, backup in self.moved:
            _remove(backup)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def opened_bundle(bundle: Path) -> Iterator[Path]:
    """The bundle's directory: ``bundle`` itself, or a temporary extraction of an archive."""
    if bundle.is_dir():
        yield bundle
        return
    if not bundle.is_file():
        raise BundleError(f"{bundle}: no such bundle")
    with tempfile.TemporaryDirectory(prefix="parc-bundle-") as temp:
        yield extract(bundle, Path(temp))


def systemd_live(layout: LinuxLayout) -> bool:
    return not layout.rerooted and Path("/run/systemd/system").is_dir()


def _systemctl(*args: str) -> None:
    done = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InstallError(f"systemctl {' '.join(args)} failed: {done.stderr.strip()}")


@dataclass(frozen=True, slots=True)
class InstallResult:
    changed: bool
    device_id: str | None
    message: str


def _read_record(layout: LinuxLayout) -> dict[str, str]:
    try:
        raw = json.loads(layout.host(layout.installed_record).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def install(
    bundle: Path, layout: LinuxLayout, token: str | None = None, python: str | None = None
) -> InstallResult:
    with opened_bundle(bundle) as source:
        return _install(source, layout, token, python)


def _install(
    source: Path, layout: LinuxLayout, token: str | None, python: str | None
) -> InstallResult:
    found = manifest.verify(source)
    if found.info.get("os") != "linux":
        raise BundleError(f"{source}: this bundle is for {found.info.get('os')!r}, not Linux")
    bundled = settings.parse(
        (source / "agent.toml").read_text(encoding="utf-8"), f"{source}/agent.toml"
    )
    if token is not None:
        bundled = settings.make_settings(
            bundled.server, bundled.ca_cert, bundled.state_dir, bundled.enroll_server, token
        )
    state_dir = layout.host(layout.state_dir)
    enrolled = device_id(state_dir)
    record = _read_record(layout)
    venv_ok = layout.host(layout.python).exists()
    if enrolled and venv_ok and record.get("manifest_digest") == found.digest:
        return InstallResult(False, enrolled, f"already installed and enrolled as {enrolled}")
    if enrolled is None and not bundled.token:
        raise EnrolmentError(
            "this machine is not enrolled and the bundle has no token: pass --token TOKEN"
        )

    journal = Journal()
    live = systemd_live(layout)
    try:
        if live and record:
            subprocess.run(["systemctl", "stop", SERVICE_NAME], capture_output=True, check=False)
        _lay_down(source, found, layout, bundled, journal, python)
        device = enrolled or _enrol(layout)
        journal.commit()
    except BaseException:
        journal.rollback()
        if live and record:  # the previous version is back: let it run again
            subprocess.run(["systemctl", "start", SERVICE_NAME], capture_output=True, check=False)
        raise
    if live:
        _systemctl("daemon-reload")
        _systemctl("enable", "--now", SERVICE_NAME)
        _systemctl("restart", SERVICE_NAME)
    verb = "upgraded" if record else "installed"
    return InstallResult(True, device, f"{verb} version {found.info['version']}; device {device}")


def _lay_down(
    source: Path,
    found: manifest.Manifest,
    layout: LinuxLayout,
    bundled: settings.InstallSettings,
    journal: Journal,
    python: str | None,
) -> None:
    opt = layout.host(layout.opt_dir)
    journal.create_dir(opt, 0o755)
    journal.create_dir(layout.host(layout.config_dir), 0o755)
    journal.create_dir(layout.host(layout.state_dir), STATE_MODE)
    layout.host(layout.state_dir).chmod(STATE_MODE)
    journal.create_dir(layout.host(layout.unit_dir), 0o755)

    wheels = layout.host(layout.wheels)
    journal.set_aside(wheels)
    journal.created.append(wheels)
    shutil.copytree(source / "wheels", wheels)
    venv = layout.host(layout.venv)
    journal.set_aside(venv)
    journal.created.append(venv)
    create_venv(venv, wheels, f"parc-rmm=={found.info['version']}", python)

    config = layout.host(layout.config)
    if not config.exists():
        journal.created.append(config)
        settings.write(config, bundled)
    elif bundled.token and device_id(layout.host(layout.state_dir)) is None:
        # not enrolled yet: the new token replaces the old one
        previous = settings.load(config)
        journal.set_aside(config)
        journal.created.append(config)
        settings.write(config, replace(previous, token=bundled.token))
    ca = layout.host(layout.ca_cert)
    if not ca.exists():
        journal.new_file(ca, (source / "ca.crt").read_bytes(), 0o644)
    journal.new_file(layout.host(layout.unit), unit_text(layout).encode(), 0o644)
    journal.new_file(
        layout.host(layout.installed_record),
        (
            json.dumps(
                {
                    "version": found.info["version"],
                    "manifest_digest": found.digest,
                    "target": found.info.get("target", ""),
                },
                indent=2,
                sort_keys=True,
            )
            + "\n"
        ).encode(),
        0o644,
    )


def _enrol(layout: LinuxLayout) -> str:
    command = [
        str(layout.host(layout.python)),
        "-m",
        "installer.service",
        "--config",
        str(layout.config),
        "--enrol-only",
    ]
    if layout.rerooted:
        command += ["--root", str(layout.root)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        message = done.stderr.strip().removeprefix("parc-agent service: ")
        raise EnrolmentError(message or "enrolment failed")
    return done.stdout.strip()


def uninstall(layout: LinuxLayout, purge: bool = False) -> list[str]:
    """Stops and removes the service and the program; with ``purge`` also config and state."""
    if systemd_live(layout) and layout.host(layout.unit).exists():
        subprocess.run(
            ["systemctl", "disable", "--now", SERVICE_NAME], capture_output=True, check=False
        )
    targets = [layout.unit, layout.opt_dir]
    if purge:
        targets += [layout.config, layout.ca_cert, layout.state_dir]
    removed = []
    for target in targets:
        path = layout.host(target)
        if path.exists() or path.is_symlink():
            _remove(path)
            removed.append(str(target))
    config_dir = layout.host(layout.config_dir)
    if purge and config_dir.is_dir() and not any(config_dir.iterdir()):
        config_dir.rmdir()
        removed.append(str(layout.config_dir))
    if systemd_live(layout) and removed:
        subprocess.run(["systemctl", "daemon-reload"], capture_output=True, check=False)
    return removed


def status(layout: LinuxLayout) -> dict[str, object]:
    record = _read_record(layout)
    report: dict[str, object] = {
        "installed": bool(record) and layout.host(layout.python).exists(),
        "version": record.get("version"),
        "manifest_digest": record.get("manifest_digest"),
        "device_id": device_id(layout.host(layout.state_dir)),
        "config": str(layout.config) if layout.host(layout.config).exists() else None,
        "state_dir": str(layout.state_dir) if layout.host(layout.state_dir).exists() else None,
    }
    if systemd_live(layout):
        done = subprocess.run(
            ["systemctl", "is-active", SERVICE_NAME], capture_output=True, text=True, check=False
        )
        report["service"] = done.stdout.strip() or "unknown"
    else:
        report["service"] = "not managed here (no running systemd or --root)"
    return report
