"""The weekly PDCA report: per scenario what it changed, its tests, how this week compares
with last week, and what to do next. Printable HTML, Japanese or English.

Check: uplift against holdout and global control (all complete windows so far, the
more data the narrower the interval), A/B results, KPIs of this week and last week,
F2 and continuation changes. Act: suggestions by fixed rules, so the same numbers give
the same advice (thresholds below):

- a split whose test is significant and has no winner yet → promote the leader;
- a split that is not significant → keep it running until the sample size is reached,
  or, once reached, keep the simpler arm (they perform alike);
- an uplift whose interval lies above zero → keep it (with its incremental revenue);
  below zero → stop it; across zero with at least MIN_CONTROL control customers →
  "no measurable uplift: revise or stop"; fewer → wait for data;
- unsubscribe rate above UNSUBSCRIBE_MAX or bounce rate above BOUNCE_MAX this week;
- CVR down by more than CVR_DROP (relative) against last week, with at least
  MIN_DELIVERED delivered messages in both weeks.

The template (web/templates/measure/weekly_report.html) renders with autoescape, like
every template of the app; all text comes from web/i18n/measure.{ja,en}.json.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import pandas as pd
from ibis.backends import BaseBackend
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.clock import DEFAULT_TZ, utc_naive
from tokui.measure.abtest import ABResult, scenario_tests
from tokui.measure.kpis import RetentionChange, kpis, retention_changes
from tokui.measure.uplift import UpliftResult, marketing_uplift, scenario_uplift
from tokui.scenarios import store
from tokui.state.scenarios import Enrollment, Scenario
from tokui.web.i18n import LANGUAGES, translate

UNSUBSCRIBE_MAX = 0.005
BOUNCE_MAX = 0.02
CVR_DROP = 0.30
MIN_DELIVERED = 100
MIN_CONTROL = 200
GLOBAL = "*global-control*"
KPI_FIELDS = (
    "messages",
    "delivered",
    "open_rate",
    "response_rate",
    "cvr",
    "revenue",
    "revenue_per_recipient",
    "unsubscribe_rate",
    "bounce_rate",
)


@dataclass(frozen=True)
class Suggestion:
    level: str  # act | warn | good | info
    key: str  # i18n key under measure.rule.
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScenarioSection:
    key: str
    name_ja: str
    name_en: str
    status: str
    uplift: list[UpliftResult]
    tests: list[ABResult]
    retention: list[RetentionChange]
    this_week: dict[str, float]
    last_week: dict[str, float]
    suggestions: list[Suggestion]


@dataclass
class WeeklyReport:
    week_start: date  # shop-local Monday
    start: datetime  # naive UTC
    end: datetime
    generated_at: datetime
    scenarios: list[ScenarioSection]
    marketing: UpliftResult | None
    global_control_percent: float


def week_of(day: date, tz: ZoneInfo = DEFAULT_TZ) -> tuple[date, datetime, datetime]:
    """The shop-local week (Monday) containing `day`, as naive UTC bounds."""
    monday = day - timedelta(days=day.weekday())
    start = utc_naive(datetime.combine(monday, time(0), tzinfo=tz))
    end = utc_naive(datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz))
    return monday, start, end


def _kpi_row(table: pd.DataFrame, key: str) -> dict[str, float]:
    rows = table[table["scenario_key"] == key]
    if rows.empty:
        return {}
    r = rows.iloc[0]
    return {f: float(r[f]) for f in KPI_FIELDS if pd.notna(r[f])}


def suggestions(section: ScenarioSection) -> list[Suggestion]:
    out: list[Suggestion] = []
    for t in section.tests:
        if t.p_value is None:
            continue
        n_min = min(a.n for a in t.arms)
        if t.p_value < 0.05 and t.winner is None and t.leader is not None:
            out.append(
                Suggestion(
                    "act", "ab_promote", {"step": t.step_id, "arm": t.leader, "p": _p(t.p_value)}
                )
            )
        elif t.p_value >= 0.05 and t.required_per_arm is not None and n_min < t.required_per_arm:
            out.append(
                Suggestion(
                    "info", "ab_keep", {"step": t.step_id, "more": _num(t.required_per_arm - n_min)}
                )
            )
        elif t.p_value >= 0.05:
            out.append(Suggestion("warn", "ab_alike", {"step": t.step_id}))
    for u in section.uplift:
        if u.conversion is None:
            continue
        lo, hi = u.conversion.difference_ci
        values = {
            # The global control comparison has no step; the report names it.
            "step": u.step_id or GLOBAL,
            "uplift": _pts(u.conversion.difference),
            "revenue": _yen(u.incremental_revenue or 0.0),
        }
        if lo > 0:
            out.append(Suggestion("good", "uplift_positive", values))
        elif hi < 0:
            out.append(Suggestion("act", "uplift_negative", values))
        elif u.control.n >= MIN_CONTROL:
            out.append(Suggestion("act", "uplift_none", values))
        else:
            out.append(Suggestion("info", "uplift_wait", values | {"n": u.control.n}))
    now, before = section.this_week, section.last_week
    if now.get("unsubscribe_rate", 0.0) > UNSUBSCRIBE_MAX:
        out.append(
            Suggestion(
                "warn",
                "unsubscribe_high",
                {"rate": _pct(now["unsubscribe_rate"]), "limit": _pct(UNSUBSCRIBE_MAX)},
            )
        )
    if now.get("bounce_rate", 0.0) > BOUNCE_MAX:
        out.append(
            Suggestion(
                "warn", "bounce_high", {"rate": _pct(now["bounce_rate"]), "limit": _pct(BOUNCE_MAX)}
            )
        )
    if (
        now.get("delivered", 0) >= MIN_DELIVERED
        and before.get("delivered", 0) >= MIN_DELIVERED
        and before.get("cvr", 0.0) > 0
        and now.get("cvr", 0.0) < before["cvr"] * (1 - CVR_DROP)
    ):
        out.append(
            Suggestion(
                "warn",
                "cvr_down",
                {"now": _pct(now.get("cvr", 0.0)), "before": _pct(before["cvr"])},
            )
        )
    return out


def build_report(
    con: BaseBackend,
    db: Session,
    day: date,
    now: datetime,
    tz: ZoneInfo = DEFAULT_TZ,
    global_control_percent: float = 0.0,
) -> WeeklyReport:
    """The report of the shop-local week containing `day`; `now` is aware."""
    monday, start, end = week_of(day, tz)
    _, prev_start, _ = week_of(monday - timedelta(days=7), tz)
    as_of = utc_naive(now)  # every window complete by now, not only this week's
    this = kpis(con, db, start, end, by=["scenario_key"], tz=tz).table
    last = kpis(con, db, prev_start, start, by=["scenario_key"], tz=tz).table
    # Pending rows are timers, not enrollments (tokui.scenarios.timers).
    active = set(
        db.scalars(select(Enrollment.scenario_id).where(Enrollment.status != "pending").distinct())
    )
    sections = []
    for scenario in db.scalars(select(Scenario).order_by(Scenario.key)):
        if scenario.status != "enabled" and scenario.id not in active:
            continue
        d = store.load_version(store.version_row(db, scenario))
        section = ScenarioSection(
            scenario.key,
            d.name_ja,
            d.name_en,
            scenario.status,
            scenario_uplift(con, db, scenario.key, as_of),
            scenario_tests(con, db, scenario.key, as_of),
            retention_changes(con, db, scenario.key, as_of),
            _kpi_row(this, scenario.key),
            _kpi_row(last, scenario.key),
            [],
        )
        section.suggestions = suggestions(section)
        sections.append(section)
    marketing = None
    if global_control_percent > 0:
        try:
            marketing = marketing_uplift(con, global_control_percent, start, end)
        except ValueError:
            marketing = None
    return WeeklyReport(
        monday, start, end, utc_naive(now), sections, marketing, global_control_percent
    )


# formatting ---------------------------------------------------------------------------
def _pct(x: float | None, digits: int = 1) -> str:
    return (
        "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x * 100:.{digits}f}%"
    )


def _pts(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:+.1f}pt"


def _yen(x: float | None) -> str:
    if x is None:
        return "–"
    v = round(x)
    return f"-¥{-v:,}" if v < 0 else f"¥{v:,}"


def _p(x: float | None) -> str:
    if x is None:
        return "–"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _days(x: float) -> str:
    return f"{x:g}" if x == round(x) else f"{x:.1f}"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _interval_svg(lo: float, hi: float, mid: float, scale: float) -> dict[str, float]:
    """Positions (0-200 px) of an interval bar centred on zero, for the template."""

    def px(v: float) -> float:
        return round(100 + 95 * max(-1.0, min(1.0, v / scale)), 1)

    return {"lo": px(lo), "hi": px(hi), "mid": px(mid), "zero": 100.0}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tokui.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(pct=_pct, pts=_pts, yen=_yen, p=_p, num=_num, days=_days)
    return env


def _context(report: WeeklyReport, lang: str) -> dict[str, Any]:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")

    def t(key: str, **values: Any) -> str:
        if values.get("step") == GLOBAL:
            values["step"] = translate(lang, "measure.kind.global_control")
        return translate(lang, f"measure.{key}", **values)

    scale = max(
        [
            max(abs(u.conversion.difference_ci[0]), abs(u.conversion.difference_ci[1]))
            for s in report.scenarios
            for u in s.uplift
            if u.conversion is not None
        ]
        or [0.1]
    )
    return {
        "report": report,
        "lang": lang,
        "t": t,
        "kpi_fields": KPI_FIELDS,
        "interval": lambda c: _interval_svg(
            c.difference_ci[0], c.difference_ci[1], c.difference, scale or 0.1
        ),
        "money_fields": {"revenue", "revenue_per_recipient"},
        "count_fields": {"messages", "delivered"},
    }


def render_report(report: WeeklyReport, lang: str = "ja") -> str:
    """The standalone printable page (its own styles; for files and e-mail)."""
    template = _environment().get_template("measure/weekly_report.html")
    return template.render(**_context(report, lang))


def render_report_body(report: WeeklyReport, lang: str = "ja") -> Markup:
    """The report's content alone, autoescaped, for the web page (/measurement/report),
    which wraps it in the app's layout and stylesheet."""
    template = _environment().get_template("measure/_report_body.html")
    return Markup(template.render(**_context(report, lang)))  # noqa: S704
