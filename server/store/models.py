"""The collector's tables as SQLAlchemy typed declarative models.

Certificate serials are stored as 40-character lowercase hex strings (``serial_hex``):
X.509 serials are up to 159 bits and do not fit a 64-bit integer column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from server.store.types import UTCDateTime

SERIAL_HEX_LENGTH = 40
DEVICE_ID_LENGTH = 36
REPORT_ID_LENGTH = 64
NAME_LENGTH = 100
HASH_LENGTH = 64  # SHA-256, hex
SECTION_LENGTH = 16
SOURCE_LENGTH = 16
USERNAME_LENGTH = 64
ADDRESS_LENGTH = 64  # an IPv6 address with zone, or a host:port
ACTOR_LENGTH = 64
ACTION_LENGTH = 64
TAG_LENGTH = 64
HEALTH_SUMMARY_LENGTH = 255
EVENT_KIND_LENGTH = 32

EMPTY_TEXT = text("''")
ZERO = text("0")
EMPTY_LIST = text("'[]'")

# 64-bit on PostgreSQL; plain INTEGER on SQLite so it is the rowid and autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def serial_hex(serial: int) -> str:
    """A certificate serial as stored: 40 lowercase hex digits."""
    if serial < 0 or serial >= 1 << (4 * SERIAL_HEX_LENGTH):
        raise ValueError("certificate serial out of range")
    return f"{serial:0{SERIAL_HEX_LENGTH}x}"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantRow(Base):
    """A customer company."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SiteRow(Base):
    """An office or datacentre of a tenant."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EnrollmentTokenRow(Base):
    """An enrolment token; only the SHA-256 (hex) of its secret is kept."""

    __tablename__ = "enrollment_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    uses_allowed: Mapped[int] = mapped_column(Integer)
    uses_count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeviceRow(Base):
    """An enrolled machine. ``id`` is the device id (a UUID4 string), also its cert CN."""

    __tablename__ = "devices"
    __table_args__ = (
        Index("ix_devices_tenant_id_health_state", "tenant_id", "health_state"),
        Index("ix_devices_last_seen_at", "last_seen_at"),
        # Added in 0005, for the fleet pages' sorted and filtered lists.
        Index("ix_devices_tenant_id_hostname", "tenant_id", "hostname"),
        Index("ix_devices_tenant_id_last_seen_at", "tenant_id", "last_seen_at"),
        Index("ix_devices_hostname", "hostname"),
    )

    id: Mapped[str] = mapped_column(String(DEVICE_ID_LENGTH), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    hostname: Mapped[str] = mapped_column(String(255))
    os_family: Mapped[str] = mapped_column(String(32))
    agent_version: Mapped[str] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    current_serial: Mapped[str] = mapped_column(String(SERIAL_HEX_LENGTH))
    # Added in 0004: the health state its samples show (server.services.health_state, never
    # "offline": that follows from last_seen_at when read), its worst reason, when it last
    # changed; and whether the presence sweep last found it online (for online/offline events).
    health_state: Mapped[int] = mapped_column(SmallInteger, server_default=ZERO)
    health_summary: Mapped[str] = mapped_column(
        String(HEALTH_SUMMARY_LENGTH), server_default=EMPTY_TEXT
    )
    health_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    online: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class CertificateRow(Base):
    """A client certificate issued to a device."""

    __tablename__ = "certificates"

    serial: Mapped[str] = mapped_column(String(SERIAL_HEX_LENGTH), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HealthSampleRow(Base):
    """One health report of a device; each (device, report id) is stored once."""

    __tablename__ = "health_samples"
    __table_args__ = (
        UniqueConstraint("device_id", "report_id"),
        Index("ix_health_samples_device_id_sample_time", "device_id", "sample_time"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    report_id: Mapped[str] = mapped_column(String(REPORT_ID_LENGTH))
    sample_time: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cpu_percent: Mapped[float] = mapped_column(Float)
    memory_total_bytes: Mapped[int] = mapped_column(BigInteger)
    memory_used_bytes: Mapped[int] = mapped_column(BigInteger)
    memory_percent: Mapped[float] = mapped_column(Float)
    swap_total_bytes: Mapped[int] = mapped_column(BigInteger)
    swap_used_bytes: Mapped[int] = mapped_column(BigInteger)
    swap_percent: Mapped[float] = mapped_column(Float)
    load1: Mapped[float] = mapped_column(Float)
    load5: Mapped[float] = mapped_column(Float)
    load15: Mapped[float] = mapped_column(Float)
    uptime_seconds: Mapped[int] = mapped_column(BigInteger)
    filesystems: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Added in 0002. Scalars are columns (charted, filtered); lists are JSON. NULL: unknown.
    load1_per_core: Mapped[float | None] = mapped_column(Float)
    load5_per_core: Mapped[float | None] = mapped_column(Float)
    load15_per_core: Mapped[float | None] = mapped_column(Float)
    oom_kills: Mapped[int | None] = mapped_column(BigInteger)
    reboot_pending: Mapped[bool | None] = mapped_column(Boolean)
    pending_updates: Mapped[int | None] = mapped_column(Integer)
    pending_security_updates: Mapped[int | None] = mapped_column(Integer)
    memory_pressure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    temperatures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default=EMPTY_LIST)
    fans: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default=EMPTY_LIST)
    batteries: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default=EMPTY_LIST)
    disk_health: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default=EMPTY_LIST)
    unavailable: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default=EMPTY_LIST)
    reboot_pending_reasons: Mapped[list[str]] = mapped_column(JSON, server_default=EMPTY_LIST)


class InventoryReportRow(Base):
    """An inventory report id already received from a device (stored once)."""

    __tablename__ = "inventory_reports"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(REPORT_ID_LENGTH), primary_key=True)
    collect_time: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeviceInventoryRow(Base):
    """The newest hardware/OS inventory of a device (by collect time)."""

    __tablename__ = "device_inventory"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(REPORT_ID_LENGTH))
    collect_time: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    os_family: Mapped[str] = mapped_column(Text)
    os_name: Mapped[str] = mapped_column(Text)
    os_version: Mapped[str] = mapped_column(Text)
    kernel: Mapped[str] = mapped_column(Text)
    hostname: Mapped[str] = mapped_column(Text)
    vendor: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
    serial_number: Mapped[str] = mapped_column(Text)
    cpu_model: Mapped[str] = mapped_column(Text)
    cpu_cores: Mapped[int] = mapped_column(Integer)
    cpu_threads: Mapped[int] = mapped_column(Integer)
    memory_total_bytes: Mapped[int] = mapped_column(BigInteger)
    disks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    interfaces: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Added in 0002: hardware identity. Memory modules, like disks and interfaces, are JSON:
    # a handful per machine, always read and replaced with the whole row, never queried alone.
    os_build: Mapped[str] = mapped_column(Text, server_default=EMPTY_TEXT)
    uuid: Mapped[str] = mapped_column(Text, server_default=EMPTY_TEXT)
    bios_vendor: Mapped[str] = mapped_column(Text, server_default=EMPTY_TEXT)
    bios_version: Mapped[str] = mapped_column(Text, server_default=EMPTY_TEXT)
    bios_date: Mapped[str] = mapped_column(Text, server_default=EMPTY_TEXT)
    chassis_type: Mapped[int] = mapped_column(Integer, server_default=ZERO)
    form_factor: Mapped[str] = mapped_column(String(32), server_default=EMPTY_TEXT)
    cpu_sockets: Mapped[int] = mapped_column(Integer, server_default=ZERO)
    virtualization: Mapped[str] = mapped_column(Text, server_default=EMPTY_TEXT)
    memory_modules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default=EMPTY_LIST)


class InventorySectionRow(Base):
    """The section (hardware, software, licences) a device last sent in full, and its hash.

    One row per device and section, so each section is stored, dated and compared on its
    own: a report may carry software in full while its hardware is a hash alone.
    """

    __tablename__ = "inventory_sections"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    section: Mapped[str] = mapped_column(String(SECTION_LENGTH), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    report_id: Mapped[str] = mapped_column(String(REPORT_ID_LENGTH))
    collect_time: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SoftwareTitleRow(Base):
    """An application as (name, publisher, source), shared by every device that has it.

    Unique by ``title_key``, the SHA-256 of the three: a fixed-size key indexes any text
    (PostgreSQL refuses B-tree entries over about 2.7 kB), and one column compares fast.
    """

    __tablename__ = "software_titles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title_key: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH))


class DeviceSoftwareRow(Base):
    """One application installed on a device (a link to its title), updated by difference.

    A link is (title, version, architecture, identifier); only ``install_time`` changes in
    place. The store keeps one row per link and device: each device's inventory is written
    under a lock on its device row.
    """

    __tablename__ = "device_software"
    # Added in 0005: the devices holding given titles (software search), from the index alone.
    # It serves lookups by title alone too: 0006 dropped the single-column title index.
    __table_args__ = (Index("ix_device_software_title_id_device_id", "title_id", "device_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    title_id: Mapped[int] = mapped_column(ForeignKey("software_titles.id"))
    version: Mapped[str] = mapped_column(Text)
    architecture: Mapped[str] = mapped_column(Text)
    identifier: Mapped[str] = mapped_column(Text)
    install_time: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeviceActivationRow(Base):
    """A Windows or Office product's activation on a device; one per (product, name)."""

    __tablename__ = "device_activations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    product: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    # The last five characters at most (enforced by the services): not a secret.
    partial_product_key: Mapped[str] = mapped_column(String(5))


class DeclaredLicenceRow(Base):
    """A licence as declared by packages (source, SPDX, text), shared by every package.

    A distribution has a few hundred distinct licence texts for thousands of packages on
    thousands of machines: each text is stored once. Unique by ``licence_key`` (SHA-256).
    """

    __tablename__ = "declared_licences"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    licence_key: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH))
    spdx: Mapped[str] = mapped_column(Text)
    declared: Mapped[str] = mapped_column(Text)


class DevicePackageLicenceRow(Base):
    """The declared licence of one package on a device, updated by difference.

    Keyed by package name rather than tied to a software link: the licences section has
    its own hash and arrives on its own, and a package upgrade that keeps its licence
    changes the software section only.
    """

    __tablename__ = "device_package_licences"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    package: Mapped[str] = mapped_column(Text)
    licence_id: Mapped[int] = mapped_column(ForeignKey("declared_licences.id"), index=True)


class CommandRow(Base):
    """A durable command for a device: queued, delivered, then acknowledged."""

    __tablename__ = "commands"
    __table_args__ = (Index("ix_commands_device_id_acked_at", "device_id", "acked_at"),)

    id: Mapped[str] = mapped_column(String(DEVICE_ID_LENGTH), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)


# --- people: accounts, grants, sessions, API tokens, audit (added in 0003) ----------------------


class UserRow(Base):
    """A person who signs in to the dashboard or the API.

    ``password_hash`` is scrypt with its parameters and salt in the string; ``totp_secret`` is
    sealed with the collector's secrets key (never stored in clear); ``totp_last_counter`` is
    the last TOTP time step accepted, so a code cannot be used twice.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean)
    role: Mapped[str] = mapped_column(String(16))
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(Boolean)
    totp_last_counter: Mapped[int | None] = mapped_column(BigInteger)
    failed_logins: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserTenantRow(Base):
    """A grant: the user may see the tenant (admins see every tenant without grants)."""

    __tablename__ = "user_tenants"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserSessionRow(Base):
    """A signed-in browser. ``id`` is the SHA-256 (hex) of the cookie's token, never the token.

    ``totp_pending``: the password was right but the user must still enrol TOTP; such a
    session may do that and nothing else.
    """

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    totp_pending: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))


class ApiTokenRow(Base):
    """A token for integrations, acting as its user within ``scopes``; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEventRow(Base):
    """Who did what, to what, when and from where.

    ``actor`` is ``user:ID``, ``api-token:ID``, ``cli`` or ``anonymous``; ``actor_name`` is
    what people read (the username then). No foreign keys: the record outlives what it names.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_id_time", "tenant_id", "time"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    actor_name: Mapped[str] = mapped_column(String(USERNAME_LENGTH))
    action: Mapped[str] = mapped_column(String(ACTION_LENGTH), index=True)
    target_type: Mapped[str] = mapped_column(String(ACTION_LENGTH))
    target_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    tenant_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH))


class DeviceEventRow(Base):
    """Something that happened to a device: enrolled, revoked, went offline or came back,
    its health state changed. ``details`` is a small JSON object written by the services."""

    __tablename__ = "device_events"
    __table_args__ = (
        Index("ix_device_events_device_id_id", "device_id", "id"),
        Index("ix_device_events_tenant_id_time", "tenant_id", "time"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    tenant_id: Mapped[int] = mapped_column(Integer)
    time: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(EVENT_KIND_LENGTH))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class DeviceTagRow(Base):
    """A label a technician put on a device (``tag``: lower case, 1-64 characters)."""

    __tablename__ = "device_tags"
    __table_args__ = (
        PrimaryKeyConstraint("device_id", "tag"),
        Index("ix_device_tags_tag", "tag"),
    )

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    tag: Mapped[str] = mapped_column(String(TAG_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
