"""`tokui measure`: uplift, A/B tests, KPIs, best hours and the weekly PDCA report.

Dates are shop-local calendar days: --since is inclusive, --until exclusive (default:
today). Everything reads; only `ab --promote` writes (a new scenario version).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import pandas as pd
import typer

from tokui.cli import FormatOpt, HomeOpt, _fail, _writable_workspace, console
from tokui.clock import SystemClock, utc_naive
from tokui.config import load_settings
from tokui.measure.abtest import promote_winners, scenario_tests
from tokui.measure.attribution import Model, attribute
from tokui.measure.kpis import DIMENSIONS, kpis, segment_kpis
from tokui.measure.report import build_report, render_report
from tokui.measure.sendtime import best_hours, channel_preference
from tokui.measure.uplift import marketing_uplift, results_frame, scenario_uplift
from tokui.scenarios import store
from tokui.state.db import session_scope
from tokui.workspace import Workspace

measure_app = typer.Typer(
    help="Measurement: uplift, A/B tests, KPIs, the weekly report.", no_args_is_help=True
)

KeyOpt = Annotated[str | None, typer.Argument(help="Scenario key (default: every scenario)")]
SinceOpt = Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD (shop-local)")]
UntilOpt = Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD")]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Measure as of this time, ISO with zone (default: now)"),
]
WindowOpt = Annotated[
    float | None,
    typer.Option("--window-days", min=0.01, max=365, help="Window (default: the goal's, or 7)"),
]


def _ws(home: Path | None) -> Workspace:
    return Workspace(load_settings(home))


def _now(as_of: str | None) -> datetime:
    """The moment measured at (aware)."""
    if as_of is None:
        return SystemClock().now()
    try:
        moment = datetime.fromisoformat(as_of)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        _fail("--as-of: give an ISO time with its zone, e.g. 2026-01-05T12:00:00+09:00")
        raise typer.Exit(1)
    return moment


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    _fail(f"{name}: not a date (YYYY-MM-DD): {value!r}")
    return None


def _utc(day: date, tz: ZoneInfo) -> datetime:
    return utc_naive(datetime.combine(day, time(0), tzinfo=tz))


def _period(
    ws: Workspace, since: str | None, until: str | None, default_days: int
) -> tuple[datetime, datetime]:
    tz = ZoneInfo(ws.settings.timezone)
    end_day = _day(until, "--until") or SystemClock().now().astimezone(tz).date()
    start_day = _day(since, "--since") or end_day - timedelta(days=default_days)
    if start_day >= end_day:
        _fail("--since must be before --until")
    return _utc(start_day, tz), _utc(end_day, tz)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _print(df: pd.DataFrame, fmt: str) -> None:
    if fmt == "json":
        rows = [{k: _clean(v) for k, v in r.items()} for r in df.to_dict("records")]
        print(json.dumps(rows, ensure_ascii=False, default=str))
    elif fmt == "csv":
        print(df.to_csv(index=False), end="")
    elif fmt == "text":
        print(df.to_string(index=False) if not df.empty else "(nothing)")
    else:
        _fail(f"unknown format {fmt!r}; use text, json or csv")


def _keys(ws: Workspace, key: str | None) -> list[str]:
    with session_scope(ws.sessions) as db:
        if key is not None:
            store.get(db, key)
            return [key]
        return [s.key for s in store.list_all(db)]


@measure_app.command("uplift")
def uplift_cmd(
    key: KeyOpt = None,
    window_days: WindowOpt = None,
    since: Annotated[str | None, typer.Option(help="Entries from this day")] = None,
    until: Annotated[str | None, typer.Option(help="Entries before this day")] = None,
    all_marketing: Annotated[
        bool, typer.Option("--global", help="All marketing against the global control group")
    ] = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = "text",
    home: HomeOpt = None,
) -> None:
    """Treatment against holdout (and global control) per scenario, with 95% intervals."""
    ws = _ws(home)
    try:
        tz = ZoneInfo(ws.settings.timezone)
        now = utc_naive(_now(as_of))
        if all_marketing:
            start, end = _period(ws, since, until, 28)
            result = marketing_uplift(
                ws.warehouse, ws.settings.global_control_percent, start, min(end, now)
            )
            _print(results_frame([result]), fmt)
            return
        window = timedelta(days=window_days) if window_days else None
        first, last = _day(since, "--since"), _day(until, "--until")
        entered_from = _utc(first, tz) if first else None
        entered_before = _utc(last, tz) if last else None
        results = []
        with session_scope(ws.sessions) as db:
            for k in _keys(ws, key):
                results += scenario_uplift(
                    ws.warehouse, db, k, now, window, entered_from, entered_before
                )
        _print(results_frame(results), fmt)
    except (store.ScenarioStoreError, ValueError) as exc:
        _fail(str(exc))
    finally:
        ws.close()


@measure_app.command("ab")
def ab_cmd(
    key: KeyOpt = None,
    window_days: WindowOpt = None,
    promote: Annotated[
        bool, typer.Option("--promote", help="Promote significant winners of splits asking for it")
    ] = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = "text",
    home: HomeOpt = None,
) -> None:
    """Per split step and arm: sent, delivered, opened, clicked, converted, revenue,
    unsubscribes; z-test or chi-squared, probability to be best, sample size."""
    ws = _writable_workspace(home) if promote else _ws(home)
    try:
        now = utc_naive(_now(as_of))
        window = timedelta(days=window_days) if window_days else None
        rows = []
        with session_scope(ws.sessions) as db:
            if promote:
                for scenario, step, arm, version in promote_winners(ws.warehouse, db, now, now):
                    console.print(f"{scenario}/{step}: promoted {arm} (v{version})")
            for k in _keys(ws, key):
                for r in scenario_tests(ws.warehouse, db, k, now, window):
                    for a in r.arms:
                        d = asdict(a)
                        vs = d.pop("vs_first")
                        rows.append(
                            {
                                "scenario": k,
                                "step": r.step_id,
                                "arm": a.name,
                                **{x: y for x, y in d.items() if x != "name"},
                                "cvr": a.rate,
                                "diff_vs_first": vs["difference"] if vs else None,
                                "p_vs_first": vs["p_value"] if vs else None,
                                "test": r.test,
                                "p_value": r.p_value,
                                "required_per_arm": r.required_per_arm,
                                "winner": r.winner,
                                "promotable": r.promotable,
                            }
                        )
        _print(pd.DataFrame(rows), fmt)
    except (store.ScenarioStoreError, ValueError) as exc:
        _fail(str(exc))
    finally:
        ws.close()


@measure_app.command("kpis")
def kpis_cmd(
    since: SinceOpt = None,
    until: UntilOpt = None,
    by: Annotated[
        str, typer.Option(help=f"Comma-separated: {', '.join(DIMENSIONS)}, or segment")
    ] = "scenario_key,channel,week",
    window_days: Annotated[float, typer.Option("--window-days", min=0.01, max=90)] = 7,
    first_touch: Annotated[bool, typer.Option("--first-touch", help="First-touch credit")] = False,
    fmt: FormatOpt = "text",
    home: HomeOpt = None,
) -> None:
    """Response rate, CVR, revenue per recipient, unsubscribe and bounce rates (default:
    the last 28 days)."""
    ws = _ws(home)
    try:
        start, end = _period(ws, since, until, 28)
        tz = ZoneInfo(ws.settings.timezone)
        dims = [d.strip() for d in by.split(",") if d.strip()]
        model: Model = "first" if first_touch else "last"
        with session_scope(ws.sessions) as db:
            att = attribute(ws.warehouse, db, start, end, timedelta(days=window_days), model)
            if dims == ["segment"]:
                table = segment_kpis(ws.warehouse, db, start, end, att)
            else:
                table = kpis(ws.warehouse, db, start, end, dims, tz, attribution=att).table
        _print(table, fmt)
    except ValueError as exc:
        _fail(str(exc))
    finally:
        ws.close()


@measure_app.command("best-hours")
def best_hours_cmd(
    customers: Annotated[
        list[str] | None, typer.Argument(help="Customer ids (default: everyone with history)")
    ] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = "text",
    home: HomeOpt = None,
) -> None:
    """Each customer's best send hour (shop-local) and preferred channel, LINE or email."""
    ws = _ws(home)
    try:
        now = _now(as_of)
        tz = ZoneInfo(ws.settings.timezone)
        with session_scope(ws.sessions) as db:
            hours = best_hours(ws.warehouse, db, now, tz, customer_ids=customers or None)
            pref = channel_preference(db, now, customers or None)
        table = hours.table.merge(
            pref.drop_duplicates("customer_id")[["customer_id", "preferred"]],
            on="customer_id",
            how="outer",
        )
        if customers:
            missing = [c for c in customers if c not in set(table["customer_id"])]
            table = pd.concat(
                [table, pd.DataFrame({"customer_id": missing, "best_hour": hours.fallback})],
                ignore_index=True,
            )
        table["best_hour"] = table["best_hour"].fillna(hours.fallback).astype(int)
        _print(table.sort_values("customer_id", ignore_index=True), fmt)
    finally:
        ws.close()


@measure_app.command("report")
def report_cmd(
    week: Annotated[
        str | None, typer.Option(help="Any day of the week, YYYY-MM-DD (default: last week)")
    ] = None,
    lang: Annotated[str, typer.Option(help="ja or en")] = "ja",
    out: Annotated[Path | None, typer.Option("--out", help="Write the HTML here")] = None,
    as_of: AsOfOpt = None,
    home: HomeOpt = None,
) -> None:
    """The weekly PDCA report as printable HTML."""
    ws = _ws(home)
    try:
        now = _now(as_of)
        tz = ZoneInfo(ws.settings.timezone)
        day = _day(week, "--week") or now.astimezone(tz).date() - timedelta(days=7)
        with session_scope(ws.sessions) as db:
            report = build_report(
                ws.warehouse, db, day, now, tz, ws.settings.global_control_percent
            )
        html = render_report(report, lang)
    except ValueError as exc:
        _fail(str(exc))
        return
    finally:
        ws.close()
    if out is None:
        typer.echo(html, nl=False)
    else:
        out.write_text(html, encoding="utf-8")
        console.print(f"wrote {out}")
