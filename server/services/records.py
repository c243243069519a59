"""Typed records passed between the collector's layers (transports <-> services <-> store).

Protobuf stays in ``server/api``; SQLAlchemy models stay in ``server/store``. Everything
that crosses a layer is one of these frozen dataclasses. Times are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Tenant:
    """A customer company."""

    id: int
    name: str


@dataclass(frozen=True)
class Site:
    """An office or datacentre of a tenant."""

    id: int
    tenant: str
    name: str


@dataclass(frozen=True)
class IssuedToken:
    """An enrolment token just created. ``secret`` is shown once and never stored."""

    token_id: int
    secret: str
    tenant: str
    site: str
    uses_allowed: int
    expires_at: datetime


@dataclass(frozen=True)
class DeviceIdentity:
    """Who is calling, as established from a client certificate."""

    device_id: str
    tenant_id: int
    site_id: int
    serial: int


@dataclass(frozen=True)
class Enrollment:
    """The result of a successful enrolment."""

    device_id: str
    certificate_pem: str
    ca_certificate_pem: str
    signing_public_key: bytes
    tenant: str
    site: str


@dataclass(frozen=True)
class AgentFacts:
    """What an agent says about itself when it enrols (informational)."""

    hostname: str
    agent_version: str
    os_family: str


@dataclass(frozen=True)
class FilesystemSample:
    """Use of one filesystem in a health sample."""

    mountpoint: str
    device: str
    fstype: str
    total_bytes: int
    used_bytes: int
    percent: float


@dataclass(frozen=True)
class HealthSample:
    """One health report from an agent."""

    report_id: str
    sample_time: datetime
    cpu_percent: float
    memory_total_bytes: int
    memory_used_bytes: int
    memory_percent: float
    swap_total_bytes: int
    swap_used_bytes: int
    swap_percent: float
    load1: float
    load5: float
    load15: float
    uptime_seconds: int
    filesystems: tuple[FilesystemSample, ...] = ()


@dataclass(frozen=True)
class DiskFacts:
    """A block device in an inventory."""

    name: str
    model: str
    size_bytes: int


@dataclass(frozen=True)
class InterfaceFacts:
    """A network interface in an inventory."""

    name: str
    mac_address: str
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class InventorySnapshot:
    """One hardware/OS inventory report from an agent."""

    report_id: str
    collect_time: datetime
    os_family: str
    os_name: str
    os_version: str
    kernel: str
    hostname: str
    vendor: str
    model: str
    serial_number: str
    cpu_model: str
    cpu_cores: int
    cpu_threads: int
    memory_total_bytes: int
    disks: tuple[DiskFacts, ...] = ()
    interfaces: tuple[InterfaceFacts, ...] = ()


@dataclass(frozen=True)
class PendingCommand:
    """A durable command waiting to be delivered to a device."""

    command_id: str
    device_id: str
    kind: str
    payload: bytes
    created_at: datetime


@dataclass(frozen=True)
class DeviceSummary:
    """One row of the device list (``parc-server devices``)."""

    device_id: str
    hostname: str
    tenant: str
    site: str
    os_name: str
    enrolled_at: datetime
    last_seen_at: datetime | None
    online: bool
    revoked: bool
    cpu_percent: float | None = None
    memory_percent: float | None = None
    disk_percent_max: float | None = None
    load1: float | None = None
    uptime_seconds: int | None = None
    health_time: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenInfo:
    """An enrolment token as listed (``parc-server token list``); never its secret."""

    token_id: int
    tenant: str
    site: str
    uses_allowed: int
    uses_count: int
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime
