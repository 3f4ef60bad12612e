"""the audit trail of reads: rows, the numbers they name, append-only triggers

``audit`` takes its ids from the ``audit`` row of ``counters`` (upserted by
the first write), so ids follow commit order and ``GET /v1/audit?after=``
never skips a row. ``audit_numbers`` (numbers a read named) and
``audit_seqs`` (records a pull served, by seq, found by number through
``records(number, seq)``), WITHOUT ROWID tables on SQLite, answer a query
by number; ``ix_audit_partner_id`` one by partner; ``ix_audit_at``
``since`` and the retention prune; the ``audit_id`` indexes the prune. A trigger on each table
refuses UPDATE, on both databases: the hub's code has no update path, and a
mistake that adds one fails loudly. DELETE stays possible for the prune.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 07:30:00
"""

import sqlalchemy as sa
from alembic import op

from hub.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TABLES = ("audit", "audit_numbers", "audit_seqs")
_MESSAGE = "audit rows are append-only"


def upgrade():
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("numbers", sa.Text(), nullable=False),
        sa.Column("ids", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_index(op.f("ix_audit_at"), "audit", ["at"], unique=False)
    op.create_index("ix_audit_partner_id", "audit", ["partner", "id"], unique=False)
    op.create_table(
        "audit_numbers",
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("audit_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("number", "audit_id", name=op.f("pk_audit_numbers")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_audit_numbers_audit_id"), "audit_numbers", ["audit_id"], unique=False)
    op.create_table(
        "audit_seqs",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("audit_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("seq", "audit_id", name=op.f("pk_audit_seqs")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_audit_seqs_audit_id"), "audit_seqs", ["audit_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_refuse_update() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{_MESSAGE}'; END $$"
        )
        for table in _TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_update()"
            )
    else:
        for table in _TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_update()")
    op.drop_index(op.f("ix_audit_seqs_audit_id"), table_name="audit_seqs")
    op.drop_table("audit_seqs")
    op.drop_index(op.f("ix_audit_numbers_audit_id"), table_name="audit_numbers")
    op.drop_table("audit_numbers")
    op.drop_index("ix_audit_partner_id", table_name="audit")
    op.drop_index(op.f("ix_audit_at"), table_name="audit")
    op.drop_table("audit")
    op.execute("DELETE FROM counters WHERE name = 'audit'")
