"""The `parc-agent` command: enroll, run, status, inventory.

Exit codes: 0 success, 1 failure (the message says why, on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent import __version__

log = logging.getLogger("agent")

DEFAULT_STATE_DIR = Path("/var/lib/parc-agent")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parc-agent", description="Parc agent: reports this machine to a Parc collector."
    )
    parser.add_argument("--version", action="version", version=f"parc-agent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def state_dir(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--state-dir",
            type=Path,
            default=DEFAULT_STATE_DIR,
            metavar="DIR",
            help=f"the agent's state directory (default {DEFAULT_STATE_DIR})",
        )

    def log_level(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--log-level",
            type=str.upper,
            choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
            help="log verbosity (default INFO, or log_level in agent.toml)",
        )

    enroll = commands.add_parser("enroll", help="enrol this machine with a collector")
    enroll.add_argument("--server", required=True, metavar="HOST:PORT", help="collector agent port")
    enroll.add_argument(
        "--enroll-server",
        metavar="HOST:PORT",
        help="collector enrolment port (default HOST:PORT+1 of --server)",
    )
    enroll.add_argument("--token", required=True, help="the enrolment token")
    enroll.add_argument(
        "--ca-cert", required=True, type=Path, metavar="FILE", help="the collector's CA (PEM)"
    )
    enroll.add_argument("--force", action="store_true", help="replace an existing identity")
    state_dir(enroll)
    log_level(enroll)

    run = commands.add_parser("run", help="run the agent in the foreground")
    state_dir(run)
    run.add_argument("--server", metavar="HOST:PORT", help="collector agent port (overrides)")
    for name in ("heartbeat", "health", "inventory"):
        run.add_argument(
            f"--{name}-interval", type=float, metavar="S", help=f"{name} interval in seconds"
        )
    log_level(run)

    status = commands.add_parser("status", help="show the identity and the last contact")
    state_dir(status)
    status.add_argument("--json", action="store_true", help="print JSON")

    inventory = commands.add_parser(
        "inventory", help="print the inventory and a health sample as they would be sent"
    )
    inventory.add_argument("--json", action="store_true", help="print JSON (the only format)")
    log_level(inventory)
    return parser


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )


def _fail(message: str) -> int:
    print(f"parc-agent: error: {message}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"enroll": _enroll, "run": _run, "status": _status, "inventory": _inventory}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return 130


def _enroll(args: argparse.Namespace) -> int:
    from agent.address import AddressError, default_enroll_address, parse_address
    from agent.identity import EnrollError, enroll
    from agent.platform import current_platform
    from agent.state import StatePaths

    _setup_logging(args.log_level or "INFO")
    try:
        server = parse_address(args.server)
        enroll_server = (
            parse_address(args.enroll_server)
            if args.enroll_server
            else default_enroll_address(server)
        )
    except AddressError as exc:
        return _fail(str(exc))
    try:
        record = asyncio.run(
            enroll(
                paths=StatePaths(args.state_dir),
                server=server,
                enroll_server=enroll_server,
                token=args.token,
                ca_file=args.ca_cert,
                force=args.force,
                os_family=current_platform().family,
            )
        )
    except EnrollError as exc:
        return _fail(f"enrolment failed: {exc}")
    except OSError as exc:
        return _fail(f"enrolment failed: cannot write {args.state_dir}: {exc}")
    print(
        f"enrolled as device {record.device_id} (tenant {record.tenant}, site {record.site}); "
        f"identity stored in {args.state_dir}"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    from agent.config import ConfigError, load_config
    from agent.identity import IdentityError
    from agent.state import StatePaths

    paths = StatePaths(args.state_dir)
    try:
        config = load_config(
            paths.root,
            {
                "server": args.server,
                "heartbeat_interval": args.heartbeat_interval,
                "health_interval": args.health_interval,
                "inventory_interval": args.inventory_interval,
                "log_level": args.log_level,
            },
        )
    except ConfigError as exc:
        return _fail(str(exc))
    _setup_logging(config.log_level)
    try:
        asyncio.run(_run_agent(config, paths))
    except IdentityError as exc:
        return _fail(str(exc))
    return 0


async def _run_agent(config: Any, paths: Any) -> None:
    from agent.app import build_agent

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    agent = build_agent(config, paths)
    await agent.run(stop)


def _status(args: argparse.Namespace) -> int:
    from agent.identity import IdentityError, certificate_info, load_record
    from agent.spool import read_depth
    from agent.state import StatePaths
    from agent.status import read_status

    paths = StatePaths(args.state_dir)
    try:
        record = load_record(paths)
    except IdentityError as exc:
        if args.json:
            print(json.dumps({"enrolled": False, "error": str(exc)}, indent=2))
        return _fail(str(exc))
    report: dict[str, Any] = {
        "enrolled": True,
        "device_id": record.device_id,
        "tenant": record.tenant,
        "site": record.site,
        "server": record.server,
        "enroll_server": record.enroll_server,
        "certificate": None,
    }
    try:
        from agent.config import ConfigError, load_config

        report["server"] = load_config(paths.root).server or record.server
    except ConfigError:
        pass
    try:
        cert = certificate_info(paths.device_cert.read_bytes())
        report["certificate"] = {
            "serial": cert.serial_hex,
            "not_before": cert.not_before.isoformat(),
            "not_after": cert.not_after.isoformat(),
        }
    except (OSError, IdentityError) as exc:
        report["certificate_error"] = str(exc)
    report["spool"] = read_depth(paths.spool) or {"health": 0, "inventory": 0}
    recorded = read_status(paths.status)
    for key in ("last_contact", "last_error", "last_error_time", "connected", "pid"):
        report[key] = recorded.get(key)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    cert_info = report["certificate"] or {}
    lines = [
        ("device id", report["device_id"]),
        ("tenant", report["tenant"]),
        ("site", report["site"]),
        ("server", report["server"]),
        ("certificate serial", cert_info.get("serial", "unreadable")),
        ("certificate expires", cert_info.get("not_after", "unreadable")),
        ("spool", ", ".join(f"{k} {v}" for k, v in report["spool"].items())),
        ("last contact", report["last_contact"] or "never"),
        ("last error", report["last_error"] or "none"),
    ]
    if report["last_error_time"]:
        lines.append(("last error at", report["last_error_time"]))
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name + ':':<{width + 1}} {value}")
    return 0


def _inventory(args: argparse.Namespace) -> int:
    from google.protobuf import json_format

    from agent.collectors.base import GuardedCollector
    from agent.collectors.health import SlowSchedule
    from agent.collectors.system import PsutilProbe
    from agent.delivery import new_report_id
    from agent.inventory import MachineInventory
    from agent.platform import current_platform
    from agent.platform.machine import health_collector, machine_collectors
    from agent.sections import SectionMemory
    from agent.wire.health import health_report

    _setup_logging(args.log_level or "WARNING")
    platform = current_platform()
    probe = PsutilProbe()  # primes the CPU counter; the inventory takes long enough to measure
    # Slow health signals (updates, SMART) are read inline here, not left for a later sample.
    inventory = MachineInventory.of(machine_collectors(platform, probe)).collect(new_report_id())
    health = GuardedCollector(
        health_collector(platform, probe, schedule=SlowSchedule(background=False))
    ).run()
    if inventory is None or health is None:
        return _fail(f"this platform ({platform.family}) is not supported, or a collector failed")
    # Exactly what the agent sends when the collector holds none of it: every section in
    # full, each with its hash.
    SectionMemory(None).prepare(inventory, full=True)

    def as_dict(message: Any) -> dict[str, Any]:
        return json_format.MessageToDict(
            message,
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        )

    output = {
        "inventory": as_dict(inventory),
        "health": as_dict(health_report(health, new_report_id())),
    }
    print(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
