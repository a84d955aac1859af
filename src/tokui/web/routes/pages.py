"""The dashboard, placeholder pages of areas still to come, health and Plotly."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokui.analytics.dashboard import headline, monthly_revenue
from tokui.refresh.sales import DAILY_SALES
from tokui.state.models import Role, User
from tokui.web.auth import require
from tokui.web.context import web_context
from tokui.web.i18n import translate
from tokui.web.plotly_assets import (
    GLOBAL_STYLE_ID,
    plotly_css,
    plotly_js,
    plotly_version,
    style_guard_ids,
)
from tokui.web.routes.analyses import dashboard_cards
from tokui.web.templating import json_for_script, render, request_language

router = APIRouter()

Viewer = Annotated[User, require(Role.viewer)]

# Areas in the navigation that later releases fill in; until then they explain so.
COMING_SOON: dict[str, str] = {}

PLOTLY_COLORS = {"one_off": "#c0504d", "subscription": "#2f6f9f"}


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


# Both files only change with the plotly package, and pages link them with the package
# version in the query string, so browsers may keep them for a year.
_LONG_CACHE = {"cache-control": "public, max-age=31536000, immutable"}


@router.get("/static/plotly.min.js")
def plotly_script() -> Response:
    return Response(plotly_js(), media_type="text/javascript; charset=utf-8", headers=_LONG_CACHE)


@router.get("/static/plotly.css")
def plotly_stylesheet() -> Response:
    return Response(plotly_css(), media_type="text/css; charset=utf-8", headers=_LONG_CACHE)


@router.get("/")
def dashboard(request: Request, user: Viewer) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    with ctx.warehouse_lock:
        con = ctx.ws.warehouse
        figures = headline(con)
        refreshed = DAILY_SALES in con.list_tables()
        monthly = monthly_revenue(con) if refreshed else None
    rows: list[dict[str, Any]] = []
    if monthly is not None:
        rows = [
            {
                "month": str(r.month),
                "orders": int(r.orders),
                "revenue": int(r.revenue),
                "subscription": int(r.subscription_revenue),
                "one_off": int(r.one_off_revenue),
            }
            for r in monthly.itertuples(index=False)
        ]
    chart = _revenue_chart(rows, lang) if rows else None
    saved_cards = dashboard_cards(request, lang)
    return render(
        request,
        "dashboard.html",
        {
            "figures": figures,
            "refreshed": refreshed,
            "rows": rows,
            "chart_json": json_for_script(chart) if chart else None,
            "saved_cards": saved_cards,
            "saved_charts": any(c.result and c.result.chart_json for c in saved_cards),
            "plotly_version": plotly_version(),
            "plotly_style_id": GLOBAL_STYLE_ID,
            "plotly_guard_ids": style_guard_ids(),
        },
    )


def _revenue_chart(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    months = [r["month"] for r in rows]

    def bar(key: str) -> dict[str, Any]:
        name = translate(lang, f"dashboard.{key}")
        return {
            "type": "bar",
            "name": name,
            "x": months,
            "y": [r[key] for r in rows],
            "marker": {"color": PLOTLY_COLORS[key]},
            "hovertemplate": "%{x}<br>" + name + ": ¥%{y:,}<extra></extra>",
        }

    return {
        "data": [bar("one_off"), bar("subscription")],
        "layout": {
            "barmode": "stack",
            "margin": {"l": 70, "r": 20, "t": 10, "b": 40},
            "legend": {"orientation": "h", "y": -0.15, "traceorder": "normal"},
            "yaxis": {"tickprefix": "¥", "tickformat": ",d", "rangemode": "tozero"},
            "xaxis": {"type": "category"},
            "font": {"family": "Noto Sans CJK JP, Noto Sans JP, sans-serif", "size": 13},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


@router.get("/settings")
def settings_page(request: Request, user: Viewer) -> Response:
    return render(request, "settings.html")


def _coming_soon(area_key: str) -> Any:
    def page(request: Request, user: Viewer) -> Response:
        return render(request, "coming_soon.html", {"area_key": area_key})

    return page


for _path, _key in COMING_SOON.items():
    router.add_api_route(_path, _coming_soon(_key), methods=["GET"], name=_key)
