"""The operator console: why and when an incident was closed (incidents.closed_at, closed_by,
close_reason), and each user's alarm sound switch (users.sound_alerts).

Revision ID: 0007_console
Revises: 0006_login_failures
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_console"
down_revision: str | None = "0006_login_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.String(80), nullable=True))
        batch.add_column(sa.Column("close_reason", sa.String(32), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sound_alerts", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("sound_alerts")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("close_reason")
        batch.drop_column("closed_by")
        batch.drop_column("closed_at")
