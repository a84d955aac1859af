"""API sources (keys of the ingestion API and the tracking snippet)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("allowed_origins", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_sources"),
        sa.UniqueConstraint("name", name="uq_api_sources_name"),
    )
    with op.batch_alter_table("api_sources") as batch:
        batch.create_index("ix_api_sources_key_prefix", ["key_prefix"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_sources") as batch:
        batch.drop_index("ix_api_sources_key_prefix")
    op.drop_table("api_sources")
