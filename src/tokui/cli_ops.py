"""Operations commands: `tokui worker`, `tokui db`, `tokui backup`, `tokui restore`
(docs/deploy.md)."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer

from tokui.cli import HomeOpt, _fail, console
from tokui.clock import SystemClock
from tokui.config import Settings, load_settings
from tokui.workspace import ServerLock, WorkspaceBusyError

db_app: typer.Typer = typer.Typer(
    help="The state DB's schema (Alembic migrations).", no_args_is_help=True
)
log = logging.getLogger("tokui.worker")


def configure_logging(settings: Settings) -> None:
    from tokui.ops.logs import configure

    configure(settings.log_format, settings.log_level)


def worker(
    home: HomeOpt = None,
    delivery: Annotated[bool, typer.Option(help="Deliver the outbox")] = True,
    scenarios: Annotated[bool, typer.Option(help="Run scenario ticks")] = True,
    tick_seconds: Annotated[
        float, typer.Option(min=1, help="Seconds from one tick's start to the next")
    ] = 60.0,
    once: Annotated[
        bool, typer.Option("--once", help="One tick, deliver until nothing is due, exit")
    ] = False,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port", show_default=False)
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address the metrics port binds")] = (
        "127.0.0.1"
    ),
) -> None:
    """Deliver messages and run scenario ticks until stopped (SIGTERM).

    Start as many as needed on PostgreSQL: they share the work through row locks. On
    SQLite run one.
    """
    from tokui.ops.runner import WorkerOptions, run_worker

    settings = load_settings(home)
    configure_logging(settings)
    if not (delivery or scenarios):
        _fail("--no-delivery and --no-scenarios together leave nothing to do")
    if scenarios and settings.is_embedded_warehouse:
        try:
            ServerLock(settings.lock_path).ensure_free()
        except WorkspaceBusyError as exc:
            _fail(
                f"{exc}. Scenario ticks read the warehouse, which the server holds: run this "
                "worker with --no-scenarios, or put the warehouse on PostgreSQL"
            )
    _check_messaging(settings)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        from tokui.ops.metrics import REGISTRY

        try:
            start_http_server(metrics_port, metrics_host, registry=REGISTRY)
        except OSError as exc:
            _fail(f"--metrics-port {metrics_port} on {metrics_host}: {exc.strerror or exc}")
    options = WorkerOptions(
        delivery=delivery, scenarios=scenarios, tick_seconds=tick_seconds, until_idle=once
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info(
            "worker started",
            extra={"delivery": delivery, "scenarios": scenarios, "state": _kind(settings)},
        )
        totals = await run_worker(settings, options, stop, SystemClock())
        d = totals.delivery
        log.info(
            "worker stopped",
            extra={
                "sent": d.sent,
                "failed": d.failed,
                "retrying": d.retrying,
                "ticks": totals.ticks,
            },
        )

    asyncio.run(main())


def _check_messaging(settings: Settings) -> None:
    """Refuse to start on a configuration no cycle could work with (the loops would
    only log the same error forever)."""
    from tokui.messaging.service import Messaging
    from tokui.messaging.settings import MessagingSettingsError
    from tokui.workspace import Workspace

    ws = Workspace(settings)
    try:
        messaging = Messaging(ws, SystemClock())
        for name, channel in messaging.channels.items():
            for problem in channel.validate_config():
                log.warning("channel %s: %s", name, problem)
    except (MessagingSettingsError, ValueError) as exc:
        _fail(str(exc))
    finally:
        ws.close()


def _kind(settings: Settings) -> str:
    return settings.state_url.split(":", 1)[0]


@db_app.command("upgrade")
def db_upgrade(
    home: HomeOpt = None,
    revision: Annotated[str, typer.Option(help="Target revision")] = "head",
) -> None:
    """Apply the state DB's migrations (Alembic upgrade) to the configured database.

    Run it once per release, from one machine, before starting the new version's
    processes; on SQLite the server must be stopped.
    """
    from tokui.state.db import current_revision, head_revision, make_engine, migrate

    settings = load_settings(home)
    if settings.state_url.startswith("sqlite"):
        try:
            ServerLock(settings.lock_path).ensure_free()
        except WorkspaceBusyError as exc:
            _fail(str(exc))
    engine = make_engine(settings.state_url)
    try:
        before = current_revision(engine)
        migrate(engine, revision)
        after = current_revision(engine)
        head = head_revision(engine)
    except Exception as exc:
        _fail(f"upgrade failed, nothing was changed by the failing step: {exc}")
        raise
    finally:
        engine.dispose()
    if before == after:
        console.print(f"state DB already at {after} (head {head})")
    else:
        console.print(f"state DB upgraded from {before or 'empty'} to {after} (head {head})")


@db_app.command("current")
def db_current(home: HomeOpt = None) -> None:
    """Print the state DB's migration revision and this version's head."""
    from tokui.state.db import current_revision, head_revision, make_engine

    engine = make_engine(load_settings(home).state_url)
    try:
        current, head = current_revision(engine), head_revision(engine)
    finally:
        engine.dispose()
    print(f"{current or 'empty'}\thead {head}")
    if current != head:
        raise typer.Exit(1)


OnlyOpt = Annotated[
    str | None, typer.Option(help="state or warehouse (default: both)", show_default=False)
]


def backup(
    destination: Annotated[Path, typer.Argument(help="Folder to write the backup into")],
    home: HomeOpt = None,
    only: OnlyOpt = None,
) -> None:
    """Back up the state DB, the warehouse and tokui.toml into a new dated folder."""
    from tokui.ops.backup import BackupError
    from tokui.ops.backup import backup as run_backup

    settings = load_settings(home)
    try:
        folder = run_backup(settings, destination, SystemClock().now(), only)
    except BackupError as exc:
        _fail(str(exc))
        raise
    print(folder)


def restore(
    folder: Annotated[Path, typer.Argument(help="A folder written by `tokui backup`")],
    home: HomeOpt = None,
    only: OnlyOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Replace the workspace's stores with a backup's. Stop every Tokui process first."""
    from tokui.ops.backup import BackupError, read_manifest
    from tokui.ops.backup import restore as run_restore

    settings = load_settings(home)
    try:
        ServerLock(settings.lock_path).ensure_free()
        manifest = read_manifest(folder)
    except (WorkspaceBusyError, BackupError) as exc:
        _fail(str(exc))
        raise
    stores = ", ".join(sorted(manifest["stores"]))
    if not yes and not typer.confirm(
        f"Replace {stores} of {settings.home} with the backup of {manifest['created_at']}?"
    ):
        raise typer.Exit(1)
    try:
        report = run_restore(settings, folder, only)
    except BackupError as exc:
        _fail(str(exc))
        raise
    console.print(f"restored {', '.join(report.restored)} from {folder}")
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
