"""scenario engine: due enrollments in claim order straight from the index

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A tick claims due enrollments ORDER BY due_at, id LIMIT n. Without id in the index,
    # PostgreSQL sorts every due row for each batch (a broadcast: a million rows sharing
    # one due_at, sorted again for each of its batches); SQLite's index carries the rowid
    # already, so only PostgreSQL gains, but both keep one definition.
    op.drop_index("ix_scenario_enrollments_due", table_name="scenario_enrollments")
    op.create_index(
        "ix_scenario_enrollments_due", "scenario_enrollments", ["status", "due_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_scenario_enrollments_due", table_name="scenario_enrollments")
    op.create_index("ix_scenario_enrollments_due", "scenario_enrollments", ["status", "due_at"])
