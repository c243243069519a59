"""`parc-server user …` and `audit list` as real processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from server.services.passwords import verify_password
from server.store.database import sync_url

PASSWORD = "a long enough password"


def parc_server(
    data_dir: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARC_")}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        input=stdin,
    )


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str) -> Path:
    directory = tmp_path / "collector"
    ok(parc_server(directory, "init", "--hostname", "localhost", "--database-url", database_url))
    ok(parc_server(directory, "tenant", "create", "Acme"))
    ok(parc_server(directory, "tenant", "create", "Globex"))
    return directory


@pytest.fixture
def database(database_url: str) -> Iterator[Engine]:
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def test_init_creates_the_secrets_key(data_dir: Path) -> None:
    key = data_dir / "pki" / "secrets.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_bytes()) == 32


def test_user_create_prints_a_one_time_password_once_and_stores_only_its_hash(
    data_dir: Path, database: Engine
) -> None:
    done = ok(parc_server(data_dir, "user", "create", "Alice", "--role", "admin"))
    password = done.stdout.strip()
    assert len(password) >= 12 and "\n" not in password
    assert password not in done.stderr
    assert "only once" in done.stderr
    with database.connect() as connection:
        rows = connection.execute(text("SELECT username, role, password_hash FROM users")).all()
        dumped = repr(connection.execute(text("SELECT * FROM users")).all())
        audit = repr(connection.execute(text("SELECT * FROM audit_events")).all())
    [(username, role, stored)] = rows
    assert (username, role) == ("alice", "admin")
    assert stored.startswith("scrypt$n=32768,r=8,p=1$")
    assert verify_password(password, stored)
    assert password not in dumped and password not in audit
    listing = ok(parc_server(data_dir, "user", "list")).stdout
    assert "alice" in listing and password not in listing


def test_user_create_reads_the_password_from_stdin_and_refuses_a_short_one(
    data_dir: Path, database: Engine
) -> None:
    done = ok(
        parc_server(
            data_dir,
            "user",
            "create",
            "bob",
            "--role",
            "technician",
            "--tenant",
            "Acme",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    assert done.stdout == ""
    with database.connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert verify_password(PASSWORD, stored)

    short = parc_server(
        data_dir, "user", "create", "carol", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 1
    assert "at least 12" in short.stderr
    bad_role = parc_server(data_dir, "user", "create", "dave", "--role", "root")
    assert bad_role.returncode == 2
    names = [
        u["username"]
        for u in json.loads(ok(parc_server(data_dir, "user", "list", "--json")).stdout)
    ]
    assert names == ["bob"]


def test_grant_disable_reset_totp_and_the_audit_log(data_dir: Path) -> None:
    ok(parc_server(data_dir, "user", "create", "bob", "--role", "technician", "--tenant", "Acme"))
    ok(parc_server(data_dir, "user", "grant", "bob", "--tenant", "Globex"))
    [bob] = json.loads(ok(parc_server(data_dir, "user", "list", "--json")).stdout)
    assert bob["tenants"] == ["Acme", "Globex"]
    unknown = parc_server(data_dir, "user", "grant", "bob", "--tenant", "Initech")
    assert unknown.returncode == 1 and "Initech" in unknown.stderr
    ok(parc_server(data_dir, "user", "reset-totp", "bob"))
    ok(parc_server(data_dir, "user", "disable", "bob"))
    [bob] = json.loads(ok(parc_server(data_dir, "user", "list", "--json")).stdout)
    assert bob["disabled_at"] is not None
    missing = parc_server(data_dir, "user", "disable", "nobody")
    assert missing.returncode == 1

    events = json.loads(ok(parc_server(data_dir, "audit", "list", "--json")).stdout)
    # the fixture's tenants were created (and audited) first: tenant.create
    assert [e["action"] for e in events if e["action"].startswith("user.")] == [
        "user.disable",
        "user.reset_totp",
        "user.grant",
        "user.create",
    ]
    assert {e["actor"] for e in events} == {"cli"}
    table = ok(parc_server(data_dir, "audit", "list")).stdout
    assert "user.grant" in table and "ACTOR" in table
    only = json.loads(
        ok(parc_server(data_dir, "audit", "list", "--json", "--action", "user.grant")).stdout
    )
    assert [e["action"] for e in only] == ["user.grant"]
