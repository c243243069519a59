"""The dashboard's device facts: stored health state, device events, tags.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _device_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["device_id"], ["devices.id"], name=op.f(f"fk_{table}_device_id_devices")
    )


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(
            sa.Column("health_state", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("health_summary", sa.String(length=255), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("health_changed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("online", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    op.create_index("ix_devices_tenant_id_health_state", "devices", ["tenant_id", "health_state"])
    op.create_index("ix_devices_last_seen_at", "devices", ["last_seen_at"])
    op.create_table(
        "device_events",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _device_fk("device_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_events")),
    )
    op.create_index("ix_device_events_device_id_id", "device_events", ["device_id", "id"])
    op.create_index("ix_device_events_tenant_id_time", "device_events", ["tenant_id", "time"])
    op.create_table(
        "device_tags",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _device_fk("device_tags"),
        sa.PrimaryKeyConstraint("device_id", "tag", name=op.f("pk_device_tags")),
    )
    op.create_index("ix_device_tags_tag", "device_tags", ["tag"])


def downgrade() -> None:
    op.drop_index("ix_device_tags_tag", table_name="device_tags")
    op.drop_table("device_tags")
    op.drop_index("ix_device_events_tenant_id_time", table_name="device_events")
    op.drop_index("ix_device_events_device_id_id", table_name="device_events")
    op.drop_table("device_events")
    op.drop_index("ix_devices_last_seen_at", table_name="devices")
    op.drop_index("ix_devices_tenant_id_health_state", table_name="devices")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("online")
        batch.drop_column("health_changed_at")
        batch.drop_column("health_summary")
        batch.drop_column("health_state")
