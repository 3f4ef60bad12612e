"""lifted_at on blocks, ack_log_index on assignments, tree heads derived

One definition of "a block in force at t" needs when a block was lifted
(``records.lifted_at``, the accepting time of its unblock); a record's
look-up reads an assignment's signed ack by its log index without the acks
table; tree-head timestamps are derived from the log, so ``tree_heads``
goes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:00:00
"""

import sqlalchemy as sa
from alembic import op

from hub.db import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lifted_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ack_log_index", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE records SET lifted_at = (SELECT u.received_at FROM records u WHERE u.id = records.lifted_by) "
        "WHERE lifted_by IS NOT NULL"
    )
    op.execute(
        "UPDATE assignments SET ack_log_index = (SELECT acks.log_index FROM acks WHERE acks.id = assignments.ack_id) "
        "WHERE ack_id IS NOT NULL"
    )
    op.drop_table("tree_heads")


def downgrade():
    op.create_table(
        "tree_heads",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_tree_heads")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("ack_log_index")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_column("lifted_at")
