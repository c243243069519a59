"""The commands shown with a new enrolment token: ``parc-agent enroll`` and one-line installs.

The install lines name the bundles the page offers for download as the installer names them,
and pass the token the way each bundle takes it (tests/web/test_enrol_commands.py runs them).

The collector may listen on a wildcard address (``0.0.0.0:50051``); a machine cannot dial
that, so the host the admin used to reach the dashboard stands in for it. Token secrets are
URL-safe base64 (letters, digits, ``-`` and ``_``), so they need no shell quoting.
"""

from __future__ import annotations

from dataclasses import dataclass

from installer.agent_wheel import agent_version
from installer.deb import TOKEN_VARIABLE
from installer.layout import PACKAGE_NAME
from installer.wheels import target_for
from server.settings import Address, SettingsError, default_enroll_address

WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names to replace, not to bind
STATE_DIR = "/var/lib/parc-agent"
CA_FILE = "ca.crt"
PLACEHOLDER_HOST = "COLLECTOR-HOST"


@dataclass(frozen=True)
class InstallCommand:
    """One way to put the agent on a machine: for whom, and the line to run in the folder
    holding the bundle the page's download gives."""

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


# The bundles the "Add devices" page offers (installer.bundle_cache builds them): every format
# for amd64 but macOS, for Apple silicon (cryptography publishes no Intel macOS wheels).
BUNDLE_ARCH = {"tar": "amd64", "deb": "amd64", "windows": "amd64", "macos": "arm64"}


def bundle_top(fmt: str) -> str:
    """The top folder of a tar or zip bundle, which is also its file name without extension:
    ``parc-agent-VERSION-TARGET`` (as ``installer.build`` names them)."""
    return f"parc-agent-{agent_version()}-{target_for(fmt, BUNDLE_ARCH[fmt], ()).name}"


def deb_file() -> str:
    return f"{PACKAGE_NAME}_{agent_version()}_{BUNDLE_ARCH['deb']}.deb"


def install_commands(secret: str) -> tuple[InstallCommand, ...]:
    """One line per bundle that installs the agent from it and enrols it with ``secret``.

    The tar.gz, zip and macOS bundles unpack to one folder holding ``install.sh`` (options
    ``--token``, ``--python``; ``--root`` on Linux) or ``install.ps1`` (``-Token``). The .deb
    takes the token from ``PARC_TOKEN`` in the installing command's environment: its postinst
    enrols before starting the service and fails the install if the enrolment fails.
    """
    linux, windows, mac, deb = (
        bundle_top("tar"),
        bundle_top("windows"),
        bundle_top("macos"),
        deb_file(),
    )
    return (
        InstallCommand(
            "Linux (.tar.gz)",
            f"tar xzf {linux}.tar.gz && sudo sh {linux}/install.sh --token {secret}",
        ),
        InstallCommand(
            "Debian, Ubuntu (.deb)",
            f"sudo env {TOKEN_VARIABLE}={secret} apt-get install -y ./{deb}",
        ),
        InstallCommand(
            "Windows (PowerShell as administrator)",
            f"Expand-Archive -Force {windows}.zip . ; powershell -ExecutionPolicy Bypass "
            f"-File {windows}\\install.ps1 -Token {secret}",
        ),
        InstallCommand(
            "macOS, Apple silicon",
            f"tar xzf {mac}.tar.gz && sudo sh {mac}/install.sh --token {secret}",
        ),
    )
