"""Saved segments in the state DB, beside the shipped library."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.segments.compile import SegmentError
from tokui.segments.dsl import SegmentDefinition
from tokui.segments.library import library
from tokui.state.models import AuditLog, SavedSegment


def saved(session: Session) -> dict[str, SegmentDefinition]:
    rows = session.scalars(
        select(SavedSegment).where(SavedSegment.is_active).order_by(SavedSegment.key)
    )
    return {r.key: SegmentDefinition.model_validate_json(r.definition) for r in rows}


def all_definitions(session: Session) -> dict[str, SegmentDefinition]:
    """The library, overridden by saved segments of the same key."""
    return {**library(), **saved(session)}


def save(
    session: Session, definition: SegmentDefinition, now: datetime, user_id: int | None = None
) -> SavedSegment:
    """Create or update (a new version of) a saved segment, with an audit entry."""
    row = session.scalar(select(SavedSegment).where(SavedSegment.key == definition.key))
    payload = definition.model_dump_json()
    if row is None:
        row = SavedSegment(
            key=definition.key,
            name_ja=definition.name_ja,
            name_en=definition.name_en,
            description=definition.description,
            definition=payload,
            version=1,
            is_active=True,
            created_by=user_id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        action = "segment.create"
    else:
        if row.definition == payload and row.is_active:
            return row
        row.name_ja, row.name_en = definition.name_ja, definition.name_en
        row.description = definition.description
        row.definition = payload
        row.version += 1
        row.is_active = True
        row.updated_at = now
        action = "segment.update"
    session.add(AuditLog(at=now, user_id=user_id, action=action, target=definition.key))
    session.flush()
    return row


def archive(session: Session, key: str, now: datetime, user_id: int | None = None) -> None:
    row = session.scalar(select(SavedSegment).where(SavedSegment.key == key))
    if row is None:
        raise SegmentError(f"no saved segment {key!r}")
    row.is_active = False
    row.updated_at = now
    session.add(AuditLog(at=now, user_id=user_id, action="segment.archive", target=key))
