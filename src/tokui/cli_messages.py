"""`tokui messages` and `tokui outbox`: test sends, the delivery worker, the outbox log.

The worker touches only the state DB (and the SMTP server), so `tokui outbox run` may
run beside `tokui serve`; on PostgreSQL any number of them share the queue.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from tokui.cli import FormatOpt, HomeOpt, _emit, _fail, console
from tokui.clock import SystemClock, utc_naive
from tokui.config import load_settings
from tokui.messaging.bounce_intake import (
    BounceIntakeError,
    BounceProcessor,
    IntakeReport,
    read_mailbox,
)
from tokui.messaging.outbox import LIST_FILTERS, list_messages
from tokui.messaging.service import Messaging, MessagingError
from tokui.messaging.settings import MessagingSettingsError
from tokui.messaging.templates import TemplateRenderError
from tokui.messaging.worker import CycleStats
from tokui.state.db import session_scope
from tokui.workspace import Workspace

messages_app = typer.Typer(help="Message templates and test sends.", no_args_is_help=True)
outbox_app = typer.Typer(help="The outbox and its delivery worker.", no_args_is_help=True)


def _messaging(home: Path | None) -> tuple[Workspace, Messaging]:
    ws = Workspace(load_settings(home))
    try:
        return ws, Messaging(ws, SystemClock())
    except (MessagingSettingsError, ValueError) as exc:
        ws.close()
        _fail(str(exc))
        raise  # unreachable: _fail exits


@messages_app.command("send-test")
def send_test(
    template: Annotated[str, typer.Option("--template", help="Template key")],
    to: Annotated[str, typer.Option("--to", help="Recipient address")],
    customer: Annotated[
        str | None, typer.Option("--customer", help="Render with this customer's data")
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Queue one test message ([TEST] in the subject) and deliver it now."""
    ws, messaging = _messaging(home)
    try:
        with session_scope(ws.sessions) as db:
            row = messaging.send_test(db, template, to, customer)
            row_id = row.id
        stats = asyncio.run(_deliver([row_id], messaging))
    except (MessagingError, TemplateRenderError, ValueError) as exc:
        _fail(str(exc))
    finally:
        ws.close()
    mode = "captured in the sandbox inbox" if messaging.settings.sandbox else "sent"
    if stats.sent:
        console.print(f"message {row_id} {mode}")
    else:
        _fail(f"message {row_id} not sent: {'; '.join(stats.errors) or 'see tokui outbox list'}")


@messages_app.command("bounces")
def bounces(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Maildir, mbox, folder of .eml files or one message", show_default=False
        ),
    ] = None,
    imap: Annotated[bool, typer.Option("--imap", help="Poll the [bounces] IMAP folder")] = False,
    home: HomeOpt = None,
    fmt: FormatOpt = "text",
) -> None:
    """Read bounces (DSNs) and complaints (ARF); suppress per the bounce policy.

    Safe to run again on the same mailbox: what was recorded is not recorded twice.
    """
    if (path is None) == (not imap):
        _fail("give a mailbox PATH or --imap (one of them)")
    ws, messaging = _messaging(home)
    try:
        processor = BounceProcessor(ws.sessions, ws.settings.secret_key, messaging.settings)
        now = utc_naive(messaging.clock.now())
        if path is not None:
            report = processor.process(read_mailbox(path), now)
        else:
            report = processor.poll_imap(messaging.settings.bounces, now)
    except (BounceIntakeError, ValueError) as exc:
        _fail(str(exc))
    finally:
        ws.close()
    _print_intake(report, fmt)


def _print_intake(report: IntakeReport, fmt: str) -> None:
    if fmt == "json":
        rows = [
            {
                "message": label,
                "result": o.result,
                "outbox_id": o.outbox_id,
                "suppressed": o.suppressed,
                "detail": o.detail,
            }
            for label, o in report.outcomes
        ]
        _emit(rows, fmt, "message")
    else:
        for label, o in report.outcomes:
            where = f"message {o.outbox_id}" if o.outbox_id is not None else "-"
            flag = ", suppressed" if o.suppressed else ""
            print(f"{label}\t{o.result}{flag}\t{where}\t{o.detail}")
        print(report.summary())
    for error in report.errors:
        print(f"error: {error}")
    if report.errors:
        raise typer.Exit(1)


async def _deliver(ids: list[int], messaging: Messaging) -> CycleStats:
    worker = messaging.worker()
    try:
        return await worker.run_once(ids=ids)
    finally:
        await worker.aclose()


@outbox_app.command("run")
def outbox_run(
    once: Annotated[bool, typer.Option("--once", help="One cycle, then exit")] = False,
    home: HomeOpt = None,
) -> None:
    """Deliver due messages: one cycle with --once, else until Ctrl-C / SIGTERM."""
    ws, messaging = _messaging(home)
    problems = [
        f"{name}: {p}" for name, ch in messaging.channels.items() for p in ch.validate_config()
    ]
    for problem in problems:
        console.print(f"[yellow]warning:[/yellow] {problem}")
    try:
        stats = asyncio.run(_run(messaging, once))
    finally:
        ws.close()
    console.print(
        f"claimed {stats.claimed}, sent {stats.sent}, retrying {stats.retrying}, "
        f"failed {stats.failed}, suppressed {stats.suppressed}, held {stats.held}"
    )


async def _run(messaging: Messaging, once: bool) -> CycleStats:
    worker = messaging.worker()
    try:
        if once:
            return await worker.run_once()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await worker.run(stop)
    finally:
        await worker.aclose()


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str, typer.Option(help="queued, sending, sent, failed_temp, ...")] = "",
    channel: Annotated[str, typer.Option(help="email, line, ...")] = "",
    customer: Annotated[str, typer.Option(help="Customer id")] = "",
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    home: HomeOpt = None,
    fmt: FormatOpt = "text",
) -> None:
    """Messages, newest first: id, status, channel, recipient, customer, attempts, error."""
    ws = Workspace(load_settings(home))
    filters = dict(zip(LIST_FILTERS, (status, channel, customer), strict=True))
    try:
        with session_scope(ws.sessions) as db:
            rows = [
                {
                    "id": m.id,
                    "status": m.status,
                    "channel": m.channel,
                    "recipient": m.recipient,
                    "customer_id": m.customer_id or "",
                    "attempts": m.attempts,
                    "updated_at": m.updated_at.isoformat(),
                    "last_error": m.last_error or "",
                }
                for m in list_messages(db, filters, limit=limit)
            ]
    except ValueError as exc:
        _fail(str(exc))
    finally:
        ws.close()
    _emit(rows, fmt, "id")
