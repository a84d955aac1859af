"""Customer search, the customer 360 page, and deletion on request (admins)."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tokui.clock import local_today, utc_naive
from tokui.customers.masking import mask_email, mask_phone
from tokui.customers.profile import ORDERS_LIMIT, WEB_LIMIT, customer_360
from tokui.customers.search import (
    SORTS,
    CustomerQuery,
    SearchInputError,
    search_customers,
)
from tokui.privacy import CustomerNotFoundError, delete_customer
from tokui.privacy.erase import MAX_REASON, ErasureInputError, check_customer_id
from tokui.state.models import Role, User
from tokui.web.auth import require
from tokui.web.context import web_context
from tokui.web.templating import render

router = APIRouter()

Viewer = Annotated[User, require(Role.viewer)]
Admin = Annotated[User, require(Role.admin)]


def masks_contacts(user: User) -> bool:
    """Viewers recognise customers on screen but do not get their contact details."""
    return user.role_enum is Role.viewer


def _masked(row: dict[str, Any], user: User) -> dict[str, Any]:
    if masks_contacts(user):
        row = dict(row, email=mask_email(row.get("email")), phone=mask_phone(row.get("phone")))
    return row


def _url(query: CustomerQuery, **changes: object) -> str:
    values = {"q": query.text, "sort": query.sort, "dir": query.direction, "page": query.page}
    values.update(changes)
    return "/customers?" + urlencode({k: v for k, v in values.items() if v not in ("", None)})


@router.get("/customers")
def customers_page(
    request: Request,
    user: Viewer,
    q: str | None = None,
    sort: str | None = None,
    dir: str | None = None,
    page: str | None = None,
    deleted: str | None = None,
) -> Response:
    ctx = web_context(request)
    try:
        query = CustomerQuery.parse(q, sort, dir, page)
    except SearchInputError as exc:
        return render(
            request,
            "customers.html",
            {"query": CustomerQuery(), "result": None, "bad_field": exc.field, "deleted": None},
            status_code=400,
        )
    with ctx.warehouse_lock:
        result = search_customers(ctx.ws.warehouse, query)
    result.rows = [_masked(r, user) for r in result.rows]
    tz = ZoneInfo(ctx.ws.settings.timezone)
    for row in result.rows:
        if row.get("registered_at") is not None:
            row["registered_local"] = row["registered_at"].replace(tzinfo=UTC).astimezone(tz)
    sort_links = {
        key: _url(
            query,
            sort=key,
            dir="desc" if query.sort == key and query.direction == "asc" else "asc",
            page=1,
        )
        for key in SORTS
    }
    return render(
        request,
        "customers.html",
        {
            "query": query,
            "result": result,
            "bad_field": None,
            "sort_links": sort_links,
            "prev_url": _url(query, page=query.page - 1) if query.page > 1 else None,
            "next_url": _url(query, page=query.page + 1) if query.page < result.pages else None,
            "deleted": deleted,
            "quote": _quote,
        },
    )


def _quote(value: str) -> str:
    return quote(value, safe="")


def _customer_id(raw: str) -> str:
    try:
        return check_customer_id(raw)
    except ErasureInputError:
        raise HTTPException(status_code=404) from None


@router.get("/customers/{customer_id}")
def customer_page(request: Request, user: Viewer, customer_id: str) -> Response:
    ctx = web_context(request)
    cid = _customer_id(customer_id)
    tz = ZoneInfo(ctx.ws.settings.timezone)
    with ctx.warehouse_lock:
        view = customer_360(ctx.ws.warehouse, cid, local_today(ctx.clock, tz), tz)
    if view is None:
        raise HTTPException(status_code=404)
    view.customer = _masked(view.customer, user)
    return render(
        request,
        "customer.html",
        {
            "view": view,
            "c": view.customer,
            "masked": masks_contacts(user),
            "orders_limit": ORDERS_LIMIT,
            "web_limit": WEB_LIMIT,
            "quote": _quote,
        },
    )


@router.get("/customers/{customer_id}/delete")
def delete_form(request: Request, admin: Admin, customer_id: str) -> Response:
    cid = _customer_id(customer_id)
    return _delete_page(request, cid)


def _delete_page(
    request: Request,
    cid: str,
    error: str | None = None,
    reason: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "customer_delete.html",
        {
            "cid": cid,
            "error": error,
            "reason": reason,
            "max_reason": MAX_REASON,
            "quote": _quote,
        },
        status_code=status_code,
    )


@router.post("/customers/{customer_id}/delete")
def delete_submit(
    request: Request,
    admin: Admin,
    customer_id: str,
    confirm_id: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    ctx = web_context(request)
    cid = _customer_id(customer_id)
    if confirm_id.strip() != cid:
        return _delete_page(request, cid, "privacy.error.confirm", reason, 400)
    if not reason.strip() or len(reason.strip()) > MAX_REASON:
        return _delete_page(request, cid, "privacy.error.reason", reason, 400)
    try:
        delete_customer(
            ctx.ws.warehouse,
            ctx.ws.sessions,
            ctx.ws.settings.secret_key,
            cid,
            reason,
            actor_id=admin.id,
            at=utc_naive(ctx.clock.now()),
            via="web",
            lock=ctx.warehouse_lock,
        )
    except CustomerNotFoundError:
        return _delete_page(request, cid, "privacy.error.not_found", reason, 404)
    return RedirectResponse("/customers?deleted=" + _quote(cid), status_code=303)
