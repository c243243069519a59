"""The installed agent's config file (``/etc/parc/agent.toml`` on Linux): render, parse, strip.

It says where the collector is, which CA to trust, where the agent keeps its state and, until the
first start has enrolled, the enrolment token. Only root (SYSTEM and Administrators on Windows)
can read it, because of that token; enrolment removes the token from it afterwards.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from agent.address import AddressError, default_enroll_address, parse_address
from installer.errors import InstallerError

CONFIG_MODE = 0o600
KEYS = ("server", "enroll_server", "ca_cert", "state_dir", "token", "log_level")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(InstallerError):
    """A config file or build argument that is not valid."""


@dataclass(frozen=True, slots=True)
class InstallSettings:
    """What the service needs to enrol and run. Paths are as seen on the target machine."""

    server: str
    enroll_server: str
    ca_cert: str
    state_dir: str
    token: str | None = None
    log_level: str = "INFO"

    def without_token(self) -> InstallSettings:
        return replace(self, token=None)


def check_address(text: str, what: str) -> str:
    try:
        return parse_address(text).target
    except AddressError as exc:
        raise SettingsError(f"{what}: {exc}") from None


def make_settings(
    server: str,
    ca_cert: str,
    state_dir: str,
    enroll_server: str | None = None,
    token: str | None = None,
    log_level: str = "INFO",
) -> InstallSettings:
    target = check_address(server, "--server")
    enrol = (
        check_address(enroll_server, "--enroll-server")
        if enroll_server
        else default_enroll_address(parse_address(target)).target
    )
    if token is not None and (not token.strip() or any(c in token for c in '\r\n"\\')):
        raise SettingsError("--token must be a non-empty single-line token")
    if log_level.upper() not in LOG_LEVELS:
        raise SettingsError(f"log level must be one of {', '.join(LOG_LEVELS)}")
    return InstallSettings(target, enrol, ca_cert, state_dir, token or None, log_level.upper())


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(settings: InstallSettings) -> str:
    lines = [
        "# Parc agent: written by parc-installer. Only root may read this file.\n",
        "# The token (if any) enrols the machine on the service's first start and is then\n",
        "# removed from this file.\n",
    ]
    for key in KEYS:
        value = getattr(settings, key)
        if value is not None:
            lines.append(f"{key} = {_quote(str(value))}\n")
    return "".join(lines)


def parse(text: str, source: str) -> InstallSettings:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise SettingsError(f"{source}: unknown settings {', '.join(unknown)}")
    for key in ("server", "ca_cert", "state_dir"):
        if not isinstance(raw.get(key), str):
            raise SettingsError(f"{source}: {key} must be set (a string)")
    values = {k: v for k, v in raw.items() if isinstance(v, str)}
    if len(values) != len(raw):
        raise SettingsError(f"{source}: every setting is a string")
    try:
        return make_settings(
            values["server"],
            values["ca_cert"],
            values["state_dir"],
            values.get("enroll_server"),
            values.get("token"),
            values.get("log_level", "INFO"),
        )
    except SettingsError as exc:
        raise SettingsError(f"{source}: {exc}") from None


def load(path: Path) -> InstallSettings:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse(text, str(path))


def write(path: Path, settings: InstallSettings) -> None:
    """Writes the config atomically with mode 0600 (never readable by others, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".agent.toml-")
    try:
        os.fchmod(fd, CONFIG_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render(settings))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
