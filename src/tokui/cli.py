"""The `tokui` command line."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tokui import __version__
from tokui.clock import SystemClock
from tokui.config import load_settings
from tokui.workspace import ServerLock, Workspace, WorkspaceBusyError, init_workspace

app = typer.Typer(
    help="Tokui: CRM and lifecycle marketing for food and subscription shops.\n\n"
    "The workspace is TOKUI_HOME or ./tokui-workspace.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
demo_app = typer.Typer(help="The demo shop.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the web app.", no_args_is_help=True)
analyze_app = typer.Typer(help="Analysis templates.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(users_app, name="users")
segments_app = typer.Typer(help="Segments.", no_args_is_help=True)
app.add_typer(analyze_app, name="analyze")
app.add_typer(segments_app, name="segments")

console = Console(stderr=True, soft_wrap=True)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="TOKUI_HOME", help="Workspace folder", show_default=False),
]
FormatOpt = Annotated[str, typer.Option("--format", help="text or json")]

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "tokui-demo-2026"  # noqa: S105 - the documented demo login


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _writable_workspace(home: Path | None) -> Workspace:
    """A workspace this process may write to; refuses while `tokui serve` owns it."""
    settings = load_settings(home)
    try:
        ServerLock(settings.lock_path).ensure_free()
    except WorkspaceBusyError as exc:
        _fail(str(exc))
    return Workspace(settings)


def _emit(rows: list[dict[str, Any]], fmt: str, id_key: str) -> None:
    """List output: one item per line, id first; or a JSON array."""
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if fmt != "text":
        _fail(f"unknown format {fmt!r}; use text or json")
    for row in rows:
        rest = "\t".join(str(v) for k, v in row.items() if k != id_key)
        print(f"{row[id_key]}\t{rest}")


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


@app.command()
def init(
    home: HomeOpt = None,
    admin_email: Annotated[str | None, typer.Option(help="First admin's email")] = None,
    admin_password: Annotated[
        str | None, typer.Option(help="First admin's password", envvar="TOKUI_ADMIN_PASSWORD")
    ] = None,
    shop_name: Annotated[str, typer.Option(help="Shop name")] = "Tokui Shop",
) -> None:
    """Create a workspace (config, warehouse tables, state DB); safe to run again."""
    settings = load_settings(home)
    try:
        ServerLock(settings.lock_path).ensure_free()
        ws = init_workspace(settings.home, admin_email, admin_password, shop_name)
    except (WorkspaceBusyError, ValueError) as exc:
        _fail(str(exc))
    console.print(f"workspace ready: {ws.home}")
    ws.close()


@demo_app.command("generate")
def demo_generate(
    home: HomeOpt = None,
    customers: Annotated[int, typer.Option(min=10, help="Number of customers")] = 20_000,
    years: Annotated[float, typer.Option(min=0.25, max=10, help="Years of history")] = 2.0,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same data")] = 42,
    end_date: Annotated[
        str | None, typer.Option(help="Last day of the history, YYYY-MM-DD (default: yesterday)")
    ] = None,
) -> None:
    """Fill the workspace with a simulated Japanese food shop (replaces shop data)."""
    from tokui.demo import SimConfig, generate

    ws = _writable_workspace(home)
    init_workspace(ws.home, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).close()
    end = date.fromisoformat(end_date) if end_date else _yesterday()
    config = SimConfig(customers=customers, years=years, seed=seed, end_date=end)
    with _spinner(f"generating {customers:,} customers over {years:g} years"):
        report = generate(ws.warehouse, config, truth_dir=ws.home / "ground_truth")
    for table, rows in report.rows.items():
        console.print(f"  {table:<26}{rows:>12,}")
    ws.close()


def _yesterday() -> date:
    from datetime import timedelta

    from tokui.clock import local_today

    return local_today(SystemClock()) - timedelta(days=1)


class _spinner:
    def __init__(self, text: str) -> None:
        self.progress = Progress(
            SpinnerColumn(), TextColumn(text), TimeElapsedColumn(), console=console
        )

    def __enter__(self) -> None:
        self.progress.start()
        self.progress.add_task("", total=None)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


@app.command()
def refresh(home: HomeOpt = None) -> None:
    """Recompute everything derived from the shop data (features, tables, scores)."""
    from tokui.refresh import run_refresh, steps

    ws = _writable_workspace(home)
    all_steps = steps()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("refresh", total=len(all_steps))

        def on_step(step: Any) -> None:
            progress.update(task, description=f"refresh: {step.name}", advance=0)

        try:
            result = run_refresh(ws, SystemClock(), on_step=on_step)
        except Exception as exc:
            ws.close()
            _fail(f"refresh failed: {exc}")
        progress.update(task, completed=len(all_steps))
    for s in result.steps:
        console.print(f"  {s.name:<24}{s.rows:>10,} rows  {s.seconds:6.2f}s")
    ws.close()


@app.command()
def serve(
    home: HomeOpt = None,
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    delivery: Annotated[
        bool, typer.Option(help="Deliver the outbox in this process (off: `tokui worker`s do)")
    ] = True,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Web processes (>1 needs PostgreSQL state)")
    ] = 1,
) -> None:
    """Run the web app; unless --no-delivery, it also delivers the outbox.

    On the embedded stores it owns the workspace (one process); on PostgreSQL state and a
    server warehouse any number may run (docs/deploy.md).
    """
    import os

    import uvicorn

    from tokui.ops.logs import configure, uvicorn_log_config
    from tokui.web.server import DELIVERY_ENV, build, multi_process_problem

    settings = load_settings(home)
    configure(settings.log_format, settings.log_level)
    bind_host = host or settings.host
    bind_port = port or settings.port
    if workers > 1:
        problem = multi_process_problem(settings)
        if problem:
            _fail(f"--workers {workers}: {problem}; see docs/deploy.md")
        os.environ["TOKUI_HOME"] = str(settings.home)
        os.environ[DELIVERY_ENV] = "1" if delivery else "0"
        console.print(f"Tokui is serving {settings.home} at http://{bind_host}:{bind_port}/")
        uvicorn.run(
            "tokui.web.server:factory",
            factory=True,
            workers=workers,
            host=bind_host,
            port=bind_port,
            log_config=uvicorn_log_config(),
            # Each process imports the app and opens both stores before it answers the
            # supervisor's health check; uvicorn's default 5 s kills it on a busy machine.
            timeout_worker_healthcheck=60,
        )
        return
    # The lock is for the embedded stores, which one process may hold; on PostgreSQL and
    # a server warehouse any number of `tokui serve` may run (docs/deploy.md).
    lock = ServerLock(settings.lock_path)
    if multi_process_problem(settings):
        try:
            lock.acquire()
        except WorkspaceBusyError as exc:
            _fail(str(exc))
    ws: Workspace | None = None
    try:
        application, ws = build(settings, delivery)
        console.print(f"Tokui is serving {ws.home} at http://{bind_host}:{bind_port}/")
        uvicorn.run(application, host=bind_host, port=bind_port, log_config=uvicorn_log_config())
    finally:
        if ws is not None:
            ws.close()
        lock.release()


@app.command()
def doctor(home: HomeOpt = None, fmt: FormatOpt = "text") -> None:
    """Check both stores, versions, migrations and the workspace lock."""
    from tokui.doctor import run_checks

    checks = run_checks(load_settings(home))
    _emit([c.as_row() for c in checks], fmt, "check")
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


@users_app.command("list")
def users_list(home: HomeOpt = None, fmt: FormatOpt = "text") -> None:
    """List users: id, email, role, active."""
    from tokui.state.db import session_scope
    from tokui.state.users import list_users

    ws = Workspace(load_settings(home))
    with session_scope(ws.sessions) as session:
        rows = [
            {"id": u.id, "email": u.email, "role": u.role, "active": u.is_active}
            for u in list_users(session)
        ]
    _emit(rows, fmt, "id")
    ws.close()


@users_app.command("create")
def users_create(
    email: str,
    role: Annotated[str, typer.Option(help="admin, marketer, analyst or viewer")] = "viewer",
    home: HomeOpt = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="TOKUI_NEW_USER_PASSWORD", help="Password (prompted if omitted)"),
    ] = None,
) -> None:
    """Create a user of the web app."""
    from tokui.state.db import session_scope
    from tokui.state.models import Role
    from tokui.state.users import UserError, create_user

    try:
        role_enum = Role(role)
    except ValueError:
        _fail(f"unknown role {role!r}; use admin, marketer, analyst or viewer")
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    ws = Workspace(load_settings(home))
    try:
        with session_scope(ws.sessions) as session:
            user = create_user(session, email, password, role_enum)
            console.print(f"created user {user.id} {user.email} ({user.role})")
    except UserError as exc:
        _fail(str(exc))
    finally:
        ws.close()


@analyze_app.command("list")
def analyze_list(
    fmt: FormatOpt = "text",
    category: Annotated[str | None, typer.Option(help="Only this category")] = None,
    search: Annotated[str | None, typer.Option(help="Search names and descriptions")] = None,
) -> None:
    """List analysis templates: id, category, Japanese name, English name."""
    from tokui.analytics.registry import templates

    rows = [
        {"id": t.id, "category": t.category, "name_ja": t.name_ja, "name_en": t.name_en}
        for t in templates(category, search)
    ]
    _emit(rows, fmt, "id")


@analyze_app.command("run")
def analyze_run(
    template_id: Annotated[str, typer.Argument(help="Template id (see `tokui analyze list`)")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Parameter as key=value")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, xlsx or json")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file")] = None,
    home: HomeOpt = None,
) -> None:
    """Run an analysis template and print or save its result."""
    from rich.table import Table

    from tokui.analytics.registry import ParamError
    from tokui.analytics.run import run, to_csv, to_xlsx

    raw: dict[str, str] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep:
            _fail(f"--param {item!r}: expected key=value")
        raw[key.strip()] = value.strip()
    if fmt not in ("table", "csv", "xlsx", "json"):
        _fail(f"unknown format {fmt!r}; use table, csv, xlsx or json")
    if fmt == "xlsx" and output is None:
        _fail("--format xlsx needs --output FILE")
    ws = Workspace(load_settings(home))
    try:
        df = run(ws.warehouse, template_id, raw)
    except ParamError as exc:
        _fail(str(exc))
    finally:
        ws.close()
    if fmt == "csv":
        data = to_csv(df)
    elif fmt == "xlsx":
        data = to_xlsx(df)
    elif fmt == "json":
        data = df.to_json(orient="records", force_ascii=False, date_format="iso").encode()
    else:
        table = Table(*[str(c) for c in df.columns])
        for row in df.itertuples(index=False):
            table.add_row(*[str(v) for v in row])
        Console().print(table)
        return
    if output is not None:
        output.write_bytes(data)
        console.print(f"wrote {len(df):,} rows to {output}")
    else:
        sys.stdout.buffer.write(data)


@analyze_app.command("docs")
def analyze_docs(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file")] = None,
) -> None:
    """Render the template catalogue as Markdown (docs/analyses.md)."""
    from tokui.analytics.docs import render

    text = render()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


def _segment_definitions(ws: Workspace) -> dict[str, Any]:
    from tokui.segments.store import all_definitions

    with ws.sessions() as session:
        return all_definitions(session)


@segments_app.command("list")
def segments_list(home: HomeOpt = None, fmt: FormatOpt = "text") -> None:
    """List segments: key, members at the last refresh, Japanese and English name."""
    from tokui.segments.snapshot import SIZES

    ws = Workspace(load_settings(home))
    definitions = _segment_definitions(ws)
    sizes: dict[str, int] = {}
    if SIZES in ws.warehouse.list_tables():
        t = ws.warehouse.table(SIZES)
        last = t.filter(t.as_of == t.as_of.max()).execute()
        sizes = {r.segment_key: int(r.members) for r in last.itertuples()}
    rows = [
        {"key": k, "members": sizes.get(k), "name_ja": d.name_ja, "name_en": d.name_en}
        for k, d in sorted(definitions.items())
    ]
    ws.close()
    _emit(rows, fmt, "key")


@segments_app.command("show")
def segments_show(key: str, home: HomeOpt = None) -> None:
    """Print a segment definition as YAML."""
    from tokui.segments.library import to_yaml

    ws = Workspace(load_settings(home))
    definitions = _segment_definitions(ws)
    ws.close()
    if key not in definitions:
        _fail(f"no segment {key!r}; see `tokui segments list`")
    print(to_yaml(definitions[key]), end="")


@segments_app.command("save")
def segments_save(
    file: Annotated[Path, typer.Argument(help="Segment definition (YAML)")], home: HomeOpt = None
) -> None:
    """Save (create or update) a segment from a YAML file."""
    from tokui.segments.compile import SegmentError
    from tokui.segments.library import from_yaml
    from tokui.segments.preview import make_context, preview
    from tokui.segments.store import save
    from tokui.state.db import session_scope

    ws = _writable_workspace(home)
    try:
        definition = from_yaml(file.read_text(encoding="utf-8"), str(file))
        definitions = _segment_definitions(ws)
        definitions[definition.key] = definition
        # Compile against the live features so a broken rule is refused before it is stored.
        ctx = make_context(ws.warehouse, resolve=definitions.get)
        result = preview(ctx, definition, sample=0)
        with session_scope(ws.sessions) as session:
            row = save(session, definition, SystemClock().now().replace(tzinfo=None))
            console.print(f"saved {row.key} version {row.version}: {result.members:,} members now")
    except (SegmentError, OSError) as exc:
        _fail(str(exc))
    finally:
        ws.close()


@segments_app.command("preview")
def segments_preview(
    key: Annotated[str | None, typer.Argument(help="Segment key")] = None,
    file: Annotated[Path | None, typer.Option(help="Or a definition in a YAML file")] = None,
    sample: Annotated[int, typer.Option(min=0, max=1000, help="Sample rows")] = 10,
    home: HomeOpt = None,
) -> None:
    """Count a segment's members now and show a sample."""
    from tokui.segments.compile import SegmentError
    from tokui.segments.library import from_yaml
    from tokui.segments.preview import make_context, preview

    ws = Workspace(load_settings(home))
    try:
        definitions = _segment_definitions(ws)
        if file is not None:
            definition = from_yaml(file.read_text(encoding="utf-8"), str(file))
        elif key is not None and key in definitions:
            definition = definitions[key]
        else:
            _fail("give a segment key or --file")
        ctx = make_context(ws.warehouse, resolve=definitions.get)
        result = preview(ctx, definition, sample=sample)
    except SegmentError as exc:
        _fail(str(exc))
    finally:
        ws.close()
    print(f"{definition.key}\t{result.members}\t{result.customers}\t{result.share:.4f}")
    if sample:
        print(result.sample.to_csv(index=False, sep="\t"), end="")


@segments_app.command("export")
def segments_export(
    key: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write")],
    channel: Annotated[
        str | None, typer.Option(help="Only customers who accept this channel: email, line, dm")
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="utf-8 (with BOM, for Excel) or shift_jis (for DM vendors)")
    ] = "utf-8",
    home: HomeOpt = None,
) -> None:
    """Export a segment's members with contact fields (CSV) for postal DM or ads."""
    from tokui.segments.compile import SegmentError
    from tokui.segments.export import export_members

    ws = Workspace(load_settings(home))
    try:
        definitions = _segment_definitions(ws)
        if key not in definitions:
            _fail(f"no segment {key!r}; see `tokui segments list`")
        count = export_members(ws.warehouse, definitions, key, output, channel, encoding)
    except SegmentError as exc:
        _fail(str(exc))
    finally:
        ws.close()
    console.print(f"wrote {count:,} customers to {output}")


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())


# --- file import (issue 4) -------------------------------------------------------------

profiles_app = typer.Typer(help="Import profiles (file column mappings).", no_args_is_help=True)
app.add_typer(profiles_app, name="profiles")


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV, TSV or xlsx file")],
    profile: Annotated[str, typer.Option("--profile", help="Profile name or YAML file")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and count; write nothing")
    ] = False,
    home: HomeOpt = None,
    fmt: FormatOpt = "text",
) -> None:
    """Import a cart export into the warehouse, all or nothing."""
    from tokui.ingest import ProfileError, import_file, load_profile

    try:
        prof = load_profile(profile)
    except ProfileError as exc:
        _fail(str(exc))
    ws = _writable_workspace(home)
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task(f"import {file.name}", total=None)

            def on_step(text: str) -> None:
                progress.update(task, description=f"import: {text}")

            result = import_file(ws.warehouse, ws.sessions, file, prof, dry_run, on_step)
    finally:
        ws.close()
    if fmt == "json":
        print(
            json.dumps(
                {
                    "file": result.file,
                    "profile": result.profile,
                    "status": result.status,
                    "run_id": result.run_id,
                    "tables": result.counts(),
                    "error_total": result.error_total,
                    "errors": [e.as_dict() for e in result.errors],
                },
                ensure_ascii=False,
                default=str,
            )
        )
    else:
        console.print(f"{result.file}: {result.rows_read:,} rows, profile {result.profile}")
        console.print(
            f"  {'table':<14}{'inserted':>10}{'updated':>10}{'unchanged':>11}{'rejected':>10}"
        )
        for table, c in result.tables.items():
            console.print(
                f"  {table:<14}{c.inserted:>10,}{c.updated:>10,}{c.unchanged:>11,}{c.rejected:>10,}"
            )
        for error in result.errors:
            console.print(f"  [red]{error}[/red]", markup=True, highlight=False)
        if result.error_total > len(result.errors):
            console.print(f"  … {result.error_total - len(result.errors):,} more errors")
        if result.ok:
            verb = "would change nothing yet (dry run)" if dry_run else "imported"
            console.print(f"{verb}; run {result.run_id}")
    if not result.ok:
        _fail(f"{result.error_total:,} error(s); nothing was written")


@profiles_app.command("list")
def profiles_list(fmt: FormatOpt = "text") -> None:
    """Built-in profiles: name, target tables, description."""
    from tokui.ingest import builtin_names, load_profile

    rows = []
    for name in builtin_names():
        prof = load_profile(name)
        rows.append(
            {"name": name, "tables": ",".join(prof.tables), "description": prof.description}
        )
    _emit(rows, fmt, "name")


@profiles_app.command("show")
def profiles_show(name: str) -> None:
    """Print a profile's YAML (a starting point for your own)."""
    from tokui.ingest import ProfileError
    from tokui.ingest.profile import profile_yaml

    try:
        print(profile_yaml(name), end="")
    except ProfileError as exc:
        _fail(str(exc))


# --- API sources (issue 4) -------------------------------------------------------------

from tokui.cli_sources import sources_app  # noqa: E402

app.add_typer(sources_app, name="sources")

# --- predictive models (issue 6) -------------------------------------------------------

from tokui.cli_models import models_app  # noqa: E402

app.add_typer(models_app, name="models")

# --- customers: deletion on request, suppression list (issue 4) ------------------------

from tokui.cli_customers import customers_app  # noqa: E402

app.add_typer(customers_app, name="customers")

# --- messaging: test sends, the outbox and its delivery worker (issue 8) ---------------

from tokui.cli_messages import messages_app, outbox_app  # noqa: E402

app.add_typer(messages_app, name="messages")
app.add_typer(outbox_app, name="outbox")

from tokui.cli_channels import calls_app, dm_app, push_app  # noqa: E402

app.add_typer(dm_app, name="dm")
app.add_typer(push_app, name="push")
app.add_typer(calls_app, name="calls")

from tokui.cli_scenarios import scenarios_app  # noqa: E402

app.add_typer(scenarios_app, name="scenarios")

# --- measurement: uplift, A/B tests, KPIs, the weekly report (issue 10) ---------------

from tokui.cli_measure import measure_app  # noqa: E402

app.add_typer(measure_app, name="measure")

# --- operations: workers, migrations, backups (issue 11) ------------------------------

from tokui.cli_ops import backup, db_app, restore, worker  # noqa: E402

app.command()(worker)
app.command()(backup)
app.command()(restore)
app.add_typer(db_app, name="db")
