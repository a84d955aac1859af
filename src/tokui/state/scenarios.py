"""Scenario state: definitions and their versions, per-customer enrollments, the journal
of steps taken, and the points, coupons and tags the scenarios granted.

An enrollment is pinned to the version it entered on, so editing a live scenario (a new
version) never changes the path of customers already on their way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tokui.state.models import Base


class Scenario(Base):
    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # draft | enabled | paused
    current_version: Mapped[int] = mapped_column(Integer)
    # Triggers are evaluated for (trigger_checked_at, now]: enabling never backfills.
    trigger_checked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ScenarioVersion(Base):
    __tablename__ = "scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[str] = mapped_column(Text)  # JSON of ScenarioDefinition
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class Enrollment(Base):
    __tablename__ = "scenario_enrollments"
    __table_args__ = (
        UniqueConstraint("scenario_id", "customer_id", "occurrence"),
        # Claim order (tokui.scenarios.engine): due_at, then id.
        Index("ix_scenario_enrollments_due", "status", "due_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("scenario_versions.id"))
    customer_id: Mapped[str] = mapped_column(String(64))
    occurrence: Mapped[str] = mapped_column(String(80))
    # active | converted | completed | holdout | stopped
    status: Mapped[str] = mapped_column(String(20))
    step_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    step_started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    arm: Mapped[str | None] = mapped_column(String(32), nullable=True)
    entered_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")


class JourneyEntry(Base):
    """What happened at each step: sent, held (quiet hours, cap), skipped (no consent)..."""

    __tablename__ = "scenario_journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("scenario_enrollments.id"), index=True)
    step_id: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(String(300), default="")
    outbox_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(DateTime)


class Grant(Base):
    """Points, a coupon or a tag given by a scenario: records the shop's cart must honour."""

    __tablename__ = "scenario_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("scenario_enrollments.id"))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # points | coupon | tag_add | tag_remove
    points: Mapped[int | None] = mapped_column(Integer, nullable=True)
    coupon_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    tag: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    exported_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
