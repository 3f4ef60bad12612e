"""Stored receipts, the number look-up's index

A record's receipt is signed once, in its push's write transaction, and
stored with it (``records.receipt``), so pulls and duplicate pushes serve
its bytes instead of signing per item; rows accepted before stay null and
are signed when served. The number look-up reads the number's own rows
newest first from ``(number, seq)``, which replaces the index on
``number`` alone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt", sa.Text(), nullable=True))
        batch_op.drop_index("ix_records_number")
        batch_op.create_index("ix_records_number_seq", ["number", "seq"], unique=False)


def downgrade():
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_number_seq")
        batch_op.create_index("ix_records_number", ["number"], unique=False)
        batch_op.drop_column("receipt")
