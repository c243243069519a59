"""Enrolment on the target: first-start enrolment with the configured token, then its removal.

Runs inside the agent's environment (it needs the agent's gRPC and crypto dependencies).
A collector that does not answer, that is not a Parc collector (its TLS certificate is not
signed by the bundle's CA), or that refuses the token gives an EnrolmentError saying which.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

from installer.errors import EnrolmentError, EnrolmentRefused
from installer.settings import InstallSettings, write

CONNECT_TIMEOUT_S = 5.0


def device_id(state_dir: Path) -> str | None:
    """The enrolled device's id, or None when ``state_dir`` holds no identity."""
    try:
        record = json.loads((state_dir / "identity" / "device.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = record.get("device_id") if isinstance(record, dict) else None
    return str(value) if value else None


def check_reachable(address: str) -> None:
    """A quick TCP connect, so a wrong address fails in seconds with a plain message."""
    from agent.address import parse_address

    parsed = parse_address(address)
    try:
        with socket.create_connection((parsed.host, parsed.port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise EnrolmentError(
            f"cannot reach the collector's enrolment port at {address}: "
            f"{exc.strerror or exc} (check enroll_server in the agent's config, which the "
            "bundle's build set from --server/--enroll-server)"
        ) from None


def enrol(settings: InstallSettings, state_dir: Path, ca_cert: Path) -> str:
    """Enrols with the configured token unless already enrolled; returns the device id."""
    existing = device_id(state_dir)
    if existing is not None:
        return existing
    if not settings.token:
        raise EnrolmentError(
            "this machine is not enrolled and no enrolment token is configured: "
            "install again with --token TOKEN"
        )
    from agent.address import parse_address
    from agent.identity import EnrollError, EnrollRefused
    from agent.identity import enroll as agent_enroll
    from agent.platform import current_platform
    from agent.state import StatePaths

    check_reachable(settings.enroll_server)
    try:
        record = asyncio.run(
            agent_enroll(
                paths=StatePaths(state_dir),
                server=parse_address(settings.server),
                enroll_server=parse_address(settings.enroll_server),
                token=settings.token,
                ca_file=ca_cert,
                os_family=current_platform().family,
            )
        )
    except EnrollRefused as exc:
        raise EnrolmentRefused(f"enrolment failed: {exc}") from None
    except EnrollError as exc:
        raise EnrolmentError(f"enrolment failed: {exc}") from None
    return record.device_id


def forget_token(config: Path, settings: InstallSettings) -> InstallSettings:
    """Rewrites the config without the token (it is single-use and no longer needed)."""
    if settings.token is None:
        return settings
    stripped = settings.without_token()
    write(config, stripped)
    return stripped
