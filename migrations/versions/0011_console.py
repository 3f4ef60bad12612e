"""the ministry's console: staff accounts, recovery codes, sign-in log; indexes its pages read

Staff accounts are separate from OAuth partners. The partial indexes on
open assignments (``acted_at IS NULL``) let the console count and list what
is pending and overdue now by reading only what is still open, never every
assignment ever made; the index on ``anomalies.number`` serves a number's
history.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 09:00:00
"""

import sqlalchemy as sa
from alembic import op

from hub.db import UTCDateTime

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OPEN = sa.text("acted_at IS NULL")


def upgrade():
    op.create_table(
        "staff_users",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("password_changed_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
        sa.UniqueConstraint("session_token", name=op.f("uq_staff_users_session_token")),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_staff_recovery_codes_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "code_sha256", name=op.f("pk_staff_recovery_codes")),
    )
    op.create_table(
        "staff_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"], name=op.f("fk_staff_events_user_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_events")),
    )
    op.create_index(op.f("ix_staff_events_at"), "staff_events", ["at"], unique=False)
    op.create_index(op.f("ix_staff_events_email"), "staff_events", ["email"], unique=False)
    op.create_index(
        "ix_assignments_open_partner",
        "assignments",
        ["partner_id", "assigned_at"],
        unique=False,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_index(
        "ix_assignments_open_since",
        "assignments",
        ["assigned_at", "partner_id"],
        unique=False,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_index(op.f("ix_anomalies_number"), "anomalies", ["number"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_anomalies_number"), table_name="anomalies")
    op.drop_index("ix_assignments_open_since", table_name="assignments")
    op.drop_index("ix_assignments_open_partner", table_name="assignments")
    op.drop_index(op.f("ix_staff_events_email"), table_name="staff_events")
    op.drop_index(op.f("ix_staff_events_at"), table_name="staff_events")
    op.drop_table("staff_events")
    op.drop_table("staff_recovery_codes")
    op.drop_table("staff_users")
