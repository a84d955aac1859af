"""Plotly figures (as plain JSON-able dicts) for analysis results.

A template's own `Chart` is used when it has one. A template that only declares a table
gets a chart derived from the shape of its result: a line over time for a date column
with measures, a heatmap for two labelled dimensions and a measure, a bar for a short
list of labelled rows, and a histogram of the main measure for long per-customer lists.

The figure is computed here, in Python, so the browser only draws it (static JS under
the strict CSP) and every value in it went through json_for_script on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tokui.analytics.columns import column_format, format_value, label, plain_value
from tokui.analytics.registry import Chart, Template

# Enough for any bar or line a person can read; long results are in the table.
MAX_POINTS = 2_000
MAX_HEATMAP_SIDE = 120
MAX_BAR_CATEGORIES = 60
HISTOGRAM_BINS = 20
# Sort keys and running numbers are not worth drawing.
_HELPER_SUFFIXES = ("_order", "rank_no", "rule_no")
COLORS = ("#2f6f9f", "#c0504d", "#9bbb59", "#8064a2", "#f79646", "#4bacc6", "#8c2f39")


@dataclass(frozen=True)
class Figure:
    """The Plotly figure, how it was chosen and how many rows it leaves out."""

    spec: dict[str, Any]
    kind: str
    derived: bool
    rows_drawn: int
    rows_total: int


def default_chart(template: Template, df: pd.DataFrame) -> Chart | None:
    """The template's chart, or one derived from the result's columns."""
    if template.chart.kind != "table":
        chart = template.chart
        needed = [c for c in (chart.x, *chart.y, chart.color, chart.z) if c]
        if all(c in df.columns for c in needed):
            return chart
    return derive_chart(df)


def derive_chart(df: pd.DataFrame) -> Chart | None:
    fmts = {c: column_format(c, df[c]) for c in df.columns}
    measures = [
        c
        for c in df.columns
        if fmts[c] in ("yen", "rate", "int", "decimal") and not c.endswith(_HELPER_SUFFIXES)
    ]
    dims = [c for c in df.columns if fmts[c] in ("text", "date", "month")]
    if not measures or not dims:
        return None
    first = dims[0]
    main = next((m for m in measures if fmts[m] == "yen"), measures[0])
    if first.endswith("_id") and df[first].is_unique:
        # One row per customer (or order): the distribution says more than the rows.
        return Chart("histogram", x=main)
    if fmts[first] in ("date", "month"):
        same = [m for m in measures if fmts[m] == fmts[measures[0]]][:3]
        return Chart("line", x=first, y=tuple(same))
    if len(dims) >= 2 and _is_matrix(df, first, dims[1]):
        return Chart("heatmap", x=dims[1], y=(first,), z=measures[0])
    if len(df) <= MAX_BAR_CATEGORIES:
        return Chart("bar", x=first, y=(measures[0],))
    return Chart("histogram", x=main)


def _is_matrix(df: pd.DataFrame, rows: str, cols: str) -> bool:
    """Both columns repeat their values and each pair occurs once: a cross table."""
    n_rows, n_cols = df[rows].nunique(), df[cols].nunique()
    return (
        n_rows < len(df)
        and n_cols < len(df)
        and n_rows <= MAX_HEATMAP_SIDE
        and n_cols <= MAX_HEATMAP_SIDE
        and not df.duplicated([rows, cols]).any()
    )


def figure(template: Template, df: pd.DataFrame, lang: str) -> Figure | None:
    if df.empty:
        return None
    chart = default_chart(template, df)
    if chart is None:
        return None
    derived = chart is not template.chart
    fmts = {c: column_format(c, df[c]) for c in df.columns}
    if chart.kind == "histogram":
        assert chart.x is not None
        spec = _histogram(df[chart.x], chart.x, fmts[chart.x], lang)
        return Figure(spec, "histogram", derived, len(df), len(df))
    if chart.kind == "heatmap":
        spec = _heatmap(df, chart, fmts, lang)
        return Figure(spec, "heatmap", derived, len(df), len(df))
    drawn = df.head(MAX_POINTS)
    spec = _xy(drawn, chart, fmts, lang)
    return Figure(spec, chart.kind, derived, len(drawn), len(df))


def _values(series: pd.Series, fmt: str) -> list[Any]:
    return [plain_value(v, fmt) for v in series.tolist()]


def _axis(column: str, fmt: str, lang: str, categorical: bool = False) -> dict[str, Any]:
    axis: dict[str, Any] = {"title": {"text": label(column, lang)}, "automargin": True}
    if categorical:
        axis["type"] = "category"
    if fmt == "yen":
        axis.update(tickprefix="¥", tickformat=",d")
    elif fmt == "rate":
        axis["tickformat"] = ".0%"
    elif fmt in ("int", "decimal"):
        axis["tickformat"] = ",~r"
    return axis


def _hover(fmt: str, axis: str) -> str:
    if fmt == "yen":
        return f"¥%{{{axis}:,.0f}}"
    if fmt == "rate":
        return f"%{{{axis}:.1%}}"
    if fmt == "int":
        return f"%{{{axis}:,}}"
    if fmt == "decimal":
        return f"%{{{axis}:,.2f}}"
    return f"%{{{axis}}}"


def _layout(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "margin": {"l": 70, "r": 20, "t": 10, "b": 50},
        "legend": {"orientation": "h", "y": -0.25},
        "font": {"family": "Noto Sans CJK JP, Noto Sans JP, sans-serif", "size": 13},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "colorway": list(COLORS),
    }
    layout.update(extra)
    return layout


def _xy(df: pd.DataFrame, chart: Chart, fmts: dict[str, str], lang: str) -> dict[str, Any]:
    assert chart.x is not None
    x = chart.x
    kind = chart.kind
    x_fmt = fmts[x]
    # Text, dates shown as months, and small integers such as scores are categories.
    categorical = x_fmt in ("text", "month", "bool") or kind == "bar"
    groups: list[tuple[str | None, pd.DataFrame]]
    if chart.color and chart.color in df.columns:
        groups = [
            (format_value(key, fmts[chart.color]), part)
            for key, part in df.groupby(chart.color, sort=False, dropna=False)
        ]
    else:
        groups = [(None, df)]
    traces: list[dict[str, Any]] = []
    for y in chart.y:
        for group, part in groups:
            if group is not None and len(chart.y) > 1:
                name = f"{group} · {label(y, lang)}"
            else:
                name = group if group is not None else label(y, lang)
            trace: dict[str, Any] = {
                "type": "scatter" if kind in ("line", "scatter") else "bar",
                "name": name,
                "x": _values(part[x], x_fmt),
                "y": _values(part[y], fmts[y]),
                "hovertemplate": f"{label(x, lang)}: {_hover(x_fmt, 'x')}<br>"
                f"{name}: {_hover(fmts[y], 'y')}<extra></extra>",
            }
            if kind == "line":
                trace["mode"] = "lines+markers"
            elif kind == "scatter":
                trace["mode"] = "markers"
                trace["marker"] = {"size": 9, "opacity": 0.8}
                text_cols = [c for c in part.columns if fmts[c] == "text"][:2]
                if text_cols:
                    trace["text"] = [
                        " → ".join(str(v) for v in row)
                        for row in part[text_cols].itertuples(index=False)
                    ]
                    trace["hovertemplate"] = "%{text}<br>" + trace["hovertemplate"]
            traces.append(trace)
    y_fmt = fmts[chart.y[0]]
    y_title = label(chart.y[0], lang) if len(chart.y) == 1 else ""
    y_axis = _axis(chart.y[0], y_fmt, lang)
    y_axis["title"] = {"text": y_title}
    if kind == "bar":
        y_axis["rangemode"] = "tozero"
    layout = _layout(
        xaxis=_axis(x, x_fmt, lang, categorical=categorical and kind != "scatter"),
        yaxis=y_axis,
        showlegend=len(traces) > 1,
    )
    if kind == "bar":
        layout["barmode"] = "stack" if chart.color else "group"
    return {"data": traces, "layout": layout}


def _heatmap(df: pd.DataFrame, chart: Chart, fmts: dict[str, str], lang: str) -> dict[str, Any]:
    assert chart.x is not None and chart.z is not None
    x, y, z = chart.x, chart.y[0], chart.z
    xs = _levels(df[x], fmts[x])
    ys = _levels(df[y], fmts[y])
    col = {v: i for i, v in enumerate(xs)}
    row = {v: i for i, v in enumerate(ys)}
    matrix: list[list[Any]] = [[None] * len(xs) for _ in ys]
    for xv, yv, zv in zip(df[x].tolist(), df[y].tolist(), df[z].tolist(), strict=True):
        i, j = row.get(format_value(yv, fmts[y])), col.get(format_value(xv, fmts[x]))
        if i is not None and j is not None:
            matrix[i][j] = plain_value(zv, fmts[z])
    z_fmt = fmts[z]
    text_format = {"rate": "%{z:.0%}", "yen": "¥%{z:,.0f}", "decimal": "%{z:,.2f}"}
    trace: dict[str, Any] = {
        "type": "heatmap",
        "x": xs,
        "y": ys,
        "z": matrix,
        "colorscale": "Blues",
        # Gaps between cells also keep plotly.js off its "fast" drawing path, which
        # sets an inline style attribute that the page's CSP forbids.
        "xgap": 1,
        "ygap": 1,
        "hoverongaps": False,
        "hovertemplate": f"{label(y, lang)}: %{{y}}<br>{label(x, lang)}: %{{x}}<br>"
        f"{label(z, lang)}: {_hover(z_fmt, 'z')}<extra></extra>",
        # plotly.js draws the colour bar with style="" attributes, which the CSP blocks;
        # the values are in the cells and in the hover text instead.
        "showscale": False,
    }
    if len(xs) * len(ys) <= 900:
        # Small matrices read better with the numbers in the cells.
        trace["texttemplate"] = text_format.get(z_fmt, "%{z:,}")
    return {
        "data": [trace],
        "layout": _layout(
            xaxis=_axis(x, "text", lang, categorical=True),
            yaxis={**_axis(y, "text", lang, categorical=True), "autorange": "reversed"},
        ),
    }


def _levels(series: pd.Series, fmt: str) -> list[str]:
    """Axis labels of a heatmap: numbers and dates in their order, text as it comes
    (templates order text dimensions meaningfully, e.g. by size)."""
    values = series.dropna().unique().tolist()
    if fmt != "text":
        values = sorted(values)
    labels = list(dict.fromkeys(format_value(v, fmt) for v in values))
    return labels[:MAX_HEATMAP_SIDE]


def _histogram(series: pd.Series, column: str, fmt: str, lang: str) -> dict[str, Any]:
    """Bins computed here: a million customers become twenty bars, not a million points."""
    values = pd.to_numeric(series, errors="coerce").dropna().to_numpy(dtype=float)
    if values.size == 0:
        return {"data": [], "layout": _layout()}
    low, high = float(values.min()), float(values.max())
    bins = HISTOGRAM_BINS if high > low else 1
    counts, edges = np.histogram(values, bins=bins, range=(low, high if high > low else low + 1))
    names = [
        f"{format_value(edges[i], fmt)}–{format_value(edges[i + 1], fmt)}"
        for i in range(len(counts))
    ]
    label_count = "件数" if lang == "ja" else "Rows"
    trace = {
        "type": "bar",
        "name": label(column, lang),
        "x": names,
        "y": [int(c) for c in counts],
        "hovertemplate": f"{label(column, lang)}: %{{x}}<br>{label_count}: %{{y:,}}<extra></extra>",
    }
    return {
        "data": [trace],
        "layout": _layout(
            xaxis={"title": {"text": label(column, lang)}, "type": "category", "automargin": True},
            yaxis={"title": {"text": label_count}, "rangemode": "tozero", "tickformat": ",d"},
            bargap=0.05,
            showlegend=False,
        ),
    }
