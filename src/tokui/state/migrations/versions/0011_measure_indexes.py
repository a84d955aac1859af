"""measurement: find a message's journal entry, and events by kind and time

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Attribution maps each message (outbox id) back to its scenario and step through
    # the journal; KPIs and attribution read events of one kind over a period.
    op.create_index("ix_scenario_journal_outbox_id", "scenario_journal", ["outbox_id"])
    op.create_index("ix_message_event_log_event_at", "message_event_log", ["event", "at"])


def downgrade() -> None:
    op.drop_index("ix_message_event_log_event_at", table_name="message_event_log")
    op.drop_index("ix_scenario_journal_outbox_id", table_name="scenario_journal")
