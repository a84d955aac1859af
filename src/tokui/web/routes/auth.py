"""Sign-in and sign-out."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tokui.clock import utc_naive
from tokui.state.db import session_scope
from tokui.state.models import Role
from tokui.state.users import authenticate
from tokui.web import audit
from tokui.web.auth import (
    client_address,
    end_session,
    optional_user,
    safe_next,
    start_session,
)
from tokui.web.context import web_context
from tokui.web.templating import render

router = APIRouter()


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    target = safe_next(next)
    if optional_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    return render(request, "login.html", {"next": target, "email": "", "error": None})


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    ctx = web_context(request)
    now = ctx.clock.now()
    target = safe_next(next)
    address = client_address(request)
    email = email.strip().lower()[:320]
    detail = f"address={address}"
    wait = ctx.throttle.locked_for(email, address, now)
    if wait is not None:
        audit.record(ctx, None, "login.locked", email, detail)
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        return render(
            request,
            "login.html",
            {"next": target, "email": email, "error": ("auth.locked", {"minutes": minutes})},
            status_code=429,
        )
    with session_scope(ctx.ws.sessions) as db:
        user = authenticate(db, email, password, utc_naive(now))
        if user is None:
            audit.add_entry(db, ctx, None, "login.failure", email, detail)
        else:
            audit.add_entry(db, ctx, user.id, "login.success", user.email, detail)
    if user is None:
        ctx.throttle.record_failure(email, address, now)
        # One message for unknown email, wrong password and disabled account alike.
        return render(
            request,
            "login.html",
            {"next": target, "email": email, "error": ("auth.failed", {})},
            status_code=400,
        )
    ctx.throttle.record_success(email)
    start_session(request, user, now)
    if user.role_enum is Role.call_center and target == "/":
        target = "/calls"  # the only page this role may see
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    ctx = web_context(request)
    user = optional_user(request)
    if user is not None:
        audit.record(ctx, user.id, "logout", user.email)
    end_session(request, ctx)
    return RedirectResponse("/login", status_code=303)
