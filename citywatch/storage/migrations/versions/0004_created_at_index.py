"""An index on incidents.created_at: an API without a pipeline polls it every second for new rows.

Revision ID: 0004_created_at_index
Revises: 0003_notifications
Create Date: 2025-02-09
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_created_at_index"
down_revision: str | None = "0003_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_created_at", "incidents")
