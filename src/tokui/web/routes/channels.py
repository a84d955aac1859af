"""Channel pages: settings and send test (/messages/channels, admin), the postal DM export
(/messages/dm, marketer), the call list (/calls, call center) and LINE's webhook
(/hooks/line, public, signature-verified instead of CSRF)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from tokui.clock import utc_naive
from tokui.messaging.calls import (
    OUTCOMES,
    CallError,
    contacts,
    list_tasks,
    record_outcome,
    risks,
    task_payload,
)
from tokui.messaging.channel_settings import SECRETS, ChannelSettingsError, mask
from tokui.messaging.channel_test import TESTABLE, queue_channel_test
from tokui.messaging.line_webhook import (
    SIGNATURE_HEADER,
    LineWebhookError,
    handle_events,
    parse_events,
    verify_signature,
)
from tokui.messaging.outbox import Status
from tokui.messaging.postal import (
    CHANNEL as DM_CHANNEL,
)
from tokui.messaging.postal import (
    ENCODINGS,
    DMExportError,
    batch_bytes,
    export_batch,
    list_batches,
    skipped_of,
)
from tokui.messaging.service import Messaging, MessagingError
from tokui.messaging.settings import MessagingSettingsError
from tokui.messaging.switches import CHANNEL_NAMES, disabled_channels, set_enabled
from tokui.messaging.templates import TemplateRenderError
from tokui.state.channels import DMBatch
from tokui.state.db import session_scope
from tokui.state.messages import OutboxMessage
from tokui.state.models import Role, User
from tokui.web import audit
from tokui.web.auth import require
from tokui.web.context import web_context
from tokui.web.templating import render, request_language

router = APIRouter()

Admin = Annotated[User, require(Role.admin)]
Marketer = Annotated[User, require(Role.marketer)]
Caller = Annotated[User, require(Role.call_center)]

# Where each channel's settings come from, shown on the page (never the secret values).
SETTING_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "email": ("email", ("host", "port", "security", "username", "from_address")),
    "line": ("line", ("api_base_url", "timeout_seconds", "notification_disabled")),
    "webhook": ("webhook", ("url", "timeout_seconds", "allow")),
    "push": ("push", ("project_id", "api_base_url", "service_account_file")),
    "postal_dm": ("postal_dm", ("encoding",)),
    "call_center": ("call_center", ("mirror_webhook",)),
}
SECRET_ENV = {
    "email": (("password", "TOKUI_SMTP_PASSWORD"),),
    **{
        table: tuple((field, env) for (t, field), env in SECRETS.items() if t == table)
        for table in ("line", "webhook", "push")
    },
}


def _messaging(request: Request) -> Messaging:
    ctx = web_context(request)
    return Messaging(ctx.ws, ctx.clock)


def _q(text: str) -> str:
    return quote(text[:300], safe="")


def _channel_rows(messaging: Messaging, off: set[str]) -> list[dict[str, Any]]:
    cs = messaging.channel_settings
    rows = []
    for name in CHANNEL_NAMES:
        table, fields = SETTING_FIELDS[name]
        source: Any = messaging.settings.email if table == "email" else getattr(cs, table)
        secrets = [
            {"env": env, "shown": mask(str(getattr(source, field, "")))}
            for field, env in SECRET_ENV.get(name, ())
        ]
        rows.append(
            {
                "name": name,
                "table": table,
                "enabled": name not in off,
                "settings": [(f, getattr(source, f)) for f in fields],
                "secrets": secrets,
                "problems": messaging.real_channel(name).validate_config(),
                "testable": name in TESTABLE,
            }
        )
    return rows


@router.get("/messages/channels")
def channels_page(request: Request, user: Admin) -> Response:
    ctx = web_context(request)
    messaging = _messaging(request)
    try:
        with session_scope(ctx.ws.sessions) as db:
            off = disabled_channels(db)
        rows = _channel_rows(messaging, off)
        error = request.query_params.get("error")
    except (ChannelSettingsError, MessagingSettingsError) as exc:
        rows, error = [], str(exc)
    return render(
        request,
        "messages/channels.html",
        {
            "channels": rows,
            "sandbox": messaging.settings.sandbox,
            "error": error,
            "done": request.query_params.get("done"),
        },
    )


@router.post("/messages/channels/{name}/enabled")
def channel_enabled(
    request: Request, user: Admin, name: str, enabled: Annotated[str, Form()] = ""
) -> Response:
    ctx = web_context(request)
    if name not in CHANNEL_NAMES:
        return RedirectResponse("/messages/channels?error=unknown%20channel", status_code=303)
    on = enabled == "1"
    with session_scope(ctx.ws.sessions) as db:
        set_enabled(db, name, on, user.id, utc_naive(ctx.clock.now()))
        audit.add_entry(db, ctx, user.id, "channel.enabled" if on else "channel.disabled", name)
    return RedirectResponse("/messages/channels", status_code=303)


@router.post("/messages/channels/{name}/test")
async def channel_test(
    request: Request, user: Admin, name: str, to: Annotated[str, Form()] = ""
) -> Response:
    ctx = web_context(request)
    messaging = _messaging(request)
    try:
        with session_scope(ctx.ws.sessions) as db:
            row = queue_channel_test(messaging, db, name, to.strip())
            audit.add_entry(db, ctx, user.id, "channel.send_test", name, to.strip()[:200])
            row_id = row.id
    except (MessagingError, TemplateRenderError, ChannelSettingsError, ValueError) as exc:
        return RedirectResponse(f"/messages/channels?error={_q(str(exc))}", status_code=303)
    worker = messaging.worker()
    try:
        await worker.run_once(ids=[row_id])
    finally:
        await worker.aclose()
    return RedirectResponse(f"/messages/deliveries?sent={row_id}", status_code=303)


# postal DM


@router.get("/messages/dm")
def dm_page(request: Request, user: Marketer) -> Response:
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        queued = db.scalar(
            select(func.count()).where(
                OutboxMessage.channel == DM_CHANNEL, OutboxMessage.status == Status.queued.value
            )
        )
        batches = list_batches(db)
        skipped = {b.id: skipped_of(b) for b in batches}
        default_encoding = _messaging(request).channel_settings.postal_dm.encoding
    return render(
        request,
        "messages/dm.html",
        {
            "queued": queued,
            "batches": batches,
            "skipped": skipped,
            "encodings": ENCODINGS,
            "default_encoding": default_encoding,
            "default_key": "dm-" + ctx.clock.now().strftime("%Y%m%d-%H%M"),
            "error": request.query_params.get("error"),
        },
    )


@router.post("/messages/dm/export")
def dm_export(
    request: Request,
    user: Marketer,
    key: Annotated[str, Form()] = "",
    encoding: Annotated[str, Form()] = "utf-8-sig",
) -> Response:
    ctx = web_context(request)
    try:
        with ctx.warehouse_lock, session_scope(ctx.ws.sessions) as db:
            batch = export_batch(
                db,
                ctx.ws.warehouse,
                key=key.strip(),
                encoding=encoding,
                now=utc_naive(ctx.clock.now()),
                secret=ctx.ws.settings.secret_key,
                user_id=user.id,
            )
            audit.add_entry(db, ctx, user.id, "dm.export", batch.key, f"rows={batch.row_count}")
            batch_id = batch.id
    except DMExportError as exc:
        return RedirectResponse(f"/messages/dm?error={_q(str(exc))}", status_code=303)
    return RedirectResponse(f"/messages/dm/batches/{batch_id}.csv", status_code=303)


@router.get("/messages/dm/batches/{batch_id}.csv")
def dm_download(request: Request, user: Marketer, batch_id: int) -> Response:
    ctx = web_context(request)
    with session_scope(ctx.ws.sessions) as db:
        batch = db.get(DMBatch, batch_id)
        if batch is None:
            return Response("not found", status_code=404)
        data, key, encoding = batch_bytes(batch), batch.key, batch.encoding
        audit.add_entry(db, ctx, user.id, "dm.download", key)
    charset = "shift_jis" if encoding == "cp932" else "utf-8"
    return Response(
        data,
        media_type=f"text/csv; charset={charset}",
        headers={
            "content-disposition": f'attachment; filename="{key}.csv"',
            "cache-control": "no-store",
        },
    )


# call center


@router.get("/calls")
def calls_page(request: Request, user: Caller, status: str = "open") -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    if status not in ("open", "done"):
        status = "open"
    with session_scope(ctx.ws.sessions) as db:
        tasks = list_tasks(db, status)
        items = [
            {
                "id": t.id,
                "customer_id": t.customer_id,
                "payload": task_payload(t),
                "created_at": t.created_at,
                "outcome": t.outcome,
                "note": t.note,
                "outcome_at": t.outcome_at,
            }
            for t in tasks
        ]
        ids = sorted({t.customer_id for t in tasks})
    with ctx.warehouse_lock:
        risk = risks(ctx.ws.warehouse, ids, lang)
        people = contacts(ctx.ws.warehouse, ids)
    return render(
        request,
        "calls.html",
        {
            "items": items,
            "risk": risk,
            "people": people,
            "status": status,
            "outcomes": list(OUTCOMES),
            "can_open_customer": user.role_enum.allows(Role.viewer),
            "error": request.query_params.get("error"),
        },
    )


@router.post("/calls/{task_id}/outcome")
def call_outcome(
    request: Request,
    user: Caller,
    task_id: int,
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    ctx = web_context(request)
    try:
        with session_scope(ctx.ws.sessions) as db:
            record_outcome(db, task_id, outcome, note, user.id, utc_naive(ctx.clock.now()))
            audit.add_entry(db, ctx, user.id, "call.outcome", str(task_id), outcome)
    except CallError as exc:
        return RedirectResponse(f"/calls?error={_q(str(exc))}", status_code=303)
    return RedirectResponse("/calls", status_code=303)


# LINE webhook


@router.post("/hooks/line")
async def line_webhook(request: Request) -> Response:
    ctx = web_context(request)
    body = await request.body()
    messaging = _messaging(request)
    try:
        secret = messaging.channel_settings.line.channel_secret
        verify_signature(secret, body, request.headers.get(SIGNATURE_HEADER))
        events = parse_events(body)
    except LineWebhookError as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    except ChannelSettingsError:
        return JSONResponse({"error": "LINE is not configured"}, status_code=503)

    def customer_for(user_id: str) -> str | None:
        con = ctx.ws.warehouse
        customers = con.table("customers")
        found = (
            customers.filter(customers.line_user_id == user_id)
            .select("customer_id")
            .limit(1)
            .to_pyarrow()
            .to_pylist()
        )
        return str(found[0]["customer_id"]) if found else None

    with ctx.warehouse_lock, session_scope(ctx.ws.sessions) as db:
        outcome = handle_events(db, events, utc_naive(ctx.clock.now()), customer_for)
    return JSONResponse(
        {
            "followed": len(outcome.followed),
            "unfollowed": len(outcome.unfollowed),
            "duplicates": outcome.duplicates,
        }
    )
