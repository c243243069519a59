"""The collector process, wired in one place.

settings → database migration → engine → services → gRPC server (agent port with mutual TLS,
enrolment port with server-only TLS) → watcher. ``serve`` returns once it listens;
``run`` is what ``parc-server run`` calls: serve until SIGTERM/SIGINT, then stop gracefully.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import grpc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from parc.v1 import agent_service_pb2_grpc as pb_grpc
from server.api.auth import AuthInterceptor
from server.api.errors import ErrorInterceptor
from server.api.options import SERVER_OPTIONS
from server.api.servicer import AgentServicer
from server.api.streams import ConnectionRegistry
from server.api.watcher import Watcher
from server.heap import HeapTrimmer, tune_malloc
from server.pki import CertificateAuthority, PkiPaths, load_server_credentials_material
from server.services.access import AccessPolicy
from server.services.accounts import AccountService
from server.services.audit import AuditLog
from server.services.clock import Clock, utc_now
from server.services.commands import CommandService
from server.services.device_state import PresenceSweep
from server.services.devices import DeviceService
from server.services.enrollment import EnrollmentService
from server.services.presence import BatchedLastSeen, PresenceRecorder
from server.services.reports import ReportService
from server.services.secrets import SecretBox
from server.services.tags import TagService
from server.services.tenancy import TenancyService
from server.services.tokens import TokenService
from server.settings import Address, CollectorSettings
from server.store.batch import BatchWriter
from server.store.database import create_engine, migrate, resolve_database_url, session_factory
from server.web.app import create_web_app
from server.web.context import WebContext, WebSettings
from server.web.masking import mask_database_url
from server.web.server import HttpBindError, HttpServer, TlsFiles, is_loopback

log = logging.getLogger(__name__)

SHUTDOWN_MESSAGE = "the collector is shutting down"

# Python's cyclic garbage collector, in a process that holds thousands of streams' objects.
# Its young generation is collected whenever container allocations outnumber deallocations
# by the first threshold (700 by default): with thousands of calls in flight that happened
# several times a second and promoted enough survivors that a 4-minute run at 3,000 agents
# made 16-19 full collections, each walking every live object for 0.5-0.7 s: they set the
# heartbeat p99. At 50,000, a 3,000-agent run made 9 young collections (during
# the ramp-up) and no full one after startup. The other two thresholds keep their defaults.
GC_THRESHOLDS = (50_000, 10, 10)


class BindError(RuntimeError):
    """A port could not be bound (in use, or an address this machine does not have)."""


@dataclass
class RunningCollector:
    """A collector that listens. ``stop`` ends it; the ports are the ones actually bound."""

    agent_address: Address
    enroll_address: Address
    run_file: Path
    _server: grpc.aio.Server
    _watcher: Watcher
    _registry: ConnectionRegistry
    _presence: PresenceRecorder
    _sweep: PresenceSweep
    _writer: BatchWriter
    _engine: AsyncEngine
    _http: HttpServer | None = None
    _trimmer: HeapTrimmer | None = None
    _stopped: bool = False

    @property
    def http_url(self) -> str | None:
        """Where the dashboard answers (None when no HTTP is served)."""
        return self._http.url if self._http is not None else None

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting calls, give running ones ``grace`` seconds, release everything."""
        if self._stopped:
            return
        self._stopped = True
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self._watcher.stop()
        # Streams never finish on their own: end them so agents reconnect elsewhere at once,
        # and end at once the streams agents open again before the port closes.
        self._registry.close(grpc.StatusCode.UNAVAILABLE, SHUTDOWN_MESSAGE)
        if self._http is not None:
            await self._http.stop()
        await self._server.stop(grace)
        calls_done = loop.time()
        # Then the background writers: each finishes what it has begun, nothing is cancelled
        # inside a transaction; the engine goes last, once no connection is in use.
        await self._presence.stop()
        await self._sweep.stop()
        await self._writer.stop()
        await self._engine.dispose()
        if self._trimmer is not None:
            await self._trimmer.stop()
        _remove_run_file(self.run_file)
        log.info(
            "collector stopped in %.2f s (calls ended in %.2f s, writes flushed in %.2f s)",
            loop.time() - started,
            calls_done - started,
            loop.time() - calls_done,
        )


def _bind(server: grpc.aio.Server, address: Address, credentials: grpc.ServerCredentials) -> int:
    try:
        port = server.add_secure_port(str(address), credentials)
    except RuntimeError as exc:
        raise BindError(f"cannot listen on {address}: {exc}") from exc
    if port == 0:
        raise BindError(f"cannot listen on {address}")
    return port


def _write_run_file(path: Path, agent: Address, enroll: Address, http_url: str | None) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    content = {
        "pid": os.getpid(),
        "agent_address": str(agent),
        "enroll_address": str(enroll),
        "http_url": http_url,
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(content) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _remove_run_file(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
        if json.loads(path.read_text(encoding="utf-8"))["pid"] == os.getpid():
            path.unlink()


async def serve(settings: CollectorSettings) -> RunningCollector:
    """Start the collector described by ``settings``; return once both ports listen."""
    # Before grpc's and the database's threads exist: the arena cap applies to new arenas.
    tune_malloc()
    url = resolve_database_url(settings.data_dir, settings.database_url)
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    try:
        return await _start(settings, engine)
    except BaseException:
        await engine.dispose()
        raise


async def _start(settings: CollectorSettings, engine: AsyncEngine) -> RunningCollector:
    paths = PkiPaths.from_data_dir(settings.data_dir)
    authority = CertificateAuthority.load(paths)
    key_pem, cert_pem, ca_pem = load_server_credentials_material(paths)

    sessions = session_factory(engine)
    clock = utc_now
    devices = DeviceService(sessions, clock, settings.offline_after)
    # Agents' small writes (health, acks, deliveries, last-seen) share one writer task.
    writer = BatchWriter(sessions)
    registry = ConnectionRegistry()
    # Commands queued here (the dashboard) go straight onto the devices' open streams.
    commands = CommandService(sessions, clock, writer, on_queued=registry.offer)
    presence = PresenceRecorder(BatchedLastSeen(writer), settings.presence_flush_s)
    thresholds = settings.health_thresholds
    servicer = AgentServicer(
        enrollment=EnrollmentService(sessions, authority, clock, settings.certificate_lifetime),
        devices=devices,
        reports=ReportService(sessions, clock, writer),
        commands=commands,
        registry=registry,
        presence=presence,
        clock=clock,
    )

    server = grpc.aio.server(
        interceptors=(ErrorInterceptor(), AuthInterceptor(devices)),
        options=SERVER_OPTIONS,
    )
    pb_grpc.add_AgentServiceServicer_to_server(servicer, server)
    agent_credentials = grpc.ssl_server_credentials(
        [(key_pem, cert_pem)], root_certificates=ca_pem, require_client_auth=True
    )
    # No root certificates: the enrolment port does not ask for a client certificate at all
    # (asking without verifying would put unverified certificates in the auth context).
    enroll_credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)])
    agent_port = _bind(server, settings.listen, agent_credentials)
    enroll_port = _bind(server, settings.enroll_address, enroll_credentials)
    agent_address = settings.listen.with_port(agent_port)
    enroll_address = settings.enroll_address.with_port(enroll_port)

    writer.start()
    await server.start()
    presence.start()
    sweep = PresenceSweep(sessions, clock, settings.presence_sweep_s, thresholds)
    sweep.start()
    watcher = Watcher(registry, devices, commands, settings.watch_interval_s)
    trimmer = HeapTrimmer()
    trimmer.start()
    http: HttpServer | None = None
    try:
        await watcher.start()
        if settings.http_listen is not None:
            tls = _http_tls(settings, settings.http_listen, paths)
            web = _web_context(settings, sessions, clock, devices, commands, https=tls is not None)
            web = dataclasses.replace(
                web,
                settings=dataclasses.replace(
                    web.settings,
                    agent_address=str(agent_address),
                    enroll_address=str(enroll_address),
                    ca_certificate_pem=ca_pem.decode("ascii"),
                    data_dir=str(settings.data_dir),
                    database_url=mask_database_url(engine.url),
                    http_listen=str(settings.http_listen),
                    hostnames=settings.hostnames,
                    certificate_lifetime=settings.certificate_lifetime,
                ),
            )
            http = HttpServer(create_web_app(web, https=tls is not None), settings.http_listen, tls)
            await http.start()
    except BaseException:
        await trimmer.stop()
        await watcher.stop()
        await server.stop(None)
        await presence.stop()
        await sweep.stop()
        await writer.stop()
        raise
    _write_run_file(
        settings.run_file, agent_address, enroll_address, http.url if http is not None else None
    )
    log.info(
        "collector listening on %s (agents, mTLS) and %s (enrolment)", agent_address, enroll_address
    )
    return RunningCollector(
        agent_address=agent_address,
        enroll_address=enroll_address,
        run_file=settings.run_file,
        _server=server,
        _watcher=watcher,
        _registry=registry,
        _presence=presence,
        _sweep=sweep,
        _writer=writer,
        _engine=engine,
        _http=http,
        _trimmer=trimmer,
    )


def _web_context(
    settings: CollectorSettings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    devices: DeviceService,
    commands: CommandService,
    *,
    https: bool,
) -> WebContext:
    box = SecretBox.for_data_dir(settings.data_dir)
    return WebContext(
        sessions=sessions,
        clock=clock,
        settings=WebSettings(secure_cookies=https, csrf_key=box.derive("web:csrf")),
        access=AccessPolicy(),
        accounts=AccountService(sessions, box, clock),
        audit=AuditLog(sessions, clock),
        tenancy=TenancyService(sessions, clock),
        tokens=TokenService(sessions, clock),
        devices=devices,
        commands=commands,
        tags=TagService(sessions, clock),
        thresholds=settings.health_thresholds,
    )


def _http_tls(settings: CollectorSettings, address: Address, paths: PkiPaths) -> TlsFiles | None:
    """The certificate the dashboard serves: the one given, else the collector's; none (plain
    HTTP) only on a loopback address with no certificate given."""
    if settings.http_cert is not None or settings.http_key is not None:
        if settings.http_cert is None or settings.http_key is None:
            raise HttpBindError("--http-cert and --http-key go together")
        return TlsFiles(settings.http_cert, settings.http_key)
    if is_loopback(address.host):
        return None
    return TlsFiles(paths.server_certificate, paths.server_key)


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """Once the collector runs: free startup garbage, then move every object alive now
    (modules, settings, the servers) out of the collector's sight (``gc.freeze``), so full
    collections walk only what came after; and collect young objects less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


async def run_until_signalled(settings: CollectorSettings) -> None:
    """Serve until SIGTERM or SIGINT, then stop with the configured grace."""
    # Signals are caught from the start: a SIGTERM while starting (or while the GC is tuned
    # below) stops the collector cleanly once it is up instead of killing it.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        collector = await serve(settings)
        try:
            # Here, not in serve(): it is for the collector's own process (tests serve in
            # theirs).
            tune_gc()
            await stop.wait()
            log.info("stopping (grace %.0f s)", settings.shutdown_grace_s)
        finally:
            await collector.stop(settings.shutdown_grace_s)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
