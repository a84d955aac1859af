"""channels: switches, LINE links, push devices, postal DM batches, call tasks

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_switches",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name="fk_channel_switches_updated_by_users"
        ),
        sa.PrimaryKeyConstraint("channel", name="pk_channel_switches"),
    )
    op.create_table(
        "line_links",
        sa.Column("line_user_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("line_user_id", name="pk_line_links"),
    )
    with op.batch_alter_table("line_links") as batch:
        batch.create_index("ix_line_links_customer_id", ["customer_id"], unique=False)
    op.create_table(
        "push_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("token", sa.String(length=4096), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deactivated_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_push_devices"),
        sa.UniqueConstraint("token_hash", name="uq_push_devices_token_hash"),
    )
    with op.batch_alter_table("push_devices") as batch:
        batch.create_index("ix_push_devices_customer_id", ["customer_id"], unique=False)
    op.create_table(
        "dm_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("encoding", sa.String(length=20), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("excluded_count", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_dm_batches_created_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dm_batches"),
        sa.UniqueConstraint("key", name="uq_dm_batches_key"),
    )
    op.create_table(
        "dm_batch_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["dm_batches.id"], name="fk_dm_batch_items_batch_id_dm_batches"
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_dm_batch_items_outbox_id_outbox"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dm_batch_items"),
        sa.UniqueConstraint("outbox_id", name="uq_dm_batch_items_outbox_id"),
    )
    with op.batch_alter_table("dm_batch_items") as batch:
        batch.create_index("ix_dm_batch_items_batch_id", ["batch_id"], unique=False)
    op.create_table(
        "call_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("outcome_by", sa.Integer(), nullable=True),
        sa.Column("outcome_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_call_tasks_outbox_id_outbox"
        ),
        sa.ForeignKeyConstraint(
            ["outcome_by"], ["users.id"], name="fk_call_tasks_outcome_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_call_tasks"),
        sa.UniqueConstraint("outbox_id", name="uq_call_tasks_outbox_id"),
    )
    with op.batch_alter_table("call_tasks") as batch:
        batch.create_index("ix_call_tasks_customer_id", ["customer_id"], unique=False)


def downgrade() -> None:
    op.drop_table("call_tasks")
    op.drop_table("dm_batch_items")
    op.drop_table("dm_batches")
    op.drop_table("push_devices")
    op.drop_table("line_links")
    op.drop_table("channel_switches")
