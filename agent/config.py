"""The agent's settings: DIR/agent.toml, overridden by command-line flags, validated."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from agent.address import AddressError, parse_address

CONFIG_FILE = "agent.toml"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """A setting that is missing, of the wrong type, or out of range."""


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """Validated settings. Intervals are in seconds."""

    server: str | None = None
    enroll_server: str | None = None
    heartbeat_interval: float = 30.0
    health_interval: float = 60.0
    inventory_interval: float = 6 * 3600.0
    spool_max_reports: int = 10_000
    log_level: str = "INFO"

    @property
    def log_level_number(self) -> int:
        return int(logging.getLevelName(self.log_level))


# name -> (lowest, highest) for numeric settings
_RANGES: dict[str, tuple[float, float]] = {
    "heartbeat_interval": (1, 3600),
    "health_interval": (1, 86400),
    "inventory_interval": (60, 7 * 86400),
    "spool_max_reports": (1, 10_000_000),
}
_KEYS = tuple(f.name for f in fields(AgentConfig))


def _check(name: str, value: object, source: str) -> object:
    where = f"{source}: {name}"
    if name in ("server", "enroll_server"):
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string HOST:PORT, not {type(value).__name__}")
        try:
            return parse_address(value).target
        except AddressError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if name == "log_level":
        if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
            raise ConfigError(f"{where} must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
        return value.upper()
    low, high = _RANGES[name]
    if name == "spool_max_reports":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, not {value!r}")
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number of seconds, not {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{where} must be between {low:g} and {high:g}, not {value!r}")
    return value if name == "spool_max_reports" else float(value)


def validate(settings: Mapping[str, object], source: str) -> dict[str, object]:
    """Checks settings by name; unknown names are errors (they are usually typos)."""
    checked: dict[str, object] = {}
    for name, value in settings.items():
        if name not in _KEYS:
            raise ConfigError(
                f"{source}: unknown setting {name!r} (known: {', '.join(sorted(_KEYS))})"
            )
        checked[name] = _check(name, value, source)
    return checked


def parse_config_text(text: str, source: str = CONFIG_FILE) -> dict[str, object]:
    """The validated settings of an agent.toml text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return validate(raw, source)


def load_config(
    state_dir: Path, overrides: Mapping[str, object | None] | None = None
) -> AgentConfig:
    """Settings from DIR/agent.toml (if present) with the non-None overrides on top."""
    path = state_dir / CONFIG_FILE
    settings: dict[str, object] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    if text is not None:
        settings.update(parse_config_text(text, str(path)))
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    settings.update(validate(given, "command line"))
    return AgentConfig(**settings)  # type: ignore[arg-type]


def render_config(values: Mapping[str, str]) -> str:
    """A minimal agent.toml with string settings (what enrolment writes)."""
    lines = ["# Parc agent settings; command-line flags override them.\n"]
    for name, value in values.items():
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{name} = "{escaped}"\n')
    return "".join(lines)
