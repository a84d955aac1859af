"""The privacy audit trail: who deleted which customer, when and why."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tokui.privacy.erase import AUDIT_ACTION
from tokui.state.models import AuditLog, User
from tokui.state.suppressions import Suppression


def erasure_log(db: Session, limit: int = 200) -> list[dict[str, Any]]:
    """Deletions newest first, with the acting user (None: the command line)."""
    rows = db.execute(
        select(AuditLog, User.email, User.display_name)
        .outerjoin(User, User.id == AuditLog.user_id)
        .where(AuditLog.action == AUDIT_ACTION)
        .order_by(AuditLog.id.desc())
        .limit(limit)
    ).all()
    out = []
    for entry, email, name in rows:
        detail = json.loads(entry.detail or "{}")
        out.append(
            {
                "at": entry.at,
                "customer_id": entry.target,
                "user_email": email,
                "user_name": name,
                "via": detail.get("via"),
                "reason": detail.get("reason"),
                "rows": sum(detail.get("rows", {}).values()),
                "suppression_id": detail.get("suppression_id"),
            }
        )
    return out


def suppression_count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(Suppression)) or 0)
