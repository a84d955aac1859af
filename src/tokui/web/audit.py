"""Audit log entries written by the web app."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tokui.clock import utc_naive
from tokui.state.db import session_scope
from tokui.state.models import AuditLog
from tokui.web.context import WebContext

# The column is 200 wide and some targets (a typed email) come from the visitor.
TARGET_LIMIT = 200


def add_entry(
    db: Session,
    ctx: WebContext,
    user_id: int | None,
    action: str,
    target: str | None,
    detail: str | None = None,
) -> None:
    db.add(
        AuditLog(
            at=utc_naive(ctx.clock.now()),
            user_id=user_id,
            action=action,
            target=target[:TARGET_LIMIT] if target is not None else None,
            detail=detail,
        )
    )


def record(
    ctx: WebContext,
    user_id: int | None,
    action: str,
    target: str | None,
    detail: str | None = None,
) -> None:
    """Write one entry in its own transaction."""
    with session_scope(ctx.ws.sessions) as db:
        add_entry(db, ctx, user_id, action, target, detail)
