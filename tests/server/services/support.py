"""Building the services on a test database, and sample reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from server.pki import CertificateAuthority, peer_identity
from server.services.commands import CommandService
from server.services.devices import DeviceService
from server.services.enrollment import EnrollmentService
from server.services.records import (
    AgentFacts,
    DeviceIdentity,
    DiskFacts,
    Enrollment,
    FilesystemSample,
    HealthSample,
    InterfaceFacts,
    InventorySnapshot,
)
from server.services.reports import ReportService
from server.services.tenancy import TenancyService
from server.services.tokens import TokenService
from tests.conftest import FakeClock
from tests.server.pki.csrs import csr_der, new_key

FACTS = AgentFacts(hostname="pc-042", agent_version="0.1.0", os_family="linux")


@dataclass
class Collector:
    """Every service on one database, sharing one fake clock."""

    sessions: async_sessionmaker[AsyncSession]
    clock: FakeClock
    ca: CertificateAuthority

    def __post_init__(self) -> None:
        self.tenancy = TenancyService(self.sessions, self.clock)
        self.tokens = TokenService(self.sessions, self.clock)
        self.enrollment = EnrollmentService(self.sessions, self.ca, self.clock)
        self.devices = DeviceService(self.sessions, self.clock)
        self.reports = ReportService(self.sessions, self.clock)
        self.commands = CommandService(self.sessions, self.clock)

    async def enroll(
        self, tenant: str = "Acme", site: str = "HQ"
    ) -> tuple[Enrollment, DeviceIdentity]:
        token = await self.tokens.create(tenant, site, uses=1, ttl=timedelta(hours=1))
        enrollment = await self.enrollment.enroll(token.secret, csr_der(new_key()), FACTS)
        serial, device_id = peer_identity(enrollment.certificate_pem)
        return enrollment, await self.devices.authenticate(serial, device_id)

    async def count(self, model: type[DeclarativeBase]) -> int:
        async with self.sessions() as session:
            return await session.scalar(select(func.count()).select_from(model)) or 0


def health(report_id: str, when: datetime, cpu: float = 12.5, disk: float = 40.0) -> HealthSample:
    return HealthSample(
        report_id=report_id,
        sample_time=when,
        cpu_percent=cpu,
        memory_total_bytes=8 << 30,
        memory_used_bytes=2 << 30,
        memory_percent=25.0,
        swap_total_bytes=1 << 30,
        swap_used_bytes=0,
        swap_percent=0.0,
        load1=0.5,
        load5=0.4,
        load15=0.3,
        uptime_seconds=3600,
        filesystems=(
            FilesystemSample("/", "/dev/sda1", "ext4", 100 << 30, 40 << 30, disk),
            FilesystemSample("/boot", "/dev/sda2", "ext4", 1 << 30, 100 << 20, 9.8),
        ),
    )


def inventory(
    report_id: str, when: datetime, os_name: str = "Debian GNU/Linux"
) -> InventorySnapshot:
    return InventorySnapshot(
        report_id=report_id,
        collect_time=when,
        os_family="linux",
        os_name=os_name,
        os_version="12",
        kernel="6.1.0-18-amd64",
        hostname="pc-042",
        vendor="LENOVO",
        model="ThinkPad T14",
        serial_number="PF3ABCDE",
        cpu_model="AMD Ryzen 7 PRO 5850U",
        cpu_cores=8,
        cpu_threads=16,
        memory_total_bytes=16 << 30,
        disks=(DiskFacts("nvme0n1", "Samsung PM9A1", 512 << 30),),
        interfaces=(InterfaceFacts("eth0", "00:11:22:33:44:55", ("192.0.2.10", "fe80::1")),),
    )
