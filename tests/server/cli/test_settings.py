"""Collector settings: addresses, server.toml, precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import (
    Address,
    ServerFile,
    SettingsError,
    default_enroll_address,
    load_settings,
)


def test_address_parsing_and_printing() -> None:
    assert Address.parse("10.0.0.1:50051") == Address("10.0.0.1", 50051)
    v6 = Address.parse("[::1]:7")
    assert v6 == Address("::1", 7) and str(v6) == "[::1]:7"
    for bad in ("50051", "host:", "host:port", ":1", "h:70000"):
        with pytest.raises(SettingsError):
            Address.parse(bad)


def test_enrolment_port_follows_the_agent_port() -> None:
    assert default_enroll_address(Address("h", 50051)) == Address("h", 50052)
    assert default_enroll_address(Address("h", 0)) == Address("h", 0)


def test_server_file_round_trip_with_awkward_strings(tmp_path: Path) -> None:
    written = ServerFile(
        hostnames=("localhost", 'we"ird\\name', "é"),
        database_url="postgresql://u:p@db/parc",
    )
    written.write(tmp_path)
    assert ServerFile.read(tmp_path) == written
    assert (tmp_path / "server.toml").stat().st_mode & 0o077 == 0


def test_database_url_precedence(tmp_path: Path) -> None:
    ServerFile(hostnames=("h",), database_url="sqlite+aiosqlite:///from-file").write(tmp_path)
    env = {"PARC_DATABASE_URL": "sqlite+aiosqlite:///from-env"}
    assert load_settings(tmp_path, environ={}).database_url == "sqlite+aiosqlite:///from-file"
    assert load_settings(tmp_path, environ=env).database_url == "sqlite+aiosqlite:///from-env"
    chosen = load_settings(tmp_path, database_url="sqlite+aiosqlite:///opt", environ=env)
    assert chosen.database_url == "sqlite+aiosqlite:///opt"
    assert chosen.hostnames == ("h",)


def test_listen_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert str(settings.listen) == "0.0.0.0:50051"
    assert str(settings.enroll_address) == "0.0.0.0:50052"
    explicit = load_settings(
        tmp_path, listen="127.0.0.1:0", enroll_listen="127.0.0.1:9", environ={}
    )
    assert str(explicit.enroll_address) == "127.0.0.1:9"
