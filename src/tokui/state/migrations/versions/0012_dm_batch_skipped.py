"""postal DM batches list the messages they left out, with why

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch_alter_table: SQLite cannot ALTER a column in place; adding one it can, and
    # the batch form does the right thing on both.
    with op.batch_alter_table("dm_batches") as batch:
        batch.add_column(sa.Column("skipped", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("dm_batches") as batch:
        batch.drop_column("skipped")
