"""The collector's settings: what `parc-server run` needs to know, and where it comes from.

Precedence, highest first: command-line options, the environment (``PARC_DATABASE_URL``),
``DATA/server.toml`` (written by ``parc-server init``), built-in defaults.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from server.services.health_state import DEFAULT_THRESHOLDS, HealthThresholds

DATA_DIR_ENV = "PARC_DATA_DIR"
DATABASE_URL_ENV = "PARC_DATABASE_URL"
DEFAULT_DATA_DIR = Path("var/collector")
DEFAULT_LISTEN = "0.0.0.0:50051"
DEFAULT_HTTP_LISTEN = "0.0.0.0:8443"
HTTP_OFF = "off"
SERVER_TOML = "server.toml"
RUN_FILE = Path("run") / "collector.json"


class SettingsError(ValueError):
    """A setting is malformed (an address without a port, an unreadable server.toml)."""


@dataclass(frozen=True)
class Address:
    """A host and a TCP port; port 0 asks the OS for a free one."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse ``HOST:PORT`` (``[v6]:PORT`` for IPv6)."""
        host, sep, port_text = text.rpartition(":")
        if not sep or not host or not port_text.isdigit():
            raise SettingsError(f"expected HOST:PORT, got {text!r}")
        port = int(port_text)
        if port > 65535:
            raise SettingsError(f"port out of range in {text!r}")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        return cls(host=host, port=port)

    def with_port(self, port: int) -> Address:
        return Address(host=self.host, port=port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def default_enroll_address(agent: Address) -> Address:
    """The enrolment port defaults to the agent port + 1 (0 stays 0: any free port)."""
    return agent.with_port(agent.port + 1 if agent.port else 0)


def default_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """``$PARC_DATA_DIR`` or ``./var/collector``."""
    value = environ.get(DATA_DIR_ENV)
    return Path(value) if value else DEFAULT_DATA_DIR


@dataclass(frozen=True)
class ServerFile:
    """What ``DATA/server.toml`` holds."""

    hostnames: tuple[str, ...] = ()
    database_url: str | None = None

    @classmethod
    def read(cls, data_dir: Path) -> ServerFile:
        """Read it; a missing file gives the defaults."""
        path = data_dir / SERVER_TOML
        try:
            with path.open("rb") as stream:
                raw = tomllib.load(stream)
        except FileNotFoundError:
            return cls()
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path} is not valid TOML: {exc}") from exc
        hostnames = raw.get("hostnames", [])
        database_url = raw.get("database_url")
        if not isinstance(hostnames, list) or not all(isinstance(h, str) for h in hostnames):
            raise SettingsError(f"{path}: hostnames must be a list of strings")
        if database_url is not None and not isinstance(database_url, str):
            raise SettingsError(f"{path}: database_url must be a string")
        return cls(hostnames=tuple(hostnames), database_url=database_url)

    def render(self) -> str:
        """The file's text. JSON string escapes are valid TOML basic-string escapes."""
        lines = ["# Written by `parc-server init`.", ""]
        lines.append(f"hostnames = [{', '.join(json.dumps(h) for h in self.hostnames)}]")
        if self.database_url is not None:
            lines.append(f"database_url = {json.dumps(self.database_url)}")
        return "\n".join(lines) + "\n"

    def write(self, data_dir: Path) -> None:
        """Write it (mode 0600: a database URL may hold a password)."""
        path = data_dir / SERVER_TOML
        tmp = path.with_suffix(".toml.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(self.render())
        os.replace(tmp, path)


@dataclass(frozen=True)
class CollectorSettings:
    """Everything ``server.app.serve`` needs."""

    data_dir: Path
    database_url: str | None = None
    listen: Address = field(default_factory=lambda: Address.parse(DEFAULT_LISTEN))
    enroll_listen: Address | None = None
    hostnames: tuple[str, ...] = ()
    certificate_lifetime: timedelta = timedelta(days=30)
    offline_after: timedelta = timedelta(seconds=90)
    watch_interval_s: float = 1.0
    presence_flush_s: float = 1.0
    presence_sweep_s: float = 10.0
    shutdown_grace_s: float = 5.0
    # The dashboard and REST API; None serves no HTTP at all (in-process tests, benchmarks).
    http_listen: Address | None = None
    http_cert: Path | None = None
    http_key: Path | None = None

    @property
    def enroll_address(self) -> Address:
        return self.enroll_listen or default_enroll_address(self.listen)

    @property
    def health_thresholds(self) -> HealthThresholds:
        """The default thresholds, with offline after ``offline_after`` of silence."""
        return dataclasses.replace(
            DEFAULT_THRESHOLDS,
            heartbeat_interval=self.offline_after / DEFAULT_THRESHOLDS.missed_heartbeats,
        )

    @property
    def run_file(self) -> Path:
        return self.data_dir / RUN_FILE


def explicit_database_url(
    data_dir: Path, option: str | None, environ: Mapping[str, str] = os.environ
) -> str | None:
    """The database URL the admin chose, if any: option, then environment, then server.toml.

    ``None`` means the default (SQLite under the data directory, resolved by the store).
    """
    if option:
        return option
    if environ.get(DATABASE_URL_ENV):
        return environ[DATABASE_URL_ENV]
    return ServerFile.read(data_dir).database_url


def load_settings(
    data_dir: Path,
    *,
    database_url: str | None = None,
    listen: str | None = None,
    enroll_listen: str | None = None,
    http_listen: str | None = None,
    http_cert: Path | None = None,
    http_key: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> CollectorSettings:
    """Merge command-line options, the environment and ``DATA/server.toml``."""
    server_file = ServerFile.read(data_dir)
    return CollectorSettings(
        data_dir=data_dir,
        database_url=explicit_database_url(data_dir, database_url, environ),
        listen=Address.parse(listen or DEFAULT_LISTEN),
        enroll_listen=Address.parse(enroll_listen) if enroll_listen else None,
        hostnames=server_file.hostnames,
        http_listen=parse_http_listen(http_listen or DEFAULT_HTTP_LISTEN),
        http_cert=http_cert,
        http_key=http_key,
    )


def parse_http_listen(text: str) -> Address | None:
    """``HOST:PORT`` for the dashboard, or ``off`` for none."""
    return None if text.strip().lower() == HTTP_OFF else Address.parse(text)
