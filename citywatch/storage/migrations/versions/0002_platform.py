"""The incident platform: lifecycle columns and history, users, sessions, API tokens, audit log,
last known camera state.

Revision ID: 0002_platform
Revises: 0001
Create Date: 2025-02-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_platform"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported from schema.py (see 0001). Times are UTC; roles and statuses VARCHAR.
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("group_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("assigned_user", sa.String(64), nullable=True))
        batch.add_column(sa.Column("assigned_unit", sa.String(128), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", _TIME, nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(80), nullable=True))
    op.execute("UPDATE incidents SET group_id = id")  # every incident is its own group until now
    op.create_index("ix_incidents_started_at_id", "incidents", ["started_at", "id"])
    op.create_index("ix_incidents_group_id", "incidents", ["group_id"])

    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "incident_id",
            sa.String(32),
            sa.ForeignKey("incidents.id", ondelete="CASCADE", name="fk_incident_events_incident_id"),
            nullable=False,
        ),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", _JSON, nullable=False),
    )
    op.create_index("ix_incident_events_incident_id_id", "incident_events", ["incident_id", "id"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_table(
        "user_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_user_sessions_user_id"),
            nullable=False,
        ),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("revoked_at", _TIME, nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(160), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("details", _JSON, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "camera_status",
        sa.Column("camera_id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("since", _TIME, nullable=False),
    )


def downgrade() -> None:
    for table in ("camera_status", "audit_log", "api_tokens", "user_sessions", "users", "incident_events"):
        op.drop_table(table)
    op.drop_index("ix_incidents_group_id", "incidents")
    op.drop_index("ix_incidents_started_at_id", "incidents")
    with op.batch_alter_table("incidents") as batch:
        for column in (
            "acknowledged_by",
            "acknowledged_at",
            "assigned_unit",
            "assigned_user",
            "group_id",
            "locked",
        ):
            batch.drop_column(column)
