"""Analyses saved to the dashboard: a template, its parameters as typed, a title."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tokui.state.models import Base

TITLE_LENGTH = 200
TEMPLATE_ID_LENGTH = 100


class SavedAnalysis(Base):
    """One card on the dashboard.

    `params` is a JSON object of the parameters as text, exactly as the form sent them;
    it is checked against the template every time it is loaded, because the template may
    have changed since (tokui.analytics.saved).
    """

    __tablename__ = "saved_analyses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[str] = mapped_column(String(TEMPLATE_ID_LENGTH))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    params: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
