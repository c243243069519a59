"""Devices for the web tests, made the way agents make them: through the real services.

``seed_device`` enrols a device with a real enrolment token and CSR (its certificate signed by
the collector's CA), then stores health samples and a full inventory (hardware, software,
licences) through ``ReportService``, exactly as the agent servicer does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.pki import CertificateAuthority, PkiPaths, peer_identity
from server.services.clock import utc_now
from server.services.devices import DeviceService
from server.services.enrollment import EnrollmentService
from server.services.records import AgentFacts, DeviceIdentity, SoftwarePackage
from server.services.reports import ReportService
from server.services.tokens import TokenService
from server.store.models import DeviceRow
from tests.server.pki.csrs import csr_der, new_key
from tests.server.services.support import full_inventory, health_with_signals, package

XSS = "<script>alert('x')</script>"


@dataclass(frozen=True)
class SeededDevice:
    device_id: str
    hostname: str
    identity: DeviceIdentity
    sample_times: tuple[datetime, ...]


def software(count: int) -> list[SoftwarePackage]:
    """``count`` distinct packages, ``pkg-000`` … (sorted by name as the page lists them)."""
    return [package(f"pkg-{n:03d}", f"1.{n}") for n in range(count)]


async def seed_device(
    sessions: async_sessionmaker[AsyncSession],
    data_dir: Path,
    tenant: str,
    hostname: str,
    *,
    site: str = "HQ",
    samples: int = 48,
    every: timedelta = timedelta(hours=1),
    packages: Sequence[SoftwarePackage] = (),
    now: datetime | None = None,
) -> SeededDevice:
    """Enrol ``hostname`` in ``tenant``/``site``; store ``samples`` health samples ``every``
    apart ending at ``now`` (CPU climbing 0, 1, 2 … %), and one full inventory."""
    now = now or utc_now()
    ca = CertificateAuthority.load(PkiPaths.from_data_dir(data_dir))
    token = await TokenService(sessions).create(tenant, site, uses=1, ttl=timedelta(hours=1))
    facts = AgentFacts(hostname=hostname, agent_version="0.1.0", os_family="linux")
    enrollment = await EnrollmentService(sessions, ca).enroll(
        token.secret, csr_der(new_key()), facts
    )
    serial, device_id = peer_identity(enrollment.certificate_pem)
    identity = await DeviceService(sessions).authenticate(serial, device_id)
    reports = ReportService(sessions)
    times = tuple(now - every * (samples - 1 - n) for n in range(samples))
    batch = [
        dataclasses.replace(health_with_signals(f"h-{n}", when), cpu_percent=float(n % 101))
        for n, when in enumerate(times)
    ]
    for start in range(0, len(batch), 500):
        await reports.store_health(identity, batch[start : start + 500])
    chosen = list(packages) or [package("bash", "5.2"), package("curl", "7.88")]
    await reports.store_inventory(identity, [full_inventory("inv-1", now, chosen)])
    return SeededDevice(device_id, hostname, identity, times)


async def rename(sessions: async_sessionmaker[AsyncSession], device_id: str, name: str) -> None:
    """Give the device a hostname the agent's validation would not let through."""
    async with sessions.begin() as session:
        await session.execute(
            update(DeviceRow).where(DeviceRow.id == device_id).values(hostname=name)
        )
