"""number lifecycle events (PROTOCOL 1.1 section 10)

Operators report when a number is disconnected or reassigned; each accepted
event is a log leaf with a receipt, and draws its seq from the one counter
records and acks use. The indexes answer the reassignment questions and the
record push's guard (the number's latest reassignment) by an index search,
and the reports' counts per period.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02 07:00:00
"""

import sqlalchemy as sa
from alembic import op

from hub.db import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "number_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=63), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("effective_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("blocks_lifted", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
        sa.UniqueConstraint("log_index"),
    )
    with op.batch_alter_table("number_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_number_events_number_event_effective", ["number", "event", "effective_at"], unique=False
        )
        batch_op.create_index("ix_number_events_effective_at", ["effective_at"], unique=False)
        batch_op.create_index("ix_number_events_operator_seq", ["operator", "seq"], unique=False)


def downgrade():
    with op.batch_alter_table("number_events", schema=None) as batch_op:
        batch_op.drop_index("ix_number_events_operator_seq")
        batch_op.drop_index("ix_number_events_effective_at")
        batch_op.drop_index("ix_number_events_number_event_effective")
    op.drop_table("number_events")
