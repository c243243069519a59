"""agent.toml parsing, command-line overrides, and validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.address import AddressError, default_enroll_address, parse_address
from agent.config import AgentConfig, ConfigError, load_config, parse_config_text, render_config


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "agent.toml").write_text(text)
    return tmp_path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config == AgentConfig()
    assert (config.heartbeat_interval, config.health_interval) == (30.0, 60.0)
    assert config.inventory_interval == 6 * 3600
    assert config.spool_max_reports == 10_000


def test_file_values(tmp_path: Path) -> None:
    write(
        tmp_path,
        'server = "collector.example:50051"\nheartbeat_interval = 15\n'
        "spool_max_reports = 500\nlog_level = 'debug'\n",
    )
    config = load_config(tmp_path)
    assert config.server == "collector.example:50051"
    assert config.heartbeat_interval == 15.0
    assert config.spool_max_reports == 500
    assert config.log_level == "DEBUG"


def test_flags_override_the_file(tmp_path: Path) -> None:
    write(tmp_path, 'server = "a.example:1"\nhealth_interval = 120\n')
    config = load_config(
        tmp_path, {"server": "b.example:2", "health_interval": 5.0, "heartbeat_interval": None}
    )
    assert config.server == "b.example:2"
    assert config.health_interval == 5.0
    assert config.heartbeat_interval == 30.0  # None means "not given"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("heartbeat_interval = 'soon'", "heartbeat_interval must be a number"),
        ("heartbeat_interval = 0", "between 1 and 3600"),
        ("health_interval = true", "health_interval must be a number"),
        ("spool_max_reports = 1.5", "spool_max_reports must be an integer"),
        ("spool_max_reports = 0", "between 1 and"),
        ("log_level = 'loud'", "log_level must be one of"),
        ("server = 'no-port'", "server"),
        ("server = 50051", "must be a string"),
        ("hearbeat_interval = 30", "unknown setting 'hearbeat_interval'"),
        ("server = ", "not valid TOML"),
    ],
)
def test_validation_errors_are_clear(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_flag_out_of_range(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="command line: inventory_interval"):
        load_config(tmp_path, {"inventory_interval": 1.0})


def test_rendered_config_parses_back() -> None:
    text = render_config({"server": "[::1]:50051", "enroll_server": "[::1]:50052"})
    assert parse_config_text(text) == {"server": "[::1]:50051", "enroll_server": "[::1]:50052"}


@given(st.text())
def test_random_text_gives_settings_or_a_clear_error(text: str) -> None:
    try:
        settings = parse_config_text(text)
    except ConfigError as exc:
        assert str(exc).startswith("agent.toml")
    else:
        AgentConfig(**settings)  # type: ignore[arg-type]


@given(
    st.dictionaries(
        st.sampled_from(["heartbeat_interval", "health_interval", "spool_max_reports", "x"]),
        st.one_of(st.integers(), st.floats(allow_nan=False), st.text(), st.booleans()),
    )
)
def test_random_values_validate_or_fail_clearly(values: dict[str, object]) -> None:
    lines = []
    for key, value in values.items():
        if isinstance(value, str):
            lines.append(f"{key} = {value!r}".replace("'", '"') if '"' not in value else "")
        elif isinstance(value, bool):
            lines.append(f"{key} = {str(value).lower()}")
        elif isinstance(value, float) and value in (float("inf"), float("-inf")):
            lines.append(f"{key} = {'inf' if value > 0 else '-inf'}")
        else:
            lines.append(f"{key} = {value}")
    try:
        settings = parse_config_text("\n".join(lines))
    except ConfigError as exc:
        assert str(exc)
    else:
        config = AgentConfig(**settings)  # type: ignore[arg-type]
        assert 1 <= config.heartbeat_interval <= 3600
        assert config.spool_max_reports >= 1


@pytest.mark.parametrize(
    ("text", "target", "enroll"),
    [
        ("collector:50051", "collector:50051", "collector:50052"),
        ("127.0.0.1:9", "127.0.0.1:9", "127.0.0.1:10"),
        ("[::1]:50051", "[::1]:50051", "[::1]:50052"),
    ],
)
def test_addresses(text: str, target: str, enroll: str) -> None:
    address = parse_address(text)
    assert address.target == target
    assert default_enroll_address(address).target == enroll


@pytest.mark.parametrize(
    "text", ["collector", ":50051", "host:0", "host:99999", "::1:50051", "host:port", "[::1]50051"]
)
def test_bad_addresses(text: str) -> None:
    with pytest.raises(AddressError):
        parse_address(text)
