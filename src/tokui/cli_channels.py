"""`tokui messages queue`, `tokui dm export`, `tokui push devices import`, `tokui calls
list`: the channels beyond email from the command line (docs/messaging.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tokui.cli import FormatOpt, HomeOpt, _emit, _fail, console
from tokui.cli_messages import _messaging, messages_app
from tokui.clock import utc_naive
from tokui.messaging.calls import list_tasks, task_payload
from tokui.messaging.devices import DeviceImportError, import_devices, parse_devices
from tokui.messaging.postal import DMExportError, batch_bytes, export_batch, skipped_of
from tokui.messaging.recipients import resolve
from tokui.messaging.service import MessagingError
from tokui.messaging.store import get_template, get_version
from tokui.messaging.templates import TemplateRenderError
from tokui.state.db import session_scope

dm_app: typer.Typer = typer.Typer(
    help="Postal DM batches for the print vendor.", no_args_is_help=True
)
push_app: typer.Typer = typer.Typer(help="App push (FCM) device tokens.", no_args_is_help=True)
devices_app: typer.Typer = typer.Typer(help="Device tokens per customer.", no_args_is_help=True)
push_app.add_typer(devices_app, name="devices")
calls_app: typer.Typer = typer.Typer(help="The call center's call list.", no_args_is_help=True)


@messages_app.command("queue")
def queue(
    template: Annotated[str, typer.Option("--template", help="Template key")],
    customer: Annotated[list[str], typer.Option("--customer", help="Customer id (repeat)")],
    key: Annotated[
        str, typer.Option("--key", help="Idempotency key prefix: the same key queues once")
    ],
    home: HomeOpt = None,
) -> None:
    """Queue a template's current version for customers on the template's channel."""
    ws, messaging = _messaging(home)
    try:
        with session_scope(ws.sessions) as db:
            found = get_template(db, template)
            if found is None:
                raise MessagingError(f"no template {template!r}")
            version = get_version(db, found, None)
            resolved = resolve(messaging, db, found.channel, customer)
            rows = messaging.queue(db, found, version, resolved.recipients, key_prefix=key)
            queued, channel, missing = len(rows), found.channel, resolved.missing
    except (MessagingError, TemplateRenderError, ValueError) as exc:
        _fail(str(exc))
        return
    finally:
        ws.close()
    console.print(f"queued {queued} {channel} message(s)")
    if missing:
        console.print(f"no {channel} address: {', '.join(missing)}")


@dm_app.command("export")
def dm_export(
    key: Annotated[str, typer.Option("--key", help="Batch name; the same name re-exports")],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write")],
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="utf-8-sig or cp932 ([postal_dm])")
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Export the queued postal DMs as one CSV batch and mark them handed over."""
    ws, messaging = _messaging(home)
    try:
        with session_scope(ws.sessions) as db:
            batch = export_batch(
                db,
                ws.warehouse,
                key=key,
                encoding=encoding or messaging.channel_settings.postal_dm.encoding,
                now=utc_naive(messaging.clock.now()),
                secret=ws.settings.secret_key,
            )
            data, rows, skipped = batch_bytes(batch), batch.row_count, skipped_of(batch)
    except DMExportError as exc:
        _fail(str(exc))
    finally:
        ws.close()
    out.write_bytes(data)
    console.print(f"batch {key}: {rows} row(s) written to {out}, {len(skipped)} excluded")
    for s in skipped:
        print(f"excluded: customer {s['customer_id']} (message {s['message_id']}): {s['reason']}")


@devices_app.command("import")
def devices_import(
    path: Annotated[Path, typer.Argument(help="CSV with customer_id, token, platform")],
    home: HomeOpt = None,
) -> None:
    """Import FCM device tokens (idempotent: the same file twice changes nothing)."""
    ws, messaging = _messaging(home)
    try:
        rows = parse_devices(path.read_text(encoding="utf-8"), path.name)
        with session_scope(ws.sessions) as db:
            added, updated = import_devices(db, rows, utc_naive(messaging.clock.now()))
    except (DeviceImportError, OSError, UnicodeDecodeError) as exc:
        _fail(str(exc))
    finally:
        ws.close()
    console.print(f"{added} device(s) added, {updated} updated")


@calls_app.command("list")
def calls_list(
    status: Annotated[str, typer.Option("--status", help="open or done")] = "open",
    fmt: FormatOpt = "text",
    home: HomeOpt = None,
) -> None:
    """The call list (the same as /calls)."""
    ws, _ = _messaging(home)
    try:
        with session_scope(ws.sessions) as db:
            rows = [
                {
                    "id": t.id,
                    "customer_id": t.customer_id,
                    "offer": task_payload(t).get("offer", ""),
                    "outcome": t.outcome or "",
                    "note": t.note,
                }
                for t in list_tasks(db, status)
            ]
    except ValueError as exc:
        _fail(str(exc))
    finally:
        ws.close()
    _emit(rows, fmt, "id")
