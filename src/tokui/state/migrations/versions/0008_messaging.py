"""messaging: templates, outbox, sandbox inbox, contact suppressions, consent, events

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("is_marketing", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_message_templates_created_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_message_templates"),
        sa.UniqueConstraint("key", name="uq_message_templates_key"),
    )
    op.create_table(
        "message_template_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("line_text", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["message_templates.id"],
            name="fk_message_template_versions_template_id_message_templates",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_message_template_versions_created_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_message_template_versions"),
        sa.UniqueConstraint("template_id", "version", name="uq_template_version"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("template_version_id", sa.Integer(), nullable=True),
        sa.Column("is_marketing", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("claim_token", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_message_id", sa.String(length=400), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["message_template_versions.id"],
            name="fk_outbox_template_version_id_message_template_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.create_index("ix_outbox_customer_id", ["customer_id"], unique=False)
        batch.create_index("ix_outbox_status_next", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "sandbox_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_sandbox_inbox_outbox_id_outbox"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_inbox"),
        sa.UniqueConstraint("outbox_id", name="uq_sandbox_inbox_outbox_id"),
    )
    op.create_table(
        "contact_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_contact_suppressions_outbox_id_outbox"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contact_suppressions"),
        sa.UniqueConstraint("channel", "address", name="uq_contact_suppression"),
    )
    op.create_table(
        "consent_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_consent_log_outbox_id_outbox"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name="fk_consent_log_recorded_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_consent_log"),
    )
    with op.batch_alter_table("consent_log") as batch:
        batch.create_index(
            "ix_consent_log_customer_channel", ["customer_id", "channel"], unique=False
        )
    op.create_table(
        "message_event_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name="fk_message_event_log_outbox_id_outbox"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_message_event_log"),
    )
    with op.batch_alter_table("message_event_log") as batch:
        batch.create_index("ix_message_event_log_outbox_id", ["outbox_id"], unique=False)


def downgrade() -> None:
    op.drop_table("message_event_log")
    op.drop_table("consent_log")
    op.drop_table("contact_suppressions")
    op.drop_table("sandbox_inbox")
    op.drop_table("outbox")
    op.drop_table("message_template_versions")
    op.drop_table("message_templates")
