"""The measurement area: every scenario at a glance (/measurement), one scenario's results
(/scenarios/{key}/results), the weekly PDCA report (/measurement/report) and the sample
size calculator (/measurement/sample-size).

Everyone signed in (not the call center) reads them; promoting an A/B winner is a
change to the scenario, so it needs the marketer role, a CSRF token (the middleware)
and is written to the audit log. Handlers are thin: the numbers come from
tokui.measure, the same functions as `tokui measure`. Query parameters are checked
against whitelists and ranges (tokui.web.measure_view); anything else is answered with
400 and the parameter's name, and never reaches a query.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tokui.clock import utc_naive
from tokui.measure.abtest import promote
from tokui.measure.attribution import Model
from tokui.measure.overview import DIRECTIONS, SORTS, overview, sort_rows
from tokui.measure.report import (
    BOUNCE_MAX,
    UNSUBSCRIBE_MAX,
    build_report,
    render_report,
    render_report_body,
)
from tokui.measure.results import scenario_results
from tokui.measure.stats import sample_size_per_arm
from tokui.scenarios import store
from tokui.scenarios.definition import ScenarioDefinition, Split
from tokui.segments.store import all_definitions
from tokui.state.db import session_scope
from tokui.state.models import Role, User
from tokui.web import audit
from tokui.web.auth import require
from tokui.web.context import WebContext, web_context
from tokui.web.i18n import translate
from tokui.web.measure_view import (
    DAY_CHOICES,
    DEFAULT_WEEKS,
    DEFAULT_WINDOW_DAYS,
    FMT,
    MAX_WEEKS,
    MAX_WINDOW_DAYS,
    MIN_WEEKS,
    MIN_WINDOW_DAYS,
    MODELS,
    ParamError,
    arms_chart,
    choice,
    comparison_label,
    days_choice,
    incremental_chart,
    iso_week,
    rates_chart,
    uplift_chart,
    week_text,
    weekly_chart,
    whole,
)
from tokui.web.plotly_assets import GLOBAL_STYLE_ID, plotly_version, style_guard_ids
from tokui.web.scenario_text import option_label
from tokui.web.templating import json_for_script, render, request_language

router = APIRouter()

Viewer = Annotated[User, require(Role.viewer)]
Marketer = Annotated[User, require(Role.marketer)]

NUMBER = re.compile(r"^\d{1,3}(\.\d{1,6})?$|^0?\.\d{1,6}$")
MDE_TYPES = ("relative", "absolute")


def _tz(ctx: WebContext) -> ZoneInfo:
    return ZoneInfo(ctx.ws.settings.timezone)


def _utc(day: date, tz: ZoneInfo) -> datetime:
    return utc_naive(datetime.combine(day, time(0), tzinfo=tz))


def _local(ctx: WebContext, at: datetime) -> datetime:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(_tz(ctx))


def _today(ctx: WebContext) -> date:
    return ctx.clock.now().astimezone(_tz(ctx)).date()


def _quote(value: str) -> str:
    return quote(value, safe="")


def _plotly() -> dict[str, Any]:
    return {
        "plotly_version": plotly_version(),
        "plotly_style_id": GLOBAL_STYLE_ID,
        "plotly_guard_ids": style_guard_ids(),
    }


def _chart(figure: dict[str, Any] | None) -> Any:
    return json_for_script(figure) if figure is not None else None


def _bad_param(request: Request, lang: str, exc: ParamError, back: str) -> Response:
    text = translate(lang, "measure.page.bad_param", name=exc.name, allowed=exc.allowed)
    return render(request, "measure/message.html", {"message": text, "back": back}, 400)


# ------------------------------------------------------------------ overview


@router.get("/measurement")
def overview_page(
    request: Request,
    user: Viewer,
    days: str | None = None,
    sort: str | None = None,
    dir: str | None = None,
) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    try:
        n_days = days_choice(days)
        by = choice("sort", sort, SORTS, "incremental_revenue")
        direction = choice("dir", dir, DIRECTIONS, "desc")
    except ParamError as exc:
        return _bad_param(request, lang, exc, "/measurement")
    tz = _tz(ctx)
    end_day = _today(ctx) + timedelta(days=1)
    start, end = _utc(end_day - timedelta(days=n_days), tz), _utc(end_day, tz)
    percent = ctx.ws.settings.global_control_percent
    with ctx.warehouse_lock, session_scope(ctx.ws.sessions) as db:
        view = overview(ctx.ws.warehouse, db, start, end, utc_naive(ctx.clock.now()), percent)
    rows = sort_rows(view.rows, by, direction, lang)

    def sort_url(key: str) -> str:
        flip = "asc" if by == key and direction == "desc" else "desc"
        return "/measurement?" + urlencode({"days": n_days, "sort": key, "dir": flip})

    return render(
        request,
        "measure/overview.html",
        {
            "view": view,
            "rows": rows,
            "days": n_days,
            "day_choices": DAY_CHOICES,
            "sort": by,
            "dir": direction,
            "sort_url": sort_url,
            "quote": _quote,
            "fmt": FMT,
            "period_start": end_day - timedelta(days=n_days),
            "period_end": end_day - timedelta(days=1),
            "unsubscribe_max": FMT.pct(UNSUBSCRIBE_MAX),
            "bounce_max": FMT.pct(BOUNCE_MAX),
            "chart_json": _chart(incremental_chart(rows, lang)),
            "calc": _calc_defaults(),
            "last_week": week_text(_today(ctx) - timedelta(days=7)),
            **_plotly(),
        },
    )


# ------------------------------------------------------------------ sample size


def _calc_defaults() -> dict[str, str]:
    return {"baseline": "5", "mde": "10", "mde_type": "relative", "alpha": "0.05", "power": "0.8"}


def _number(
    errors: dict[str, str], lang: str, name: str, raw: str, low: float, high: float
) -> float:
    """A decimal strictly between low and high, else an error for the field."""
    raw = raw.strip()
    if NUMBER.match(raw) and low < float(raw) < high:
        return float(raw)
    errors[name] = translate(lang, "measure.calc.err.range", low=f"{low:g}", high=f"{high:g}")
    return 0.0


@router.get("/measurement/sample-size")
def sample_size_page(
    request: Request,
    user: Viewer,
    baseline: str | None = None,
    mde: str | None = None,
    mde_type: str | None = None,
    alpha: str | None = None,
    power: str | None = None,
) -> Response:
    lang = request_language(request, user)
    values = _calc_defaults()
    given = {"baseline": baseline, "mde": mde, "mde_type": mde_type, "alpha": alpha, "power": power}
    values.update({k: v[:20] for k, v in given.items() if v is not None})
    errors: dict[str, str] = {}
    result = None
    if baseline is not None:
        if values["mde_type"] not in MDE_TYPES:
            errors["mde_type"] = translate(lang, "measure.calc.err.type")
        p1 = _number(errors, lang, "baseline", values["baseline"], 0, 100) / 100
        effect = _number(errors, lang, "mde", values["mde"], 0, 1000) / 100
        a = _number(errors, lang, "alpha", values["alpha"], 0, 0.5)
        b = _number(errors, lang, "power", values["power"], 0.5, 1)
        if not errors:
            absolute = effect * p1 if values["mde_type"] == "relative" else effect
            if p1 + absolute >= 1:
                errors["mde"] = translate(lang, "measure.calc.err.too_big")
            else:
                n = sample_size_per_arm(p1, absolute, a, b)
                result = {
                    "n": n,
                    "total": 2 * n,
                    "p1": FMT.pct(p1, 2),
                    "p2": FMT.pct(p1 + absolute, 2),
                }
    return render(
        request,
        "measure/sample_size.html",
        {"values": values, "errors": errors, "result": result, "mde_types": MDE_TYPES},
        status_code=422 if errors else 200,
    )


# ------------------------------------------------------------------ weekly report


@router.get("/measurement/report")
def report_page(
    request: Request, user: Viewer, week: str | None = None, format: str | None = None
) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    try:
        monday = iso_week(week, _today(ctx) - timedelta(days=7))
        as_file = choice("format", format, ("html",), "") == "html"
    except ParamError as exc:
        return _bad_param(request, lang, exc, "/measurement/report")
    tz = _tz(ctx)
    percent = ctx.ws.settings.global_control_percent
    with ctx.warehouse_lock, session_scope(ctx.ws.sessions) as db:
        report = build_report(ctx.ws.warehouse, db, monday, ctx.clock.now(), tz, percent)
    this_monday = _today(ctx) - timedelta(days=_today(ctx).weekday())
    if as_file:
        name = f"tokui-pdca-{week_text(monday)}-{lang}.html"
        return Response(
            render_report(report, lang),
            media_type="text/html; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    return render(
        request,
        "measure/report_page.html",
        {
            "week": week_text(monday),
            "monday": monday,
            "previous": week_text(monday - timedelta(days=7)),
            "next": week_text(monday + timedelta(days=7)) if monday < this_monday else None,
            "body": render_report_body(report, lang),
        },
    )


# ------------------------------------------------------------------ one scenario


def _scenario(ctx: WebContext, key: str) -> tuple[str, ScenarioDefinition]:
    with session_scope(ctx.ws.sessions) as db:
        try:
            scenario = store.get(db, key)
            return scenario.status, store.load_version(store.version_row(db, scenario))
        except store.ScenarioStoreError:
            raise HTTPException(status_code=404) from None


@router.get("/scenarios/{key}/results")
def results_page(
    request: Request,
    user: Viewer,
    key: str,
    model: str | None = None,
    window: str | None = None,
    weeks: str | None = None,
    promoted: str | None = None,
) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    status, definition = _scenario(ctx, key)
    back = f"/scenarios/{_quote(key)}/results"
    try:
        chosen: Model = "first" if choice("model", model, MODELS, "last") == "first" else "last"
        window_days = whole("window", window, MIN_WINDOW_DAYS, MAX_WINDOW_DAYS, DEFAULT_WINDOW_DAYS)
        n_weeks = whole("weeks", weeks, MIN_WEEKS, MAX_WEEKS, DEFAULT_WEEKS)
    except ParamError as exc:
        return _bad_param(request, lang, exc, back)
    tz = _tz(ctx)
    today = _today(ctx)
    first_monday = today - timedelta(days=today.weekday() + 7 * (n_weeks - 1))
    start, end = _utc(first_monday, tz), _utc(today + timedelta(days=1), tz)
    with ctx.warehouse_lock, session_scope(ctx.ws.sessions) as db:
        r = scenario_results(
            ctx.ws.warehouse,
            db,
            key,
            start,
            end,
            utc_naive(ctx.clock.now()),
            timedelta(days=window_days),
            chosen,
            tz,
        )
        segment_names = {
            k: (d.name_ja if lang == "ja" else d.name_en) for k, d in all_definitions(db).items()
        }
    channels = [option_label(lang, "channel", c) for c in r.channels["channel"]]
    segments = [segment_names.get(k, k) for k in r.segments["segment_key"]]
    splits = {s.id: s for s in definition.steps if isinstance(s, Split)}
    tests = [
        {
            "r": t,
            "chart": _chart(arms_chart(t, lang)),
            "auto": splits[t.step_id].promote if t.step_id in splits else None,
        }
        for t in r.tests
    ]

    def model_url(m: str) -> str:
        return back + "?" + urlencode({"model": m, "window": window_days, "weeks": n_weeks})

    return render(
        request,
        "measure/results.html",
        {
            "key": key,
            "name": definition.name_ja if lang == "ja" else definition.name_en,
            "status": status,
            "quote_key": _quote(key),
            "r": r,
            "fmt": FMT,
            "label": lambda u: comparison_label(lang, u),
            "model": chosen,
            "models": MODELS,
            "model_url": model_url,
            "window": window_days,
            "weeks": n_weeks,
            "limits": {
                "window": (MIN_WINDOW_DAYS, MAX_WINDOW_DAYS),
                "weeks": (MIN_WEEKS, MAX_WEEKS),
            },
            "period_start": first_monday,
            "period_end": today,
            "as_of": _local(ctx, ctx.clock.now()),
            "tests": tests,
            "weekly": r.weekly.to_dict("records"),
            "channels": list(zip(channels, r.channels.to_dict("records"), strict=True)),
            "segments": list(zip(segments, r.segments.to_dict("records"), strict=True)),
            "by_touch": [
                (option_label(lang, "channel", row["channel"]), row)
                for row in r.by_touch.to_dict("records")
            ],
            "retention": [c for c in r.retention if c.comparison is not None],
            "can_promote": user.role_enum.allows(Role.marketer),
            "promoted": promoted if promoted in {a.name for t in r.tests for a in t.arms} else None,
            "uplift_chart": _chart(uplift_chart(r.uplift, lang)),
            "weekly_chart": _chart(weekly_chart(r.weekly, lang)),
            "channel_chart": _chart(rates_chart(r.channels, channels, lang)),
            "segment_chart": _chart(rates_chart(r.segments, segments, lang)),
            **_plotly(),
        },
    )


@router.post("/scenarios/{key}/results/promote")
async def promote_winner(request: Request, user: Marketer, key: str) -> Response:
    form = await request.form()
    try:
        step = str(form.get("step") or "")[:32]
        arm = str(form.get("arm") or "")[:32]
    finally:
        await form.close()
    return await run_in_threadpool(_promote, request, user, key, step, arm)


def _promote(request: Request, user: User, key: str, step: str, arm: str) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    _, definition = _scenario(ctx, key)
    back = f"/scenarios/{_quote(key)}/results"
    split = next((s for s in definition.steps if isinstance(s, Split) and s.id == step), None)
    if split is None or arm not in [a.name for a in split.arms]:
        text = translate(lang, "measure.promote.err.unknown", step=step, arm=arm)
        return render(request, "measure/message.html", {"message": text, "back": back}, 422)
    if split.winner is not None:
        text = translate(lang, "measure.promote.err.done", step=step, arm=split.winner)
        return render(request, "measure/message.html", {"message": text, "back": back}, 409)
    with session_scope(ctx.ws.sessions) as db:
        version = promote(db, key, step, arm, utc_naive(ctx.clock.now()), user.id)
        audit.add_entry(db, ctx, user.id, "scenario.promote", key, f"{step}={arm} v{version}")
    return RedirectResponse(f"{back}?promoted={_quote(arm)}", status_code=303)
