"""The privacy audit trail page, for admins."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tokui.privacy.audit import erasure_log, suppression_count
from tokui.state.db import session_scope
from tokui.state.models import Role, User
from tokui.web.auth import require
from tokui.web.context import web_context
from tokui.web.templating import render

router = APIRouter()

Admin = Annotated[User, require(Role.admin)]


@router.get("/settings/privacy")
def privacy_page(request: Request, admin: Admin) -> Response:
    ctx = web_context(request)
    tz = ZoneInfo(ctx.ws.settings.timezone)
    with session_scope(ctx.ws.sessions) as db:
        entries = erasure_log(db)
        suppressed = suppression_count(db)
    for e in entries:
        e["at_local"] = e["at"].replace(tzinfo=UTC).astimezone(tz)
    return render(request, "privacy.html", {"entries": entries, "suppressed": suppressed})
