"""Suppression entries: people deleted on request, kept only as keyed hashes.

After an erasure the clear email, phone and LINE id are gone from every store. What
remains is an HMAC of each (keyed with the workspace secret), so the same person can be
recognised when a later import or API call brings them back, and never messaged again,
while the table alone cannot be reversed into contact data by dictionary guessing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tokui.state.models import Base

HASH_LENGTH = 64  # hex SHA-256


class Suppression(Base):
    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    # Which path wrote it: "erasure" (delete on request) for now.
    source: Mapped[str] = mapped_column(String(30))
    customer_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH), nullable=True)
    email_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH), nullable=True, index=True)
    phone_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH), nullable=True, index=True)
    line_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH), nullable=True, index=True)
