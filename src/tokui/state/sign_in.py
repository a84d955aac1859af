"""Sign-in security state shared by every web process: failed logins and ended sessions.

In the state DB rather than in memory, so that several web processes behind a balancer
(docs/deploy.md) see the same counters and the same logouts, and a restart forgets
neither (tokui.web.auth).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tokui.state.models import Base


class LoginFailure(Base):
    """One failed sign-in, counted under a key: "email:<address>" or "addr:<client>"."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(DateTime, index=True)


class RevokedSession(Base):
    """The nonce of a session ended by logout, kept until its cookie would expire anyway."""

    __tablename__ = "revoked_sessions"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    until: Mapped[datetime] = mapped_column(DateTime, index=True)
