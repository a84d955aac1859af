"""SQLAlchemy models of the state DB. Every change to them comes with an Alembic migration."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, MetaData, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints so migrations are reproducible on SQLite (batch mode) and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Role(StrEnum):
    """What each role may do; each role includes the ones below it."""

    admin = "admin"  # users, credentials, settings
    marketer = "marketer"  # segments, scenarios, messages, sends
    analyst = "analyst"  # run and export analyses, build segments drafts
    viewer = "viewer"  # read dashboards
    # Outside the ladder: the call list (/calls) and nothing else, not even dashboards;
    # marketers and admins may see the call list too.
    call_center = "call_center"

    @property
    def level(self) -> int:
        return ROLE_LEVELS[self]

    def allows(self, required: Role) -> bool:
        if required is Role.call_center:
            return self is Role.call_center or self.level >= ROLE_LEVELS[Role.marketer]
        if self is Role.call_center:
            return False
        return self.level >= required.level


ROLE_LEVELS = {
    Role.call_center: -1,
    Role.viewer: 0,
    Role.analyst: 1,
    Role.marketer: 2,
    Role.admin: 3,
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(5), nullable=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class AuditLog(Base):
    """Who changed what, for every state-changing action."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class RefreshRun(Base):
    """One run of the refresh pipeline, step by step."""

    __tablename__ = "refresh_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class SavedSegment(Base):
    """A marketer's segment definition (the DSL tree as JSON), versioned on each edit."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ImportRun(Base):
    """One file import: what came in, with which profile, and what it changed."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    file_name: Mapped[str] = mapped_column(String(500))
    profile: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    counts: Mapped[str] = mapped_column(Text)  # JSON: table -> inserted/updated/...
    errors: Mapped[str] = mapped_column(Text)  # JSON: {"total": n, "items": first 100}
