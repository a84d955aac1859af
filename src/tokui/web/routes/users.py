"""Users and roles, for admins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tokui.state.db import session_scope
from tokui.state.models import Role, User
from tokui.state.users import UserError, create_user, list_users
from tokui.web import audit
from tokui.web.auth import require
from tokui.web.context import web_context
from tokui.web.templating import render

router = APIRouter()

# A message key and its values, shown above the form.
FormError = tuple[str, Mapping[str, object]]

Admin = Annotated[User, require(Role.admin)]

# Stricter than the CLI's floor: web-created accounts get a password typed by an admin
# who may hand it over in a message, so it should resist guessing for longer.
WEB_MIN_PASSWORD_LENGTH = 12
MAX_DISPLAY_NAME = 200


@router.get("/settings/users")
def users_page(request: Request, admin: Admin, created: str | None = None) -> Response:
    return _page(request, created=created)


@router.post("/settings/users")
def create_user_form(
    request: Request,
    admin: Admin,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    ctx = web_context(request)
    form = {"email": email, "display_name": display_name, "role": role}
    if role not in {r.value for r in Role}:
        return _page(request, form=form, error=("users.error.role", {}), status_code=400)
    if len(password) < WEB_MIN_PASSWORD_LENGTH:
        error: FormError = ("users.error.password", {"n": WEB_MIN_PASSWORD_LENGTH})
        return _page(request, form=form, error=error, status_code=400)
    if len(display_name.strip()) > MAX_DISPLAY_NAME:
        return _page(request, form=form, error=("users.error.display_name", {}), status_code=400)
    try:
        with session_scope(ctx.ws.sessions) as db:
            user = create_user(db, email, password, Role(role), display_name.strip() or None)
            audit.add_entry(db, ctx, admin.id, "user.create", user.email, f"role={role}")
            new_email = user.email
    except UserError as exc:
        error = ("users.error.invalid", {"reason": str(exc)})
        return _page(request, form=form, error=error, status_code=400)
    # Post/redirect/get, so a reload does not post the form again.
    return RedirectResponse("/settings/users?created=" + quote(new_email, safe=""), status_code=303)


def _page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    error: FormError | None = None,
    created: str | None = None,
    status_code: int = 200,
) -> Response:
    with session_scope(web_context(request).ws.sessions) as db:
        users = list_users(db)
    return render(
        request,
        "users.html",
        {
            "users": users,
            "roles": list(Role),
            "form": form or {"email": "", "display_name": "", "role": Role.viewer.value},
            "error": error,
            "created": created,
            "min_password": WEB_MIN_PASSWORD_LENGTH,
        },
        status_code=status_code,
    )
