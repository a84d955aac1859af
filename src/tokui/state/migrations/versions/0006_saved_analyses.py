"""analyses saved to the dashboard

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_saved_analyses_owner_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_saved_analyses"),
    )
    with op.batch_alter_table("saved_analyses") as batch:
        batch.create_index("ix_saved_analyses_position", ["position"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("saved_analyses") as batch:
        batch.drop_index("ix_saved_analyses_position")
    op.drop_table("saved_analyses")
