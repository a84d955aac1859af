"""Configured analyses saved to the dashboard, checked against their template on load.

A saved analysis keeps the parameters as the form sent them (text), not as resolved
values: "as of: empty" must keep meaning "the last order date" on every later day. The
template may change or disappear after saving, so every load resolves the parameters
again and reports a mismatch as an error on the card instead of failing the dashboard.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tokui.analytics.registry import ParamError, Template, get
from tokui.state.models import AuditLog
from tokui.state.saved_analyses import TITLE_LENGTH, SavedAnalysis

# A dashboard is read by everyone at once; this many cards is already a long page.
MAX_SAVED = 50


class SavedAnalysisError(ValueError):
    """A saved analysis that cannot be created, found or moved."""


@dataclass(frozen=True)
class LoadedAnalysis:
    id: int
    title: str
    template_id: str
    position: int
    owner_id: int | None
    raw: dict[str, str]
    template: Template | None
    error: str | None


def clean_params(template: Template, raw: Mapping[str, str]) -> dict[str, str]:
    """The non-empty parameters, after checking that they resolve (ParamError if not)."""
    kept = {k: v.strip() for k, v in raw.items() if v is not None and v.strip() != ""}
    template.resolve(kept)
    return dict(sorted(kept.items()))


def add(
    session: Session,
    template: Template,
    raw: Mapping[str, str],
    title: str,
    owner_id: int | None,
    now: datetime,
) -> SavedAnalysis:
    title = " ".join(title.split())
    if not title:
        raise SavedAnalysisError("title: must not be empty")
    if len(title) > TITLE_LENGTH:
        raise SavedAnalysisError(f"title: at most {TITLE_LENGTH} characters")
    params = clean_params(template, raw)
    count = session.scalar(select(func.count()).select_from(SavedAnalysis)) or 0
    if count >= MAX_SAVED:
        raise SavedAnalysisError(f"the dashboard holds at most {MAX_SAVED} analyses")
    last = session.scalar(select(func.max(SavedAnalysis.position)))
    row = SavedAnalysis(
        template_id=template.id,
        title=title,
        params=json.dumps(params, ensure_ascii=False, sort_keys=True),
        owner_id=owner_id,
        position=(last or 0) + 1,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    session.add(
        AuditLog(at=now, user_id=owner_id, action="analysis.save", target=str(row.id), detail=title)
    )
    return row


def load(row: SavedAnalysis) -> LoadedAnalysis:
    template: Template | None = None
    raw: dict[str, str] = {}
    error: str | None = None
    try:
        data = json.loads(row.params)
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise ParamError("parameters are not an object of text values")
        raw = data
        template = get(row.template_id)
        template.resolve(raw)
    except (ParamError, json.JSONDecodeError) as exc:
        error = str(exc)
    return LoadedAnalysis(
        id=row.id,
        title=row.title,
        template_id=row.template_id,
        position=row.position,
        owner_id=row.owner_id,
        raw=raw,
        template=template,
        error=error,
    )


def list_saved(session: Session) -> list[LoadedAnalysis]:
    rows = session.scalars(select(SavedAnalysis).order_by(SavedAnalysis.position, SavedAnalysis.id))
    return [load(r) for r in rows]


def _row(session: Session, saved_id: int) -> SavedAnalysis:
    row = session.get(SavedAnalysis, saved_id)
    if row is None:
        raise SavedAnalysisError(f"no saved analysis {saved_id}")
    return row


def remove(session: Session, saved_id: int, user_id: int | None, now: datetime) -> None:
    row = _row(session, saved_id)
    session.delete(row)
    session.add(
        AuditLog(
            at=now,
            user_id=user_id,
            action="analysis.remove",
            target=str(saved_id),
            detail=row.title,
        )
    )


def move(
    session: Session, saved_id: int, direction: str, user_id: int | None, now: datetime
) -> None:
    """Swap the card with its neighbour above ("up") or below ("down"); at an end, no-op."""
    if direction not in ("up", "down"):
        raise SavedAnalysisError(f"direction: {direction!r} is not up or down")
    rows = list(
        session.scalars(select(SavedAnalysis).order_by(SavedAnalysis.position, SavedAnalysis.id))
    )
    index = next((i for i, r in enumerate(rows) if r.id == saved_id), None)
    if index is None:
        raise SavedAnalysisError(f"no saved analysis {saved_id}")
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return
    # Renumber all, so equal positions left by concurrent saves cannot make a swap a no-op.
    rows[index], rows[other] = rows[other], rows[index]
    for position, r in enumerate(rows, start=1):
        if r.position != position:
            r.position = position
            r.updated_at = now
    session.add(
        AuditLog(
            at=now, user_id=user_id, action="analysis.move", target=str(saved_id), detail=direction
        )
    )
