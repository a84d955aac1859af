"""`tokui scenarios`: list, show, import, export, enable, pause, dry-run, run-tick."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from tokui.cli import HomeOpt, _fail, console
from tokui.clock import Clock, FixedClock, SystemClock, utc_naive
from tokui.config import load_settings
from tokui.messaging.service import Messaging
from tokui.scenarios import store
from tokui.scenarios.definition import DefinitionError
from tokui.scenarios.dryrun import dry_run
from tokui.scenarios.engine import Engine
from tokui.state.db import session_scope
from tokui.state.scenarios import Enrollment
from tokui.workspace import Workspace

scenarios_app = typer.Typer(help="Scenarios: automated customer journeys.", no_args_is_help=True)

KeyArg = Annotated[str, typer.Argument(help="Scenario key")]


def _ws(home: Path | None) -> Workspace:
    return Workspace(load_settings(home))


@scenarios_app.command("list")
def list_(home: HomeOpt = None) -> None:
    """Every scenario with its status, version and enrollments by status."""
    ws = _ws(home)
    try:
        with session_scope(ws.sessions) as db:
            counts = Counter(
                {
                    (sid, status): n
                    for sid, status, n in db.execute(
                        select(Enrollment.scenario_id, Enrollment.status, func.count()).group_by(
                            Enrollment.scenario_id, Enrollment.status
                        )
                    )
                }
            )
            for s in store.list_all(db):
                d = store.load_version(store.version_row(db, s))
                mine = {st: n for (sid, st), n in counts.items() if sid == s.id}
                summary = " ".join(f"{k}={v}" for k, v in sorted(mine.items())) or "-"
                typer.echo(f"{s.key}\t{s.status}\tv{s.current_version}\t{d.name_ja}\t{summary}")
    finally:
        ws.close()


@scenarios_app.command("show")
def show(key: KeyArg, version: int | None = None, home: HomeOpt = None) -> None:
    """Print a scenario's definition (YAML)."""
    export(key, None, version, home)


@scenarios_app.command("export")
def export(
    key: KeyArg,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file")] = None,
    version: Annotated[int | None, typer.Option(help="Version (default current)")] = None,
    home: HomeOpt = None,
) -> None:
    """Export a scenario as YAML."""
    ws = _ws(home)
    try:
        with session_scope(ws.sessions) as db:
            s = store.get(db, key)
            text = store.to_yaml(store.load_version(store.version_row(db, s, version)))
    except store.ScenarioStoreError as exc:
        _fail(str(exc))
    finally:
        ws.close()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


@scenarios_app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="YAML files")], home: HomeOpt = None
) -> None:
    """Import scenarios from YAML; a changed definition becomes a new version. All files
    are validated before any is stored."""
    definitions = []
    for f in files:
        try:
            definitions.append(store.from_yaml(f.read_text(encoding="utf-8"), str(f)))
        except (OSError, DefinitionError) as exc:
            _fail(str(exc))
    ws = _ws(home)
    now = utc_naive(SystemClock().now())
    try:
        with session_scope(ws.sessions) as db:
            for d in definitions:
                saved = store.save(db, d, now)
                state = "new version" if saved.changed else "unchanged"
                console.print(f"{d.key}: v{saved.version.version} ({state})")
    finally:
        ws.close()


def _status(key: str, status: str, home: Path | None) -> None:
    ws = _ws(home)
    try:
        with session_scope(ws.sessions) as db:
            store.set_status(db, key, status, utc_naive(SystemClock().now()))
        console.print(f"{key}: {status}")
    except store.ScenarioStoreError as exc:
        _fail(str(exc))
    finally:
        ws.close()


@scenarios_app.command("enable")
def enable(key: KeyArg, home: HomeOpt = None) -> None:
    """Enable (or resume) a scenario; its trigger looks at events from now on."""
    _status(key, "enabled", home)


@scenarios_app.command("pause")
def pause(key: KeyArg, home: HomeOpt = None) -> None:
    """Pause a scenario: no one enters, enrolled customers wait where they are."""
    _status(key, "paused", home)


@scenarios_app.command("dry-run")
def dry_run_cmd(
    key: Annotated[str | None, typer.Argument(help="Stored scenario key")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A YAML definition")] = None,
    days: Annotated[int, typer.Option(min=1, max=400)] = 90,
    until: Annotated[
        str | None,
        typer.Option(help="End of the replay, ISO with zone (default now)"),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Who would have entered and which messages would have gone out over the last N days.
    Writes nothing."""
    if (key is None) == (file is None):
        _fail("give a scenario key or --file")
    clock: Clock = SystemClock()
    if until is not None:
        try:
            clock = FixedClock(datetime.fromisoformat(until))
        except ValueError as exc:
            _fail(f"--until: {exc}")
    ws = _ws(home)
    try:
        if file is not None:
            definition = store.from_yaml(file.read_text(encoding="utf-8"), str(file))
        else:
            assert key is not None
            with session_scope(ws.sessions) as db:
                definition = store.load_version(store.version_row(db, store.get(db, key)))
        report = dry_run(ws, definition, clock, days)
    except (OSError, DefinitionError, store.ScenarioStoreError, ValueError) as exc:
        _fail(str(exc))
        return
    finally:
        ws.close()
    console.print(f"{definition.key}: {len(report.entered)} would have entered in {days} days")
    by = Counter((m.step_id, m.channel, m.template) for m in report.messages)
    for (step, channel, template), n in sorted(by.items()):
        typer.echo(f"  {step}\t{channel}\t{template}\t{n}")
    console.print(f"  outcomes: {dict(sorted(report.outcomes.items()))}; later: {report.later}")
    for note in report.notes:
        console.print(f"  note: {note}")


@scenarios_app.command("run-tick")
def run_tick(home: HomeOpt = None) -> None:
    """Run one scheduler tick: enroll, then advance every due enrollment."""
    ws = _ws(home)
    clock = SystemClock()
    try:
        stats = Engine(Messaging(ws, clock), clock).tick()
    finally:
        ws.close()
    console.print(
        f"enrolled {stats.enrolled}, advanced {stats.advanced}, queued {stats.queued}, "
        f"held {stats.held}, skipped {stats.skipped}, finished {stats.finished}"
    )
