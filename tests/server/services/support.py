"""Building the services on a test database, and sample reports."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from server.pki import CertificateAuthority, peer_identity
from server.services.commands import CommandService
from server.services.devices import DeviceService
from server.services.enrollment import EnrollmentService
from server.services.records import (
    AgentFacts,
    BatteryHealth,
    DeviceIdentity,
    DiskFacts,
    DiskHealth,
    Enrollment,
    FanReading,
    FilesystemSample,
    HealthSample,
    InterfaceFacts,
    InventorySnapshot,
    LicenceFacts,
    MemoryModule,
    NvmeHealth,
    PackageLicence,
    PressureStall,
    ProductActivation,
    SmartAttribute,
    SoftwarePackage,
    TemperatureReading,
    UnavailableSignal,
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


def sha(text: str) -> str:
    """A well-formed section hash standing for ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()


def package(name: str, version: str = "1.0", **extra: object) -> SoftwarePackage:
    values: dict[str, Any] = {"publisher": "Debian", "source": "deb", "architecture": "amd64"}
    values.update(extra)
    return SoftwarePackage(name=name, version=version, **values)


def licences(key: str = "3V66T", spdx: str = "MIT") -> LicenceFacts:
    return LicenceFacts(
        activations=(ProductActivation("windows", "Windows 11 Pro", "Retail", "licensed", key),),
        packages=(
            PackageLicence("bash", "debian-copyright", "GPL-3.0-or-later", "GPL-3+"),
            PackageLicence("curl", "debian-copyright", spdx, "curl"),
        ),
    )


def full_inventory(
    report_id: str,
    when: datetime,
    packages: Sequence[SoftwarePackage] = (package("bash", "5.2"), package("curl", "7.88")),
    licence_facts: LicenceFacts | None = None,
) -> InventorySnapshot:
    """An inventory with every section in full, identity fields set, hashes of its content."""
    base = inventory(report_id, when)
    return dataclasses.replace(
        base,
        os_build="6.1.76-1",
        uuid="4c4c4544-0042-3510-8052-b4c04f4e3332",
        bios_vendor="LENOVO",
        bios_version="R1MET56W (1.26)",
        bios_date="2023-05-11",
        chassis_type=10,
        form_factor="laptop",
        cpu_sockets=1,
        virtualization="",
        memory_modules=(
            MemoryModule("DIMM 0", 8 << 30, "DDR4", 3200, "Samsung", "M471A1K43DB1", "S1"),
            MemoryModule("DIMM 1", 8 << 30, "DDR4", 3200, "Samsung", "M471A1K43DB1", "S2"),
        ),
        disks=(DiskFacts("nvme0n1", "Samsung PM9A1", 512 << 30, "S6Z1NX0T", "nvme"),),
        interfaces=(
            InterfaceFacts("eth0", "00:11:22:33:44:55", ("192.0.2.10",), 1000, True),
            InterfaceFacts("docker0", "02:42:ac:11:00:01", (), 0, False),
        ),
        hardware_hash=sha(f"hardware {report_id}"),
        software=tuple(packages),
        software_hash=sha(repr(sorted(packages, key=repr))),
        licences=licence_facts if licence_facts is not None else licences(),
        licences_hash=sha(repr(licence_facts or licences())),
    )


def hash_only(
    report_id: str, when: datetime, hardware: str, software: str, licence_hash: str
) -> InventorySnapshot:
    """An inventory whose three sections are hashes alone."""
    return InventorySnapshot(
        report_id=report_id,
        collect_time=when,
        hardware_included=False,
        hardware_hash=hardware,
        software_hash=software,
        licences_hash=licence_hash,
    )


def health_with_signals(report_id: str, when: datetime) -> HealthSample:
    """A health sample carrying every signal of the second wire revision."""
    return dataclasses.replace(
        health(report_id, when),
        load1_per_core=0.0625,
        load5_per_core=0.05,
        load15_per_core=0.0375,
        temperatures=(
            TemperatureReading("coretemp", "Package id 0", 54.0, 100.0, 105.0),
            TemperatureReading("acpitz", "", -5.5),
        ),
        fans=(FanReading("thinkpad", "fan1", 2900),),
        memory_pressure=PressureStall(0.5, 0.25, 0.1, 0.0, 0.0, 0.0),
        oom_kills=2,
        reboot_pending=True,
        reboot_pending_reasons=("/var/run/reboot-required",),
        pending_updates=12,
        pending_security_updates=3,
        batteries=(
            BatteryHealth(
                name="BAT0",
                manufacturer="SMP",
                model="5B10W13975",
                serial_number="1234",
                design_capacity=57000,
                full_capacity=48450,
                capacity_unit="mWh",
                wear_percent=15.0,
                cycle_count=312,
                charge_percent=80.0,
                status="discharging",
            ),
        ),
        disks=(
            DiskHealth(
                device="/dev/nvme0",
                model="Samsung PM9A1",
                serial_number="S6Z1NX0T",
                protocol="nvme",
                smart_available=True,
                passed=True,
                exit_status=0,
                nvme=NvmeHealth(0, 3, 0, 100, 10, 12, 4021),
                temperature_celsius=38.0,
                power_on_hours=4021,
            ),
            DiskHealth(
                device="/dev/sda",
                model="WDC WD10EZEX",
                protocol="ata",
                smart_available=True,
                passed=False,
                exit_status=8,
                exit_status_flags=("disk failing",),
                attributes=(SmartAttribute(5, "Reallocated_Sector_Ct", 1, 1, 140, 2000, "now"),),
            ),
            DiskHealth(device="/dev/sdb", unavailable_reason="USB bridge refuses SMART"),
        ),
        unavailable=(UnavailableSignal("fans", "no fan sensors exposed"),),
    )
