"""The commands shown with a new enrolment token: ``parc-agent enroll`` and one-line installs.

The collector may listen on a wildcard address (``0.0.0.0:50051``); a machine cannot dial
that, so the host the admin used to reach the dashboard stands in for it. Token secrets are
URL-safe base64 (letters, digits, ``-`` and ``_``), so they need no shell quoting.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.settings import Address, SettingsError, default_enroll_address

WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names to replace, not to bind
STATE_DIR = "/var/lib/parc-agent"
CA_FILE = "ca.crt"
PLACEHOLDER_HOST = "COLLECTOR-HOST"


@dataclass(frozen=True)
class InstallCommand:
    """One way to put the agent on a machine: for whom, and the line to run."""

    platform: str
    command: str


def public_address(listening: str, dashboard_host: str) -> Address | None:
    """``listening`` as agents should dial it (None when unknown)."""
    try:
        address = Address.parse(listening)
    except SettingsError:
        return None
    if address.host in WILDCARDS:
        return Address(dashboard_host or PLACEHOLDER_HOST, address.port)
    return address


def enrol_command(agent_address: str, enroll_address: str, secret: str, dashboard_host: str) -> str:
    """``parc-agent enroll …`` for ``secret``; ``--enroll-server`` only when not the default."""
    agent = public_address(agent_address, dashboard_host)
    server = str(agent) if agent is not None else f"{PLACEHOLDER_HOST}:50051"
    parts = ["parc-agent enroll", f"--server {server}"]
    enroll = public_address(enroll_address, dashboard_host)
    if agent is not None and enroll is not None and enroll != default_enroll_address(agent):
        parts.append(f"--enroll-server {enroll}")
    parts += [f"--token {secret}", f"--ca-cert {CA_FILE}", f"--state-dir {STATE_DIR}"]
    return " ".join(parts)


def install_commands(secret: str) -> tuple[InstallCommand, ...]:
    """One line per OS that installs the agent from its bundle and enrols it with ``secret``."""
    return (
        InstallCommand(
            "Linux", f"sudo parc-installer install parc-agent-linux.tar.gz --token {secret}"
        ),
        InstallCommand(
            "Windows", f"powershell -ExecutionPolicy Bypass -File install.ps1 -Token {secret}"
        ),
        InstallCommand("macOS", f"sudo ./install.sh --token {secret}"),
    )
