"""suppression entries of people deleted on request

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("customer_hash", sa.String(length=64), nullable=True),
        sa.Column("email_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("line_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_suppressions_created_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_suppressions"),
    )
    with op.batch_alter_table("suppressions") as batch:
        batch.create_index("ix_suppressions_email_hash", ["email_hash"])
        batch.create_index("ix_suppressions_phone_hash", ["phone_hash"])
        batch.create_index("ix_suppressions_line_hash", ["line_hash"])


def downgrade() -> None:
    op.drop_table("suppressions")
