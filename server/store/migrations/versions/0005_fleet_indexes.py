"""Indexes for the fleet pages: device lists sorted and filtered per tenant, software search.

- ``devices(tenant_id, hostname)`` and ``devices(tenant_id, last_seen_at)``: a tenant's page
  of devices in name or last-seen order is read from the index, then cut by ``LIMIT``.
- ``devices(hostname)``: the same across every tenant (admins).
- ``device_software(title_id, device_id)``: "which devices have one of these titles" reads
  only the matching links (the single-column title index had to visit every link row).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, list[str]], ...] = (
    ("ix_devices_tenant_id_hostname", "devices", ["tenant_id", "hostname"]),
    ("ix_devices_tenant_id_last_seen_at", "devices", ["tenant_id", "last_seen_at"]),
    ("ix_devices_hostname", "devices", ["hostname"]),
    ("ix_device_software_title_id_device_id", "device_software", ["title_id", "device_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
