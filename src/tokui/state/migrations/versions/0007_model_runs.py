"""model runs (predictive models: data window, parameters, metrics)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("data_from", sa.Date(), nullable=True),
        sa.Column("data_to", sa.Date(), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_model_runs"),
    )
    with op.batch_alter_table("model_runs") as batch:
        batch.create_index("ix_model_runs_model", ["model"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("model_runs") as batch:
        batch.drop_index("ix_model_runs_model")
    op.drop_table("model_runs")
