"""the console's open-assignment reads: ix_assignments_acted_at holds acted assignments only

The console counts and lists what is open now (``acted_at IS NULL``) through
the partial indexes of 0011. SQLite's planner never took them while
``ix_assignments_acted_at`` also held the open rows: its statistics average
the rows per ``acted_at`` value over every distinct time, so ``acted_at IS
NULL`` looked like a one-row equality, and each open assignment was read
from that index and then from the table, sorted whole for the overdue page
(tests/test_console_plans.py pins the plans; bench/console_pages.py
measures them). Every other reader of ``acted_at`` asks for a range or a
comparison (the reports' periods, attestations), which implies ``IS NOT
NULL``, so the index keeps the acted rows only: the same answers from a
smaller index, and open assignments read from the indexes made for them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ACTED = sa.text("acted_at IS NOT NULL")


def upgrade():
    op.drop_index("ix_assignments_acted_at", table_name="assignments")
    op.create_index(
        "ix_assignments_acted_at",
        "assignments",
        ["acted_at"],
        unique=False,
        sqlite_where=_ACTED,
        postgresql_where=_ACTED,
    )


def downgrade():
    op.drop_index("ix_assignments_acted_at", table_name="assignments")
    op.create_index("ix_assignments_acted_at", "assignments", ["acted_at"], unique=False)
