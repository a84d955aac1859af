"""/messages: templates with editor and preview, deliveries log, sandbox inbox,
suppression list. Analysts view; marketers edit and send.

Previews and captured messages are shown in an iframe with the `sandbox` attribute (no
allow-scripts, no allow-same-origin) whose document comes from a route with its own
CSP: no scripts at all, inline styles only (email HTML needs them), images over https.
Customer values are escaped by the template sandbox before they get there.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tokui.clock import utc_naive
from tokui.messaging.channel_test import PREVIEW_RECIPIENTS
from tokui.messaging.context import CustomerData
from tokui.messaging.outbox import LIST_FILTERS, Status, list_messages, requeue, status_counts
from tokui.messaging.service import Messaging, MessagingError, Recipient
from tokui.messaging.settings import MessagingSettingsError
from tokui.messaging.store import (
    TemplateDraft,
    TemplateStoreError,
    create_template,
    get_template,
    get_version,
    list_templates,
    list_versions,
    save_version,
    source_of,
)
from tokui.messaging.suppression import REASONS, lift, list_suppressions, suppress
from tokui.messaging.templates import TemplateRenderError
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage, SandboxInboxMessage
from tokui.state.models import Role, User
from tokui.web import audit
from tokui.web.auth import require
from tokui.web.context import web_context
from tokui.web.routes import tracking
from tokui.web.templating import render

router = APIRouter()
router.include_router(tracking.router)

Analyst = Annotated[User, require(Role.analyst)]
Marketer = Annotated[User, require(Role.marketer)]

FRAME_CSP = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src https: data:",
        "font-src https: data:",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "sandbox",
    ]
)
FRAME_HEADERS = {
    "content-security-policy": FRAME_CSP,
    "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "no-referrer",
}
PAGE_SIZE = 100


def _messaging(request: Request) -> Messaging:
    ctx = web_context(request)
    return Messaging(ctx.ws, ctx.clock)


def _frame(html: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status_code, headers=FRAME_HEADERS)


@router.get("/messages")
def messages_home(request: Request, user: Analyst) -> Response:
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        templates = list_templates(db)
        counts = status_counts(db)
    try:
        sandbox = _messaging(request).settings.sandbox
    except MessagingSettingsError:
        sandbox = None
    return render(
        request,
        "messages/index.html",
        {"templates": templates, "counts": counts, "statuses": list(Status), "sandbox": sandbox},
    )


@router.get("/messages/templates/new")
def new_template_page(request: Request, user: Marketer) -> Response:
    return _editor(request, None, _empty_form())


def _empty_form() -> dict[str, Any]:
    return {
        "key": "",
        "name": "",
        "channel": "email",
        "is_marketing": True,
        "subject": "",
        "html": "",
        "text": "",
        "line_text": "",
    }


@router.post("/messages/templates")
def create_template_form(
    request: Request,
    user: Marketer,
    key: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "email",
    is_marketing: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "",
    html: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    line_text: Annotated[str, Form()] = "",
) -> Response:
    ctx = web_context(request)
    form = {
        "key": key.strip(),
        "name": name,
        "channel": channel,
        "is_marketing": bool(is_marketing),
        "subject": subject,
        "html": html,
        "text": text,
        "line_text": line_text,
    }
    draft = TemplateDraft(name, subject, html, text or None, line_text or None)
    try:
        with session_scope(ctx.ws.sessions) as db:
            create_template(
                db,
                key=key.strip(),
                channel=channel,
                draft=draft,
                is_marketing=bool(is_marketing),
                at=utc_naive(ctx.clock.now()),
                user_id=user.id,
                check_context=_messaging(request).sample_context(),
            )
            audit.add_entry(db, ctx, user.id, "message_template.create", key.strip())
    except (TemplateStoreError, TemplateRenderError) as exc:
        return _editor(request, None, form, error=str(exc), status_code=400)
    return RedirectResponse(f"/messages/templates/{key.strip()}?saved=1", status_code=303)


@router.get("/messages/templates/{key}")
def template_page(
    request: Request,
    user: Analyst,
    key: str,
    saved: str = "",
    customer_id: str = "",
    queued: str = "",
) -> Response:
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        template = get_template(db, key)
        if template is None:
            return _not_found(request)
        version = get_version(db, template)
        versions = list_versions(db, template)
    form = {
        "key": template.key,
        "name": template.name,
        "channel": template.channel,
        "is_marketing": template.is_marketing,
        "subject": version.subject,
        "html": version.html,
        "text": version.text or "",
        "line_text": version.line_text or "",
    }
    return _editor(
        request,
        template,
        form,
        versions=versions,
        saved=bool(saved),
        customer_id=customer_id,
        queued=queued,
    )


@router.post("/messages/templates/{key}")
def save_template_form(
    request: Request,
    user: Marketer,
    key: str,
    name: Annotated[str, Form()] = "",
    subject: Annotated[str, Form()] = "",
    html: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    line_text: Annotated[str, Form()] = "",
) -> Response:
    ctx = web_context(request)
    draft = TemplateDraft(name, subject, html, text or None, line_text or None)
    try:
        with session_scope(ctx.ws.sessions) as db:
            template = get_template(db, key)
            if template is None:
                return _not_found(request)
            version = save_version(
                db,
                template,
                draft,
                at=utc_naive(ctx.clock.now()),
                user_id=user.id,
                check_context=_messaging(request).sample_context(),
            )
            audit.add_entry(db, ctx, user.id, "message_template.save", key, f"v{version.version}")
    except (TemplateStoreError, TemplateRenderError) as exc:
        with session_scope(ctx.ws.sessions) as db:
            template = get_template(db, key)
            versions = list_versions(db, template) if template else []
        form = {
            "key": key,
            "name": name,
            "channel": template.channel if template else "email",
            "is_marketing": template.is_marketing if template else True,
            "subject": subject,
            "html": html,
            "text": text,
            "line_text": line_text,
        }
        return _editor(request, template, form, versions=versions, error=str(exc), status_code=400)
    return RedirectResponse(f"/messages/templates/{key}?saved=1", status_code=303)


@router.get("/messages/templates/{key}/preview")
def template_preview(
    request: Request, user: Analyst, key: str, customer_id: str = "", version: int | None = None
) -> Response:
    """The rendered email alone, for the editor's sandboxed iframe."""
    ctx = web_context(request)
    messaging = _messaging(request)
    with session_scope(ctx.ws.sessions) as db:
        template = get_template(db, key)
        if template is None:
            return _frame("<p>not found</p>", 404)
        try:
            source = source_of(template, get_version(db, template, version))
        except TemplateStoreError as exc:
            return _frame(_error_html(str(exc)), 404)
    data: CustomerData
    if customer_id:
        with ctx.warehouse_lock:
            found = messaging.customers([customer_id]).get(customer_id)
        if found is None:
            return _frame(_error_html(f"no customer {customer_id!r}"), 404)
        data = found
    else:
        data = CustomerData(customer=dict(messaging.sample_context()["customer"]))
    recipient = Recipient(customer_id or None, data.customer.get("email") or "", data)
    try:
        if template.channel == "email":
            payload = messaging.render(
                source,
                "email",
                messaging.context_for(recipient),
                recipient.address or "preview@example.com",
                template.is_marketing,
            )
            return _frame(str(payload["html"]))
        from tokui.messaging.templates import render_part

        if template.channel == "line" and not source.text:
            line = render_part(source, "line_text", messaging.context_for(recipient))
            return _frame(_line_html(line))
        # Other channels (Flex, webhook, push, DM, call center): the payload as JSON.
        payload = messaging.render(
            source,
            template.channel,
            messaging.context_for(recipient),
            PREVIEW_RECIPIENTS.get(template.channel, customer_id or "preview"),
            template.is_marketing,
        )
        return _frame(_payload_html(payload))
    except (TemplateRenderError, MessagingError, ValueError) as exc:
        return _frame(_error_html(str(exc)), 422)


def _payload_html(payload: dict[str, Any]) -> str:
    from markupsafe import escape

    text = escape(json.dumps(payload, ensure_ascii=False, indent=2))
    return f'<pre style="font-family:monospace;white-space:pre-wrap;padding:12px;">{text}</pre>'


def _error_html(message: str) -> str:
    from markupsafe import escape

    return f'<div style="font-family:sans-serif;color:#a00;padding:12px;">{escape(message)}</div>'


def _line_html(text: str) -> str:
    from markupsafe import escape

    body = escape(text).replace("\n", "<br>")
    return (
        '<div style="font-family:sans-serif;background:#8cabd9;padding:16px;">'
        '<div style="background:#fff;border-radius:12px;padding:10px 14px;max-width:320px;">'
        f"{body}</div></div>"
    )


@router.post("/messages/templates/{key}/send-test")
async def send_test_form(
    request: Request,
    user: Marketer,
    key: str,
    to: Annotated[str, Form()] = "",
    customer_id: Annotated[str, Form()] = "",
) -> Response:
    ctx = web_context(request)
    messaging = _messaging(request)
    try:
        with ctx.warehouse_lock, session_scope(ctx.ws.sessions) as db:
            row = messaging.send_test(db, key, to.strip(), customer_id.strip() or None)
            audit.add_entry(db, ctx, user.id, "message.send_test", key, to.strip())
            row_id = row.id
    except (MessagingError, TemplateRenderError, ValueError) as exc:
        return RedirectResponse(f"/messages/deliveries?error={_q(str(exc))}", status_code=303)
    worker = messaging.worker()
    try:
        await worker.run_once(ids=[row_id])
    finally:
        await worker.aclose()
    return RedirectResponse(f"/messages/deliveries?sent={row_id}", status_code=303)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300], safe="")


@router.get("/messages/deliveries")
def deliveries_page(
    request: Request,
    user: Analyst,
    status: str = "",
    channel: str = "",
    customer_id: str = "",
    page: int = 1,
    sent: str = "",
    error: str = "",
) -> Response:
    ctx = web_context(request)
    filters = {"status": status, "channel": channel, "customer_id": customer_id}
    page = max(1, min(page, 10_000))
    problem = error or None
    rows: list[OutboxMessage] = []
    try:
        with session_scope(ctx.ws.sessions) as db:
            rows = list_messages(db, filters, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    except ValueError as exc:
        problem = str(exc)
    return render(
        request,
        "messages/deliveries.html",
        {
            "rows": rows[:PAGE_SIZE],
            "more": len(rows) > PAGE_SIZE,
            "page": page,
            "filters": filters,
            "filter_names": LIST_FILTERS,
            "statuses": list(Status),
            "sent": sent,
            "error": problem,
        },
    )


@router.post("/messages/deliveries/{message_id}/requeue")
def requeue_form(request: Request, user: Marketer, message_id: int) -> Response:
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        if requeue(db, message_id, utc_naive(ctx.clock.now())):
            audit.add_entry(db, ctx, user.id, "message.requeue", str(message_id))
    return RedirectResponse("/messages/deliveries", status_code=303)


@router.get("/messages/inbox")
def inbox_page(request: Request, user: Analyst) -> Response:
    from sqlalchemy import select

    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        items = list(
            db.scalars(
                select(SandboxInboxMessage).order_by(SandboxInboxMessage.id.desc()).limit(200)
            )
        )
    return render(request, "messages/inbox.html", {"items": items})


@router.get("/messages/inbox/{item_id}")
def inbox_message_page(request: Request, user: Analyst, item_id: int) -> Response:
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        item = db.get(SandboxInboxMessage, item_id)
    if item is None:
        return _not_found(request)
    return render(
        request,
        "messages/inbox_message.html",
        {"item": item, "headers": json.loads(item.headers or "{}")},
    )


@router.get("/messages/inbox/{item_id}/html")
def inbox_message_html(request: Request, user: Analyst, item_id: int) -> Response:
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        item = db.get(SandboxInboxMessage, item_id)
    if item is None:
        return _frame("<p>not found</p>", 404)
    return _frame(item.html or _line_html(item.text))


@router.get("/messages/suppressions")
def suppressions_page(
    request: Request, user: Analyst, channel: str = "", reason: str = ""
) -> Response:
    ctx = web_context(request)
    reason = reason if reason in REASONS else ""
    with session_scope(ctx.ws.sessions) as db:
        entries = list_suppressions(db, channel or None, reason or None)
    return render(
        request,
        "messages/suppressions.html",
        {"entries": entries, "reasons": REASONS, "filters": {"channel": channel, "reason": reason}},
    )


@router.post("/messages/suppressions")
def add_suppression_form(
    request: Request,
    user: Marketer,
    address: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "email",
) -> Response:
    ctx = web_context(request)
    address = address.strip()
    if channel not in ("email", "line") or not address or len(address) > 320:
        return RedirectResponse("/messages/suppressions", status_code=303)
    with session_scope(ctx.ws.sessions) as db:
        suppress(
            db,
            channel=channel,
            address_kind="email" if channel == "email" else "line",
            address=address,
            reason="manual",
            at=utc_naive(ctx.clock.now()),
            detail=f"added by user {user.id}",
        )
        audit.add_entry(db, ctx, user.id, "suppression.add", f"{channel}:{address}")
    return RedirectResponse("/messages/suppressions", status_code=303)


@router.post("/messages/suppressions/{entry_id}/lift")
def lift_suppression_form(request: Request, user: Marketer, entry_id: int) -> Response:
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        if lift(db, entry_id):
            audit.add_entry(db, ctx, user.id, "suppression.lift", str(entry_id))
    return RedirectResponse("/messages/suppressions", status_code=303)


def _not_found(request: Request) -> Response:
    return render(
        request,
        "error.html",
        {"title_key": "error.not_found.title", "body_key": "error.not_found.body"},
        status_code=404,
    )


def _editor(
    request: Request,
    template: Any,
    form: dict[str, Any],
    *,
    versions: list[Any] | None = None,
    saved: bool = False,
    error: str | None = None,
    customer_id: str = "",
    queued: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "messages/template_edit.html",
        {
            "template": template,
            "form": form,
            "versions": versions or [],
            "saved": saved,
            "error": error,
            "customer_id": customer_id,
            "queued": queued,
        },
        status_code=status_code,
    )
