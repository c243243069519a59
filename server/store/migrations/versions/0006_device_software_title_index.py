"""Drop ``device_software(title_id)``: ``device_software(title_id, device_id)`` (0005) covers it.

Every query the single-column index served can read the two-column one, which starts with
the same column. Each software link a device stores went into both, at a place of its own
title in each (a random page per link): under an inventory storm on SQLite those page writes
were most of the time of storing a device's links. Downgrade puts it back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_device_software_title_id", table_name="device_software")


def downgrade() -> None:
    op.create_index("ix_device_software_title_id", "device_software", ["title_id"])
