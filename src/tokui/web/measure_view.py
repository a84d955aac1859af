"""What the measurement pages need besides the numbers: the query parameters they accept
(each checked against a whitelist or a range, with an error naming the parameter),
number formats, and the Plotly figures (drawn by static/measure.js from JSON blocks,
like the dashboard's, so the Content-Security-Policy can forbid inline scripts).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from tokui.measure.abtest import ABResult
from tokui.measure.overview import OverviewRow
from tokui.measure.uplift import UpliftResult
from tokui.web.i18n import translate

DAY_CHOICES = (7, 28, 90, 365)
DEFAULT_DAYS = 28
MODELS = ("last", "first")
MIN_WINDOW_DAYS, MAX_WINDOW_DAYS, DEFAULT_WINDOW_DAYS = 1, 90, 7
MIN_WEEKS, MAX_WEEKS, DEFAULT_WEEKS = 1, 52, 8
ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
Z95 = 1.959963984540054
COLORS = {"treatment": "#0b6e4f", "control": "#9aa5b1", "good": "#0b6e4f", "bad": "#c0392b"}
RATE_COLORS = {"open_rate": "#2f6f9f", "response_rate": "#e67e22", "cvr": "#0b6e4f"}
FONT = {"family": "Noto Sans CJK JP, Noto Sans JP, sans-serif", "size": 13}


class ParamError(ValueError):
    """A query parameter outside what the page accepts; names the parameter."""

    def __init__(self, name: str, allowed: str) -> None:
        super().__init__(f"{name}: {allowed}")
        self.name = name
        self.allowed = allowed


def choice(name: str, raw: str | None, allowed: Sequence[str], default: str) -> str:
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise ParamError(name, ", ".join(allowed))
    return raw


def whole(name: str, raw: str | None, low: int, high: int, default: int) -> int:
    """An integer in [low, high]."""
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{1,6}", raw) or not low <= int(raw) <= high:
        raise ParamError(name, f"{low}–{high}")
    return int(raw)


def days_choice(raw: str | None) -> int:
    allowed = [str(d) for d in DAY_CHOICES]
    return int(choice("days", raw, allowed, str(DEFAULT_DAYS)))


def iso_week(raw: str | None, default: date) -> date:
    """The Monday of an ISO week `YYYY-Www` (what <input type="week"> sends)."""
    if raw is None or raw == "":
        return default - timedelta(days=default.weekday())
    match = ISO_WEEK.match(raw)
    try:
        if match is None:
            raise ValueError(raw)
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise ParamError("week", "YYYY-Www, e.g. 2026-W02") from None


def week_text(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


# ------------------------------------------------------------------ formats


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


class Formats:
    """Number formats the templates call (`fmt.pct(x)`): "–" for what is missing."""

    @staticmethod
    def pct(x: float | None, digits: int = 1) -> str:
        return "–" if _missing(x) else f"{x * 100:.{digits}f}%"  # type: ignore[operator]

    @staticmethod
    def pts(x: float | None) -> str:
        return "–" if _missing(x) else f"{x * 100:+.1f}pt"  # type: ignore[operator]

    @staticmethod
    def rel(x: float | None) -> str:
        return "–" if _missing(x) else f"{x * 100:+.0f}%"  # type: ignore[operator]

    @staticmethod
    def yen(x: float | None) -> str:
        if _missing(x):
            return "–"
        v = round(float(x))  # type: ignore[arg-type]
        return f"-¥{-v:,}" if v < 0 else f"¥{v:,}"

    @staticmethod
    def num(x: float | None) -> str:
        return "–" if _missing(x) else f"{round(float(x)):,}"  # type: ignore[arg-type]

    @staticmethod
    def dec(x: float | None) -> str:
        return "–" if _missing(x) else f"{x:+.1f}"

    @staticmethod
    def p(x: float | None) -> str:
        if _missing(x):
            return "–"
        return "<0.001" if x < 0.001 else f"{x:.3f}"  # type: ignore[operator]

    @staticmethod
    def days(x: float) -> str:
        return f"{x:g}" if x == round(x) else f"{x:.1f}"


FMT = Formats()


def value(row: Mapping[str, Any], name: str) -> float | None:
    """A number from a KPI row, None for NaN."""
    x = row.get(name)
    if x is None:
        return None
    f = float(x)
    return None if math.isnan(f) else f


# ------------------------------------------------------------------ charts


def text(label: str) -> str:
    """A name someone typed (a scenario, a segment), as Plotly shows it: Plotly reads a few
    HTML tags in labels (<a href>, <b>), so markup is escaped and shows as typed."""
    return html.escape(label, quote=False)


def _layout(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "margin": {"l": 70, "r": 60, "t": 10, "b": 50},
        "legend": {"orientation": "h", "y": -0.2},
        "font": FONT,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    base.update(extra)
    return base


def _gap(categories: int) -> float:
    """Wider gaps for few categories, so one bar does not fill the whole chart."""
    return 0.6 if categories <= 2 else 0.4 if categories <= 4 else 0.2


def _half_width(rate: float, n: int) -> float:
    return Z95 * math.sqrt(rate * (1 - rate) / n) if n > 0 else 0.0


def comparison_label(lang: str, u: UpliftResult) -> str:
    kind = translate(lang, f"measure.kind.{u.kind}")
    return f"{kind} ({u.step_id})" if u.step_id else kind


def uplift_chart(results: list[UpliftResult], lang: str) -> dict[str, Any] | None:
    """Conversion rates of the treated and the control side of each comparison, with
    their 95 % intervals."""
    shown = [u for u in results if u.treatment.n > 0 and u.control.n > 0]
    if not shown:
        return None
    labels = [comparison_label(lang, u) for u in shown]

    def bars(side: str) -> dict[str, Any]:
        groups = [getattr(u, side) for u in shown]
        name = translate(lang, f"measure.col.{side}")
        return {
            "type": "bar",
            "name": name,
            "x": labels,
            "y": [round(g.rate * 100, 2) for g in groups],
            "error_y": {
                "type": "data",
                "array": [round(_half_width(g.rate, g.n) * 100, 2) for g in groups],
            },
            "marker": {"color": COLORS[side]},
            "hovertemplate": "%{x}<br>" + name + ": %{y:.1f}%<extra></extra>",
        }

    return {
        "data": [bars("treatment"), bars("control")],
        "layout": _layout(
            barmode="group",
            bargap=_gap(len(shown)),
            yaxis={"ticksuffix": "%", "rangemode": "tozero"},
            xaxis={"type": "category"},
        ),
    }


def arms_chart(test: ABResult, lang: str) -> dict[str, Any] | None:
    arms = [a for a in test.arms if a.n > 0]
    if not arms:
        return None
    best = test.winner or test.leader
    name = translate(lang, "measure.col.buyers_rate")
    return {
        "data": [
            {
                "type": "bar",
                "name": name,
                "x": [a.name for a in arms],
                "y": [round(a.rate * 100, 2) for a in arms],
                "error_y": {
                    "type": "data",
                    "array": [round(_half_width(a.rate, a.n) * 100, 2) for a in arms],
                },
                "marker": {
                    "color": [COLORS["good"] if a.name == best else COLORS["control"] for a in arms]
                },
                "hovertemplate": "%{x}<br>" + name + ": %{y:.1f}%<extra></extra>",
            }
        ],
        "layout": _layout(
            bargap=_gap(len(arms)),
            yaxis={"ticksuffix": "%", "rangemode": "tozero"},
            xaxis={"type": "category"},
            showlegend=False,
        ),
    }


def _rate_lines(
    frame: pd.DataFrame, x: list[str], lang: str, kind: str, yaxis: str = "y"
) -> list[dict[str, Any]]:
    out = []
    for rate, color in RATE_COLORS.items():
        name = translate(lang, f"measure.kpi.{rate}")
        ys = [None if _missing(v) else round(float(v) * 100, 2) for v in frame[rate]]
        trace: dict[str, Any] = {
            "type": kind,
            "name": name,
            "x": x,
            "y": ys,
            "yaxis": yaxis,
            "marker": {"color": color},
            "hovertemplate": "%{x}<br>" + name + ": %{y:.1f}%<extra></extra>",
        }
        if kind == "scatter":
            trace["mode"] = "lines+markers"
            trace["line"] = {"color": color}
            trace["connectgaps"] = False
        out.append(trace)
    return out


def weekly_chart(weekly: pd.DataFrame, lang: str) -> dict[str, Any] | None:
    """Delivered messages per week (bars, right axis) and the rates (lines, left)."""
    if weekly.empty or int(weekly["messages"].sum()) == 0:
        return None
    x = [str(w) for w in weekly["week"]]
    name = translate(lang, "measure.kpi.delivered")
    bars = {
        "type": "bar",
        "name": name,
        "x": x,
        "y": [int(v) for v in weekly["delivered"]],
        "marker": {"color": "#d9e2ec"},
        "hovertemplate": "%{x}<br>" + name + ": %{y:,}<extra></extra>",
    }
    # The rates on the overlaying axis: Plotly draws it above the bars.
    return {
        "data": [bars, *_rate_lines(weekly, x, lang, "scatter", "y2")],
        "layout": _layout(
            xaxis={"type": "category"},
            yaxis={"rangemode": "tozero", "title": {"text": name}},
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "rangemode": "tozero",
                "ticksuffix": "%",
                "tickmode": "auto",
                "showgrid": False,
            },
        ),
    }


def rates_chart(frame: pd.DataFrame, labels: list[str], lang: str) -> dict[str, Any] | None:
    """Open, response and conversion rates side by side for each row (channel, segment)."""
    if frame.empty:
        return None
    return {
        "data": _rate_lines(frame, [text(x) for x in labels], lang, "bar"),
        "layout": _layout(
            barmode="group",
            bargap=_gap(len(labels)),
            xaxis={"type": "category"},
            yaxis={"ticksuffix": "%", "rangemode": "tozero"},
        ),
    }


@dataclass(frozen=True)
class _Point:
    label: str
    mid: float
    low: float
    high: float


def incremental_chart(rows: list[OverviewRow], lang: str) -> dict[str, Any] | None:
    """Incremental revenue of each scenario with a comparison, with its 95 % interval."""
    points = []
    for r in rows:
        ci = r.incremental_revenue_ci
        if r.incremental_revenue is None or ci is None:
            continue
        points.append(_Point(text(r.name(lang)), r.incremental_revenue, ci[0], ci[1]))
    if not points:
        return None
    name = translate(lang, "measure.col.incremental_revenue")
    return {
        "data": [
            {
                "type": "bar",
                "name": name,
                "x": [p.label for p in points],
                "y": [round(p.mid) for p in points],
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [round(p.high - p.mid) for p in points],
                    "arrayminus": [round(p.mid - p.low) for p in points],
                },
                "marker": {
                    "color": [COLORS["good"] if p.low > 0 else COLORS["control"] for p in points]
                },
                "hovertemplate": "%{x}<br>" + name + ": ¥%{y:,}<extra></extra>",
            }
        ],
        "layout": _layout(
            bargap=_gap(len(points)),
            xaxis={"type": "category"},
            yaxis={"tickprefix": "¥", "tickformat": ",d", "zeroline": True},
            showlegend=False,
        ),
    }
