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
class SiteSummary:
    """A site as listed, with its tenant and how many enrolled (not revoked) devices it has."""

    id: int
    tenant_id: int
    tenant: str
    name: str
    device_count: int
    created_at: datetime


@dataclass(frozen=True)
class TenantSummary:
    """A tenant as listed, with its sites (by name)."""

    id: int
    name: str
    created_at: datetime
    sites: tuple[SiteSummary, ...] = ()

    @property
    def device_count(self) -> int:
        return sum(site.device_count for site in self.sites)


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
    # The signals below came with the second wire revision; None / () where not reported.
    load1_per_core: float | None = None
    load5_per_core: float | None = None
    load15_per_core: float | None = None
    temperatures: tuple[TemperatureReading, ...] = ()
    fans: tuple[FanReading, ...] = ()
    memory_pressure: PressureStall | None = None
    oom_kills: int | None = None
    reboot_pending: bool | None = None
    reboot_pending_reasons: tuple[str, ...] = ()
    pending_updates: int | None = None
    pending_security_updates: int | None = None
    batteries: tuple[BatteryHealth, ...] = ()
    disks: tuple[DiskHealth, ...] = ()
    unavailable: tuple[UnavailableSignal, ...] = ()


@dataclass(frozen=True)
class TemperatureReading:
    """One temperature sensor, in degrees Celsius."""

    sensor: str
    label: str
    celsius: float
    high_celsius: float | None = None
    critical_celsius: float | None = None


@dataclass(frozen=True)
class FanReading:
    """One fan."""

    sensor: str
    label: str
    rpm: int


@dataclass(frozen=True)
class PressureStall:
    """Linux memory pressure (PSI): share of time tasks stalled, in percent."""

    some_avg10: float
    some_avg60: float
    some_avg300: float
    full_avg10: float
    full_avg60: float
    full_avg300: float


@dataclass(frozen=True)
class BatteryHealth:
    """One battery's wear and state. ``status``: one of ``BATTERY_STATUSES`` or ""."""

    name: str
    manufacturer: str = ""
    model: str = ""
    serial_number: str = ""
    design_capacity: int = 0
    full_capacity: int = 0
    capacity_unit: str = ""
    wear_percent: float | None = None
    cycle_count: int | None = None
    charge_percent: float | None = None
    status: str = ""


@dataclass(frozen=True)
class SmartAttribute:
    """One ATA SMART attribute."""

    id: int
    name: str
    value: int
    worst: int
    threshold: int
    raw: int
    when_failed: str = ""


@dataclass(frozen=True)
class NvmeHealth:
    """The NVMe SMART/Health Information log page."""

    critical_warning: int = 0
    percentage_used: int = 0
    media_errors: int = 0
    available_spare: int = 0
    available_spare_threshold: int = 0
    unsafe_shutdowns: int = 0
    power_on_hours: int = 0


@dataclass(frozen=True)
class DiskHealth:
    """The SMART health of one disk. ``protocol``: one of ``DISK_PROTOCOLS`` or ""."""

    device: str
    model: str = ""
    serial_number: str = ""
    protocol: str = ""
    smart_available: bool = False
    unavailable_reason: str = ""
    passed: bool | None = None
    exit_status: int = 0
    exit_status_flags: tuple[str, ...] = ()
    attributes: tuple[SmartAttribute, ...] = ()
    nvme: NvmeHealth | None = None
    temperature_celsius: float | None = None
    power_on_hours: int | None = None


@dataclass(frozen=True)
class UnavailableSignal:
    """A health signal a report lacks, and why."""

    signal: str
    reason: str


FORM_FACTORS = ("laptop", "desktop", "server", "virtual_machine", "tablet")
DISK_TYPES = ("hdd", "ssd", "nvme")
DISK_PROTOCOLS = ("ata", "nvme", "scsi")
BATTERY_STATUSES = ("charging", "discharging", "full", "not_charging")
SOFTWARE_SOURCES = ("deb", "rpm", "msi", "registry", "app_bundle", "snap", "flatpak", "msix")
ACTIVATION_STATES = ("licensed", "unlicensed", "grace", "notification")
SECTIONS = ("hardware", "software", "licences")


@dataclass(frozen=True)
class DiskFacts:
    """A block device in an inventory. ``type``: one of ``DISK_TYPES`` or "" (unknown)."""

    name: str
    model: str
    size_bytes: int
    serial_number: str = ""
    type: str = ""


@dataclass(frozen=True)
class InterfaceFacts:
    """A network interface in an inventory."""

    name: str
    mac_address: str
    addresses: tuple[str, ...] = ()
    speed_mbps: int = 0
    physical: bool = False


@dataclass(frozen=True)
class MemoryModule:
    """One installed memory module."""

    slot: str
    size_bytes: int
    type: str = ""
    speed_mts: int = 0
    manufacturer: str = ""
    part_number: str = ""
    serial_number: str = ""


@dataclass(frozen=True)
class SoftwarePackage:
    """One installed application. ``source``: one of ``SOFTWARE_SOURCES`` or ""."""

    name: str
    version: str
    publisher: str = ""
    source: str = ""
    architecture: str = ""
    install_time: datetime | None = None
    identifier: str = ""


@dataclass(frozen=True)
class ProductActivation:
    """Licence state of a Windows or Office product; the product key's last 5 characters."""

    product: str
    name: str
    channel: str = ""
    state: str = ""
    partial_product_key: str = ""


@dataclass(frozen=True)
class PackageLicence:
    """The declared licence of one installed package (``spdx`` empty when not all SPDX)."""

    package: str
    source: str
    spdx: str
    declared: str


@dataclass(frozen=True)
class LicenceFacts:
    """The licences section of an inventory."""

    activations: tuple[ProductActivation, ...] = ()
    packages: tuple[PackageLicence, ...] = ()


@dataclass(frozen=True)
class InventorySnapshot:
    """One inventory report from an agent: three sections, each in full or as its hash alone.

    Hardware (OS + hardware fields): in full unless ``hardware_included`` is False, when
    only ``hardware_hash`` says what it is. Software and licences: None when not sent, in
    which case a non-empty hash means "unchanged", and an empty one "not collected".
    """

    report_id: str
    collect_time: datetime
    os_family: str = ""
    os_name: str = ""
    os_version: str = ""
    kernel: str = ""
    hostname: str = ""
    vendor: str = ""
    model: str = ""
    serial_number: str = ""
    cpu_model: str = ""
    cpu_cores: int = 0
    cpu_threads: int = 0
    memory_total_bytes: int = 0
    disks: tuple[DiskFacts, ...] = ()
    interfaces: tuple[InterfaceFacts, ...] = ()
    os_build: str = ""
    uuid: str = ""
    bios_vendor: str = ""
    bios_version: str = ""
    bios_date: str = ""
    chassis_type: int = 0
    form_factor: str = ""
    cpu_sockets: int = 0
    virtualization: str = ""
    memory_modules: tuple[MemoryModule, ...] = ()
    hardware_included: bool = True
    hardware_hash: str = ""
    software: tuple[SoftwarePackage, ...] | None = None
    software_hash: str = ""
    licences: LicenceFacts | None = None
    licences_hash: str = ""


@dataclass(frozen=True)
class InventoryReceipt:
    """What the collector answers to an inventory batch."""

    accepted_report_ids: list[str]
    full_inventory_requested: bool = False


@dataclass(frozen=True)
class SectionState:
    """The inventory section a device last sent in full, as the collector holds it."""

    section: str
    content_hash: str
    report_id: str
    collect_time: datetime
    received_at: datetime


@dataclass(frozen=True)
class DeviceDetails:
    """Everything the collector holds about one device (``parc-server device show``)."""

    summary: DeviceSummary
    inventory: InventorySnapshot | None
    health: HealthSample | None
    software: tuple[SoftwarePackage, ...]
    licences: LicenceFacts
    sections: tuple[SectionState, ...]


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
    os_version: str | None = None
    form_factor: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenInfo:
    """An enrolment token as listed (``parc-server token list``); never its secret.

    ``state`` is ``active``, ``expired``, ``used up`` or ``revoked`` at the time of listing."""

    token_id: int
    tenant: str
    site: str
    uses_allowed: int
    uses_count: int
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime
    tenant_id: int
    site_id: int
    state: str


# --- people -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who did something, as the audit log names it: ``kind`` is ``user``, ``api-token``,
    ``cli`` or ``anonymous``; ``id`` the user's or token's id; ``name`` what people read."""

    kind: str
    id: int | None = None
    name: str = ""

    @property
    def reference(self) -> str:
        """``user:3``, ``api-token:7``, ``cli``, ``anonymous``."""
        return self.kind if self.id is None else f"{self.kind}:{self.id}"


CLI_ACTOR = Actor("cli", name="parc-server")
ANONYMOUS = Actor("anonymous")


@dataclass(frozen=True)
class UserInfo:
    """A user as listed and as signed in; never the password hash or the TOTP secret.

    ``tenant_ids``: the tenants granted (admins see every tenant whatever this holds)."""

    id: int
    username: str
    role: str
    totp_enabled: bool
    must_change_password: bool
    created_at: datetime
    disabled_at: datetime | None
    locked_until: datetime | None
    tenant_ids: frozenset[int] = frozenset()

    @property
    def actor(self) -> Actor:
        return Actor("user", self.id, self.username)


@dataclass(frozen=True)
class NewUser:
    """A user just created; ``password`` is set when it was generated (shown once)."""

    user: UserInfo
    password: str | None


@dataclass(frozen=True)
class Authentication:
    """A successful password (and TOTP) check.

    ``totp_enrolment_required``: an admin without TOTP yet; sign-in is not complete until
    they enrol. ``must_change_password``: the password was a one-time one."""

    user: UserInfo
    totp_enrolment_required: bool
    must_change_password: bool


@dataclass(frozen=True)
class TotpEnrolment:
    """A TOTP secret being enrolled: shown once (as text and as an ``otpauth://`` URI)."""

    secret: str
    uri: str


@dataclass(frozen=True)
class IssuedSession:
    """A session just created. ``token`` goes in the cookie, is shown once, never stored."""

    token: str
    session_id: str
    user: UserInfo
    totp_pending: bool
    expires_at: datetime


@dataclass(frozen=True)
class Principal:
    """The caller of a route, as established from a session or an API token.

    ``scopes`` is None for a session (the role's rights) and the token's scopes otherwise;
    ``via`` is ``session`` or ``api-token``; ``credential_id`` the session id or token id."""

    user: UserInfo
    via: str
    credential_id: str
    scopes: frozenset[str] | None = None

    @property
    def actor(self) -> Actor:
        if self.via == "api-token":
            return Actor("api-token", int(self.credential_id), self.user.username)
        return self.user.actor


@dataclass(frozen=True)
class IssuedApiToken:
    """An API token just created. ``secret`` is shown once and never stored."""

    token_id: int
    secret: str
    name: str
    scopes: tuple[str, ...]
    expires_at: datetime | None


@dataclass(frozen=True)
class ApiTokenInfo:
    """An API token as listed; never its secret."""

    token_id: int
    name: str
    user_id: int
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class AuditEvent:
    """One audit record."""

    id: int
    time: datetime
    actor: str
    actor_name: str
    action: str
    target_type: str
    target_id: str
    tenant_id: int | None
    details: dict[str, object]
    address: str
