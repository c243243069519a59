"""A real collector in-process (``server.app.serve``) on loopback, and real TLS clients.

The test side reaches the database through its own engine and services, as another process
(``parc-server device revoke``, ``token create``) would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from parc.v1 import agent_service_pb2 as pb
from parc.v1 import agent_service_pb2_grpc as pb_grpc
from server.app import RunningCollector, serve
from server.pki import PkiPaths, init_pki
from server.services.clock import utc_now
from server.services.commands import CommandService
from server.services.devices import DeviceService
from server.services.tokens import TokenService
from server.settings import Address, CollectorSettings
from server.store.database import create_engine, migrate, resolve_database_url, session_factory

LOOPBACK = "127.0.0.1"
WAIT_S = 5.0


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def csr_der(key: ec.EllipticCurvePrivateKey, common_name: str = "whatever-the-agent-says") -> bytes:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.DER)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def health_report(report_id: str, cpu: float = 12.5) -> pb.HealthReport:
    report = pb.HealthReport(
        report_id=report_id,
        cpu_percent=cpu,
        memory=pb.MemoryUsage(total_bytes=8 << 30, used_bytes=2 << 30, percent=25.0),
        swap=pb.MemoryUsage(total_bytes=1 << 30, used_bytes=0, percent=0.0),
        load=pb.LoadAverage(load1=0.5, load5=0.4, load15=0.3),
        filesystems=[
            pb.FilesystemUsage(
                mountpoint="/",
                device="/dev/sda1",
                fstype="ext4",
                total_bytes=100,
                used_bytes=40,
                percent=40.0,
            )
        ],
        uptime_seconds=3600,
    )
    report.sample_time.FromDatetime(datetime.now(UTC))
    return report


@dataclass
class Agent:
    """An enrolled device as the test sees it: its key, certificate and id."""

    device_id: str
    key: ec.EllipticCurvePrivateKey
    certificate_pem: str
    response: pb.EnrollResponse


@dataclass
class Harness:
    """The running collector plus the test's own view of its data directory and database."""

    collector: RunningCollector
    data_dir: Path
    ca_pem: bytes
    sessions: async_sessionmaker[AsyncSession]
    channels: list[grpc.aio.Channel]

    @property
    def agent_target(self) -> str:
        return str(self.collector.agent_address)

    @property
    def enroll_target(self) -> str:
        return str(self.collector.enroll_address)

    def devices(self, clock: Callable[[], datetime] = utc_now) -> DeviceService:
        return DeviceService(self.sessions, clock, timedelta(seconds=90))

    def commands(self) -> CommandService:
        return CommandService(self.sessions, utc_now)

    def tokens(self, clock: Callable[[], datetime] = utc_now) -> TokenService:
        return TokenService(self.sessions, clock)

    async def token(self, uses: int = 1, ttl: timedelta = timedelta(hours=1)) -> str:
        issued = await self.tokens().create("Acme", "HQ", uses, ttl)
        return issued.secret

    def _channel(self, target: str, credentials: grpc.ChannelCredentials) -> grpc.aio.Channel:
        channel = grpc.aio.secure_channel(
            target, credentials, options=[("grpc.ssl_target_name_override", "localhost")]
        )
        self.channels.append(channel)
        return channel

    def enroll_stub(self) -> pb_grpc.AgentServiceAsyncStub:
        credentials = grpc.ssl_channel_credentials(root_certificates=self.ca_pem)
        return pb_grpc.AgentServiceStub(self._channel(self.enroll_target, credentials))

    def raw_channel(self, target: str, client: tuple[bytes, bytes] | None = None) -> Any:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=self.ca_pem,
            private_key=client[0] if client else None,
            certificate_chain=client[1] if client else None,
        )
        return self._channel(target, credentials)

    def agent_stub(
        self, agent: Agent | None = None, *, client: tuple[bytes, bytes] | None = None
    ) -> pb_grpc.AgentServiceAsyncStub:
        if agent is not None:
            client = (key_pem(agent.key), agent.certificate_pem.encode())
        channel: grpc.aio.Channel = self.raw_channel(self.agent_target, client)
        return pb_grpc.AgentServiceStub(channel)

    async def enroll(self, token: str | None = None) -> Agent:
        key = new_key()
        response = await self.enroll_stub().Enroll(
            pb.EnrollRequest(
                token=token if token is not None else await self.token(),
                csr_der=csr_der(key),
                agent=pb.AgentInfo(hostname="pc-1", agent_version="0.1.0", os_family="linux"),
            ),
            timeout=WAIT_S,
        )
        return Agent(response.device_id, key, response.certificate_pem, response)

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.data_dir / "parc.db") as db:
            return db.execute(sql, params).fetchall()

    def health_ids(self, device_id: str | None = None) -> list[str]:
        if device_id is None:
            return [r[0] for r in self.rows("SELECT report_id FROM health_samples")]
        return [
            r[0]
            for r in self.rows(
                "SELECT report_id FROM health_samples WHERE device_id = ?", device_id
            )
        ]


def prepare_data_dir(data_dir: Path) -> None:
    init_pki(PkiPaths.from_data_dir(data_dir), ["localhost", LOOPBACK])
    migrate(resolve_database_url(data_dir, None))


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    data_dir = tmp_path / "collector"
    prepare_data_dir(data_dir)
    settings = CollectorSettings(
        data_dir=data_dir,
        listen=Address(LOOPBACK, 0),
        enroll_listen=Address(LOOPBACK, 0),
        watch_interval_s=0.2,
    )
    collector = await serve(settings)
    engine = create_engine(resolve_database_url(data_dir, None))
    channels: list[grpc.aio.Channel] = []
    ca_pem = PkiPaths.from_data_dir(data_dir).ca_certificate.read_bytes()
    try:
        yield Harness(collector, data_dir, ca_pem, session_factory(engine), channels)
    finally:
        for channel in channels:
            await channel.close()
        await collector.stop(0)
        await engine.dispose()
