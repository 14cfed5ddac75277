"""The dashboard language each user chose (users.ui_language).

Revision ID: 0005_ui_language
Revises: 0004_created_at_index
Create Date: 2025-02-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_ui_language"
down_revision: str | None = "0004_created_at_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("ui_language", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:  # SQLite drops columns by copying the table
        batch.drop_column("ui_language")
