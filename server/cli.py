"""`parc-server`: the collector's command line. Thin: parse, make one service call, print.

Every subcommand takes ``--data-dir`` (default ``$PARC_DATA_DIR`` or ``./var/collector``) and
``--database-url`` (default ``$PARC_DATABASE_URL``, then ``DATA/server.toml``, then SQLite in
the data directory). Exit codes: 0 done, 1 refused (the message says why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.services.clock import utc_now as _now
from server.services.errors import AlreadyExists, FailedPrecondition, InvalidArgument, ParcError
from server.settings import (
    RUN_FILE,
    SERVER_TOML,
    Address,
    CollectorSettings,
    ServerFile,
    SettingsError,
    default_data_dir,
    default_enroll_address,
    explicit_database_url,
    load_settings,
)

if TYPE_CHECKING:
    from server.services.accounts import AccountService

DEFAULT_AGENT_PORT = 50051
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

Command = Callable[[argparse.Namespace], Awaitable[int] | int]


# --- plumbing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Store:
    """A database session factory for one command."""

    sessions: async_sessionmaker[AsyncSession]
    settings: CollectorSettings


def _require_initialised(data_dir: Path) -> None:
    if not (data_dir / SERVER_TOML).exists():
        raise FailedPrecondition(
            f"no collector in {data_dir}; run `parc-server init --data-dir {data_dir}` first"
        )


@asynccontextmanager
async def _store(args: argparse.Namespace) -> AsyncIterator[Store]:
    from server.store.database import create_engine, resolve_database_url, session_factory

    _require_initialised(args.data_dir)
    settings = load_settings(args.data_dir, database_url=args.database_url)
    engine = create_engine(resolve_database_url(settings.data_dir, settings.database_url))
    try:
        yield Store(session_factory(engine), settings)
    finally:
        await engine.dispose()


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for line in (headers, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _percent(value: float | None) -> str:
    return f"{value:.0f}" if value is not None else "-"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


# --- init and run -----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from server.pki import PkiPaths, default_hostnames, init_pki
    from server.services.secrets import create_key, key_path
    from server.store.database import migrate, resolve_database_url

    data_dir: Path = args.data_dir
    paths = PkiPaths.from_data_dir(data_dir)
    if (data_dir / SERVER_TOML).exists() or any(p.exists() for p in paths.files()):
        raise AlreadyExists(f"{data_dir} already holds a collector; nothing was changed")
    database_url = explicit_database_url(data_dir, args.database_url)
    hostnames = tuple(dict.fromkeys(args.hostname or default_hostnames()))
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    migrate(resolve_database_url(data_dir, database_url))
    init_pki(paths, hostnames)
    create_key(key_path(data_dir))
    ServerFile(hostnames=hostnames, database_url=database_url).write(data_dir)
    print(f"initialised a collector in {data_dir}")
    print(f"  CA certificate (give it to agents): {paths.ca_certificate}")
    print(f"  server certificate names: {', '.join(hostnames)}")
    return 0


async def cmd_run(args: argparse.Namespace) -> int:
    from server.app import BindError, run_until_signalled
    from server.web.server import HttpBindError

    _require_initialised(args.data_dir)
    settings = load_settings(
        args.data_dir,
        database_url=args.database_url,
        listen=args.listen,
        enroll_listen=args.enroll_listen,
        http_listen=args.http_listen,
        http_cert=args.http_cert,
        http_key=args.http_key,
    )
    try:
        await run_until_signalled(settings)
    except (BindError, HttpBindError) as exc:
        raise FailedPrecondition(str(exc)) from exc
    return 0


# --- tenants ----------------------------------------------------------------------------------


async def cmd_tenant_create(args: argparse.Namespace) -> int:
    from server.services.tenancy import TenancyService

    async with _store(args) as store:
        tenancy = TenancyService(store.sessions)
        tenant = await tenancy.create_tenant(args.name)
        for site in dict.fromkeys(args.site or ()):
            await tenancy.create_site(tenant.name, site)
    sites = ", ".join(dict.fromkeys(args.site or ())) or "none yet"
    print(f"created tenant {tenant.name} (sites: {sites})")
    return 0


async def cmd_tenant_list(args: argparse.Namespace) -> int:
    from server.services.tenancy import TenancyService

    async with _store(args) as store:
        tenants = await TenancyService(store.sessions).list_tenants()
    _print_table(["ID", "TENANT"], [[str(t.id), t.name] for t in tenants])
    return 0


# --- tokens -----------------------------------------------------------------------------------


def _enroll_hint(settings: CollectorSettings) -> str:
    try:
        running = json.loads((settings.data_dir / RUN_FILE).read_text(encoding="utf-8"))
        agent, enroll = str(running["agent_address"]), str(running["enroll_address"])
    except (OSError, ValueError, KeyError):
        remote = [h for h in settings.hostnames if h not in LOOPBACK_NAMES]
        host = (remote or [*settings.hostnames, "COLLECTOR-HOST"])[0]
        agent_address = Address(host, DEFAULT_AGENT_PORT)
        agent, enroll = str(agent_address), str(default_enroll_address(agent_address))
    ca_cert = settings.data_dir / "pki" / "ca.crt"
    return (
        "enrol a machine with (TOKEN is the secret printed above):\n"
        f"  parc-agent enroll --server {agent} --enroll-server {enroll} --token TOKEN "
        f"--ca-cert {ca_cert} --state-dir /var/lib/parc-agent"
    )


async def cmd_token_create(args: argparse.Namespace) -> int:
    from server.services.tokens import TokenService, parse_duration

    ttl = parse_duration(args.expires)
    async with _store(args) as store:
        service = TokenService(store.sessions, _now)
        issued = await service.create(args.tenant, args.site, args.uses, ttl)
        hint = _enroll_hint(store.settings)
    if args.json:
        print(
            json.dumps(
                {
                    "token_id": issued.token_id,
                    "secret": issued.secret,
                    "tenant": issued.tenant,
                    "site": issued.site,
                    "uses_allowed": issued.uses_allowed,
                    "expires_at": issued.expires_at.isoformat(),
                }
            )
        )
    else:
        print(issued.secret)
    print(
        f"token {issued.token_id} for {issued.tenant}/{issued.site}: {issued.uses_allowed} use(s) "
        f"until {_time(issued.expires_at)} UTC; the secret is shown only once",
        file=sys.stderr,
    )
    print(hint, file=sys.stderr)
    return 0


async def cmd_token_list(args: argparse.Namespace) -> int:
    from server.services.tokens import TokenService

    async with _store(args) as store:
        tokens = await TokenService(store.sessions, _now).list()
    rows = [_record_dict(t) for t in tokens]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    headers = list(rows[0]) if rows else ["token_id"]
    _print_table(
        [h.upper() for h in headers],
        [[_cell(row.get(h)) for h in headers] for row in rows],
    )
    return 0


def _record_dict(record: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    raw = asdict(record) if is_dataclass(record) and not isinstance(record, type) else vars(record)
    return {key: _jsonable(value) for key, value in raw.items()}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return str(value)


async def cmd_token_revoke(args: argparse.Namespace) -> int:
    from server.services.tokens import TokenService

    async with _store(args) as store:
        await TokenService(store.sessions, _now).revoke(args.token_id)
    print(f"token {args.token_id} revoked")
    return 0


# --- devices ----------------------------------------------------------------------------------


def _device_service(store: Store) -> Any:
    from server.services.devices import DeviceService

    return DeviceService(store.sessions, _now, store.settings.offline_after)


def _state(online: bool, revoked: bool) -> str:
    if revoked:
        return "revoked"
    return "online" if online else "offline"


async def cmd_devices(args: argparse.Namespace) -> int:
    async with _store(args) as store:
        devices = await _device_service(store).list_devices()
    if args.json:
        listing = [
            {
                "device_id": d.device_id,
                "hostname": d.hostname,
                "tenant": d.tenant,
                "site": d.site,
                "os_name": d.os_name,
                "enrolled_at": _jsonable(d.enrolled_at),
                "last_seen_at": _jsonable(d.last_seen_at),
                "online": d.online and not d.revoked,
                "revoked": d.revoked,
                "state": _state(d.online, d.revoked),
                "cpu_percent": d.cpu_percent,
                "memory_percent": d.memory_percent,
                "disk_percent_max": d.disk_percent_max,
                "os_version": d.os_version,
                "form_factor": d.form_factor,
            }
            for d in devices
        ]
        print(json.dumps(listing, indent=2))
        return 0
    _print_table(
        [
            "DEVICE",
            "HOSTNAME",
            "TENANT",
            "SITE",
            "OS",
            "FORM",
            "LAST SEEN (UTC)",
            "STATE",
            "CPU%",
            "MEM%",
            "DISK%",
        ],
        [
            [
                d.device_id,
                d.hostname or "-",
                d.tenant,
                d.site,
                " ".join(part for part in (d.os_name, d.os_version) if part) or "-",
                (d.form_factor or "-").replace("_", " "),
                _time(d.last_seen_at),
                _state(d.online, d.revoked),
                _percent(d.cpu_percent),
                _percent(d.memory_percent),
                _percent(d.disk_percent_max),
            ]
            for d in devices
        ],
    )
    return 0


async def cmd_device_show(args: argparse.Namespace) -> int:
    from server.device_view import details_json, details_text

    async with _store(args) as store:
        details = await _device_service(store).details(args.device_id)
    if args.json:
        print(json.dumps(details_json(details), indent=2))
    else:
        print(details_text(details), end="")
    return 0


async def cmd_device_revoke(args: argparse.Namespace) -> int:
    async with _store(args) as store:
        await _device_service(store).revoke(args.device_id)
    print(f"device {args.device_id} revoked; its open connection closes within seconds")
    return 0


async def cmd_device_request_inventory(args: argparse.Namespace) -> int:
    from server.api.convert import SEND_INVENTORY
    from server.services.commands import CommandService

    async with _store(args) as store:
        await _device_service(store).get(args.device_id)
        command = await CommandService(store.sessions, _now).queue(args.device_id, SEND_INVENTORY)
    command_id = getattr(command, "command_id", command)
    print(f"queued inventory request {command_id} for device {args.device_id}")
    return 0


# --- users and the audit log ------------------------------------------------------------------


def _accounts(store: Store) -> AccountService:
    from server.services.accounts import AccountService
    from server.services.secrets import SecretBox

    return AccountService(store.sessions, SecretBox.for_data_dir(store.settings.data_dir), _now)


def _read_password_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidArgument("--password-stdin: no password on standard input")
    return password


async def cmd_user_create(args: argparse.Namespace) -> int:
    from server.services.records import CLI_ACTOR

    password = _read_password_stdin() if args.password_stdin else None
    async with _store(args) as store:
        created = await _accounts(store).create_user(
            args.username, args.role, actor=CLI_ACTOR, password=password, tenants=args.tenant or ()
        )
    if created.password is not None:
        print(created.password)
        note = "; the one-time password above is shown only once (change it at first sign-in)"
    else:
        note = ""
    print(f"created {created.user.role} {created.user.username}{note}", file=sys.stderr)
    return 0


async def cmd_user_list(args: argparse.Namespace) -> int:
    from server.services.tenancy import TenancyService

    async with _store(args) as store:
        users = await _accounts(store).list_users()
        names = {t.id: t.name for t in await TenancyService(store.sessions).list_tenants()}
    rows = [
        {
            "id": u.id,
            "username": u.username,
            "role": u.role,
            "tenants": ["*"] if u.role == "admin" else sorted(names[t] for t in u.tenant_ids),
            "totp": u.totp_enabled,
            "disabled_at": _jsonable(u.disabled_at),
            "locked_until": _jsonable(u.locked_until),
            "created_at": _jsonable(u.created_at),
        }
        for u in users
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    _print_table(
        ["ID", "USERNAME", "ROLE", "TENANTS", "TOTP", "STATE"],
        [
            [
                str(u.id),
                u.username,
                u.role,
                ", ".join(row["tenants"]) or "-",
                "yes" if u.totp_enabled else "no",
                "disabled" if u.disabled_at else "active",
            ]
            for u, row in zip(users, rows, strict=True)
        ],
    )
    return 0


async def cmd_user_grant(args: argparse.Namespace) -> int:
    from server.services.records import CLI_ACTOR

    async with _store(args) as store:
        user = await _accounts(store).grant(args.username, args.tenant, actor=CLI_ACTOR)
    print(f"{user.username} may now see tenant {args.tenant}")
    return 0


async def cmd_user_disable(args: argparse.Namespace) -> int:
    from server.services.records import CLI_ACTOR

    async with _store(args) as store:
        user = await _accounts(store).disable_user(args.username, actor=CLI_ACTOR)
    print(f"{user.username} disabled; their sessions and API tokens no longer work")
    return 0


async def cmd_user_reset_totp(args: argparse.Namespace) -> int:
    from server.services.records import CLI_ACTOR

    async with _store(args) as store:
        user = await _accounts(store).reset_totp(args.username, actor=CLI_ACTOR)
    print(f"{user.username}'s TOTP reset: they set it up again at their next sign-in")
    return 0


async def cmd_audit_list(args: argparse.Namespace) -> int:
    from server.services.audit import AuditFilter, AuditLog

    where = AuditFilter(action=args.action, actor=args.actor, limit=args.limit)
    async with _store(args) as store:
        events = await AuditLog(store.sessions, _now).list(where)
    if args.json:
        print(json.dumps([_record_dict(e) for e in events], indent=2))
        return 0
    _print_table(
        ["TIME (UTC)", "ACTOR", "ACTION", "TARGET", "TENANT", "FROM"],
        [
            [
                _time(e.time),
                f"{e.actor} ({e.actor_name})" if e.actor_name else e.actor,
                e.action,
                f"{e.target_type}:{e.target_id}" if e.target_id else e.target_type,
                _cell(e.tenant_id),
                e.address or "-",
            ]
            for e in events
        ],
    )
    return 0


# --- quickstart -------------------------------------------------------------------------------


def cmd_quickstart(args: argparse.Namespace) -> int:
    from server import quickstart

    # Synchronous, in the main thread: it manages processes and installs signal handlers.
    return quickstart.main(args)


# --- the parser -------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the collector's folder (default: $PARC_DATA_DIR or ./var/collector)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (default: $PARC_DATABASE_URL, server.toml, else SQLite in the folder)",
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parc-server", description="Parc collector: serve agents and administer the fleet."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(sub: Any, name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        command: argparse.ArgumentParser = sub.add_parser(
            name, help=help_text, description=help_text
        )
        _common(command)
        command.set_defaults(handler=handler)
        return command

    init = add(commands, "init", cmd_init, "create the data folder, CA, keys and database")
    init.add_argument(
        "--hostname",
        action="append",
        help="a name or IP agents use to reach the collector (repeatable; default: this host)",
    )

    run = add(commands, "run", cmd_run, "serve agents until SIGTERM/SIGINT")
    run.add_argument("--listen", default=None, help="agent (mTLS) address (default 0.0.0.0:50051)")
    run.add_argument(
        "--enroll-listen",
        default=None,
        help="enrolment address (default: the agent address's host, its port + 1)",
    )
    run.add_argument(
        "--http-listen",
        default=None,
        help="dashboard and REST API address (default 0.0.0.0:8443; HTTPS, plain HTTP only on "
        "a loopback address; 'off' for none)",
    )
    run.add_argument("--http-cert", type=Path, default=None, help="HTTPS certificate chain (PEM)")
    run.add_argument("--http-key", type=Path, default=None, help="HTTPS private key (PEM)")

    tenant = commands.add_parser("tenant", help="customer companies and their sites")
    tenant_commands = tenant.add_subparsers(dest="tenant_command", required=True)
    tenant_create = add(tenant_commands, "create", cmd_tenant_create, "create a tenant")
    tenant_create.add_argument("name")
    tenant_create.add_argument("--site", action="append", help="a site to create (repeatable)")
    add(tenant_commands, "list", cmd_tenant_list, "list tenants")

    token = commands.add_parser("token", help="enrolment tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    token_create = add(
        token_commands,
        "create",
        cmd_token_create,
        "create an enrolment token; prints its secret once",
    )
    token_create.add_argument("--tenant", required=True)
    token_create.add_argument("--site", required=True)
    token_create.add_argument("--uses", type=_positive_int, default=1)
    token_create.add_argument("--expires", default="24h", help="lifetime: 30m, 24h, 7d")
    token_create.add_argument("--json", action="store_true", help="print a JSON object")
    token_list = add(token_commands, "list", cmd_token_list, "list enrolment tokens")
    token_list.add_argument("--json", action="store_true")
    token_revoke = add(token_commands, "revoke", cmd_token_revoke, "revoke an enrolment token")
    token_revoke.add_argument("token_id", type=int, metavar="ID")

    devices = add(commands, "devices", cmd_devices, "list devices with their latest health")
    devices.add_argument("--json", action="store_true", help="print a JSON list")

    device = commands.add_parser("device", help="act on one device")
    device_commands = device.add_subparsers(dest="device_command", required=True)
    show = add(
        device_commands,
        "show",
        cmd_device_show,
        "show a device: hardware, OS, latest health, software and licences",
    )
    show.add_argument("device_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="print everything as JSON")
    revoke = add(
        device_commands,
        "revoke",
        cmd_device_revoke,
        "revoke a device: refuse its certificate, close its connection",
    )
    revoke.add_argument("device_id", metavar="ID")
    request_inventory = add(
        device_commands,
        "request-inventory",
        cmd_device_request_inventory,
        "ask a device to send a full inventory",
    )
    request_inventory.add_argument("device_id", metavar="ID")

    user = commands.add_parser("user", help="people who use the dashboard and the API")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_create = add(
        user_commands,
        "create",
        cmd_user_create,
        "create a user; prints a generated one-time password once",
    )
    user_create.add_argument("username", metavar="USERNAME")
    user_create.add_argument("--role", required=True, choices=["admin", "technician", "read-only"])
    user_create.add_argument(
        "--tenant", action="append", help="a tenant the user may see (repeatable)"
    )
    user_create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of generating one",
    )
    user_list = add(user_commands, "list", cmd_user_list, "list users")
    user_list.add_argument("--json", action="store_true", help="print a JSON list")
    user_grant = add(user_commands, "grant", cmd_user_grant, "let a user see a tenant")
    user_grant.add_argument("username", metavar="USERNAME")
    user_grant.add_argument("--tenant", required=True)
    user_disable = add(
        user_commands, "disable", cmd_user_disable, "disable a user, ending their sessions"
    )
    user_disable.add_argument("username", metavar="USERNAME")
    user_reset_totp = add(
        user_commands,
        "reset-totp",
        cmd_user_reset_totp,
        "forget a user's TOTP (lost phone): they enrol again at next sign-in",
    )
    user_reset_totp.add_argument("username", metavar="USERNAME")

    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_list = add(audit_commands, "list", cmd_audit_list, "list audit events, newest first")
    audit_list.add_argument("--json", action="store_true", help="print a JSON list")
    audit_list.add_argument("--action", default=None, help="only this action (e.g. user.create)")
    audit_list.add_argument("--actor", default=None, help="only this actor (e.g. cli, user:3)")
    audit_list.add_argument("--limit", type=_positive_int, default=100)

    # `quickstart` receives: data_dir, database_url (common options) and the options
    # server.quickstart.add_arguments declares (root, listen, exit_when_ready).
    quickstart = add(
        commands,
        "quickstart",
        cmd_quickstart,
        "run a collector and a local agent on this machine, for a first look",
    )
    _add_quickstart_arguments(quickstart)
    return parser


def _add_quickstart_arguments(parser: argparse.ArgumentParser) -> None:
    from server import quickstart  # standard library only: cheap to import

    quickstart.add_arguments(parser)


async def _finish(outcome: Awaitable[int]) -> int:
    return await outcome


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(
        level=logging.INFO if args.command == "run" else logging.WARNING,
        format=LOG_FORMAT,
        stream=sys.stderr,
    )
    handler: Command = args.handler
    try:
        outcome = handler(args)
        return outcome if isinstance(outcome, int) else asyncio.run(_finish(outcome))
    except (ParcError, SettingsError) as exc:
        print(f"parc-server: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"parc-server: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
