"""Full inventory: hardware identity, section hashes, software, licences, health signals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_EMPTY_TEXT = sa.text("''")
_ZERO = sa.text("0")
_EMPTY_LIST = sa.text("'[]'")


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _device_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["device_id"], ["devices.id"], name=op.f(f"fk_{table}_device_id_devices")
    )


_INVENTORY_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any], sa.TextClause], ...] = (
    ("os_build", sa.Text(), _EMPTY_TEXT),
    ("uuid", sa.Text(), _EMPTY_TEXT),
    ("bios_vendor", sa.Text(), _EMPTY_TEXT),
    ("bios_version", sa.Text(), _EMPTY_TEXT),
    ("bios_date", sa.Text(), _EMPTY_TEXT),
    ("chassis_type", sa.Integer(), _ZERO),
    ("form_factor", sa.String(length=32), _EMPTY_TEXT),
    ("cpu_sockets", sa.Integer(), _ZERO),
    ("virtualization", sa.Text(), _EMPTY_TEXT),
    ("memory_modules", sa.JSON(), _EMPTY_LIST),
)

_HEALTH_NULLABLE: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("load1_per_core", sa.Float()),
    ("load5_per_core", sa.Float()),
    ("load15_per_core", sa.Float()),
    ("oom_kills", sa.BigInteger()),
    ("reboot_pending", sa.Boolean()),
    ("pending_updates", sa.Integer()),
    ("pending_security_updates", sa.Integer()),
    ("memory_pressure", sa.JSON()),
)

_HEALTH_LISTS = (
    "temperatures",
    "fans",
    "batteries",
    "disk_health",
    "unavailable",
    "reboot_pending_reasons",
)


def upgrade() -> None:
    with op.batch_alter_table("device_inventory") as batch:
        for name, type_, default in _INVENTORY_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=False, server_default=default))
    with op.batch_alter_table("health_samples") as batch:
        for name, type_ in _HEALTH_NULLABLE:
            batch.add_column(sa.Column(name, type_, nullable=True))
        for name in _HEALTH_LISTS:
            batch.add_column(sa.Column(name, sa.JSON(), nullable=False, server_default=_EMPTY_LIST))

    op.create_table(
        "inventory_sections",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.String(length=64), nullable=False),
        _when("collect_time"),
        _when("received_at"),
        _device_fk("inventory_sections"),
        sa.PrimaryKeyConstraint("device_id", "section", name=op.f("pk_inventory_sections")),
    )
    # Inventories stored before sections existed count as a hardware section without a hash:
    # a hash-only hardware section then asks for one full resend.
    op.execute(
        "INSERT INTO inventory_sections"
        " (device_id, section, content_hash, report_id, collect_time, received_at)"
        " SELECT device_id, 'hardware', '', report_id, collect_time, received_at"
        " FROM device_inventory"
    )
    op.create_table(
        "software_titles",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("title_key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("publisher", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_software_titles")),
        sa.UniqueConstraint("title_key", name=op.f("uq_software_titles_title_key")),
    )
    op.create_table(
        "device_software",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("title_id", _BIG_ID, nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("architecture", sa.Text(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        _when("install_time", nullable=True),
        _device_fk("device_software"),
        sa.ForeignKeyConstraint(
            ["title_id"],
            ["software_titles.id"],
            name=op.f("fk_device_software_title_id_software_titles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_software")),
    )
    op.create_index(op.f("ix_device_software_device_id"), "device_software", ["device_id"])
    op.create_index(op.f("ix_device_software_title_id"), "device_software", ["title_id"])
    op.create_table(
        "device_activations",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("product", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("partial_product_key", sa.String(length=5), nullable=False),
        _device_fk("device_activations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_activations")),
    )
    op.create_index(op.f("ix_device_activations_device_id"), "device_activations", ["device_id"])
    op.create_table(
        "declared_licences",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("licence_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("spdx", sa.Text(), nullable=False),
        sa.Column("declared", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declared_licences")),
        sa.UniqueConstraint("licence_key", name=op.f("uq_declared_licences_licence_key")),
    )
    op.create_table(
        "device_package_licences",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("package", sa.Text(), nullable=False),
        sa.Column("licence_id", _BIG_ID, nullable=False),
        _device_fk("device_package_licences"),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["declared_licences.id"],
            name=op.f("fk_device_package_licences_licence_id_declared_licences"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_package_licences")),
    )
    op.create_index(
        op.f("ix_device_package_licences_device_id"), "device_package_licences", ["device_id"]
    )
    op.create_index(
        op.f("ix_device_package_licences_licence_id"), "device_package_licences", ["licence_id"]
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_device_package_licences_licence_id"), table_name="device_package_licences"
    )
    op.drop_index(
        op.f("ix_device_package_licences_device_id"), table_name="device_package_licences"
    )
    op.drop_table("device_package_licences")
    op.drop_table("declared_licences")
    op.drop_index(op.f("ix_device_activations_device_id"), table_name="device_activations")
    op.drop_table("device_activations")
    op.drop_index(op.f("ix_device_software_title_id"), table_name="device_software")
    op.drop_index(op.f("ix_device_software_device_id"), table_name="device_software")
    op.drop_table("device_software")
    op.drop_table("software_titles")
    op.drop_table("inventory_sections")
    with op.batch_alter_table("health_samples") as batch:
        for name in reversed(_HEALTH_LISTS):
            batch.drop_column(name)
        for name, _ in reversed(_HEALTH_NULLABLE):
            batch.drop_column(name)
    with op.batch_alter_table("device_inventory") as batch:
        for name, _, _ in reversed(_INVENTORY_COLUMNS):
            batch.drop_column(name)
