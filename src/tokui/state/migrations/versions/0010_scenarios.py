"""scenarios: definitions, versions, enrollments, journal, grants

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("trigger_checked_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scenarios"),
        sa.UniqueConstraint("key", name="uq_scenarios_key"),
    )
    op.create_table(
        "scenario_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["scenario_id"], ["scenarios.id"], name="fk_scenario_versions_scenario_id_scenarios"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_scenario_versions_created_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scenario_versions"),
        sa.UniqueConstraint("scenario_id", "version", name="uq_scenario_versions_scenario_id"),
    )
    op.create_table(
        "scenario_enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("occurrence", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("step_id", sa.String(length=32), nullable=True),
        sa.Column("step_started_at", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("arm", sa.String(length=32), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name="fk_scenario_enrollments_scenario_id_scenarios",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["scenario_versions.id"],
            name="fk_scenario_enrollments_version_id_scenario_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scenario_enrollments"),
        sa.UniqueConstraint(
            "scenario_id",
            "customer_id",
            "occurrence",
            name="uq_scenario_enrollments_scenario_id",
        ),
    )
    op.create_index("ix_scenario_enrollments_due", "scenario_enrollments", ["status", "due_at"])
    op.create_table(
        "scenario_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["scenario_enrollments.id"],
            name="fk_scenario_journal_enrollment_id_scenario_enrollments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scenario_journal"),
    )
    op.create_index("ix_scenario_journal_enrollment_id", "scenario_journal", ["enrollment_id"])
    op.create_table(
        "scenario_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("coupon_id", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("tag", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("exported_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["scenario_enrollments.id"],
            name="fk_scenario_grants_enrollment_id_scenario_enrollments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scenario_grants"),
        sa.UniqueConstraint("idempotency_key", name="uq_scenario_grants_idempotency_key"),
        sa.UniqueConstraint("code", name="uq_scenario_grants_code"),
    )
    op.create_index("ix_scenario_grants_customer_id", "scenario_grants", ["customer_id"])


def downgrade() -> None:
    op.drop_table("scenario_grants")
    op.drop_table("scenario_journal")
    op.drop_table("scenario_enrollments")
    op.drop_table("scenario_versions")
    op.drop_table("scenarios")
