"""The models page: one card per predictive model from its latest run, and a retrain button."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tokui.clock import local_today
from tokui.models.run import default_as_of, latest_runs, run_models
from tokui.state.model_runs import ModelRun
from tokui.state.models import Role, User
from tokui.web.audit import record
from tokui.web.auth import require
from tokui.web.context import web_context
from tokui.web.i18n import translate
from tokui.web.plotly_assets import GLOBAL_STYLE_ID, plotly_version, style_guard_ids
from tokui.web.templating import json_for_script, render, request_language

router = APIRouter()

Analyst = Annotated[User, require(Role.analyst)]
Marketer = Annotated[User, require(Role.marketer)]

# Cards in this order; a model without a run yet shows "not trained".
MODELS = ("churn_subscription", "dormancy", "recommendations", "clv", "next_purchase", "sbg")


def latest_by_model(runs: list[ModelRun]) -> dict[str, ModelRun]:
    out: dict[str, ModelRun] = {}
    for run in runs:  # newest first
        out.setdefault(run.model, run)
    return out


def _calibration_chart(bins: list[dict[str, float]], lang: str) -> dict[str, Any]:
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": [0, 1],
                "y": [0, 1],
                "name": translate(lang, "models.perfect"),
                "line": {"dash": "dot", "color": "#999"},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [b["predicted"] for b in bins],
                "y": [b["observed"] for b in bins],
                "name": translate(lang, "models.observed"),
                "marker": {"color": "#2f6f9f"},
            },
        ],
        "layout": {
            "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
            "xaxis": {"title": {"text": translate(lang, "models.predicted")}, "range": [0, 1]},
            "yaxis": {"title": {"text": translate(lang, "models.observed")}, "range": [0, 1]},
            "showlegend": False,
            "height": 260,
        },
    }


def _importance_chart(importance: dict[str, float], lang: str) -> dict[str, Any]:
    top = sorted(importance.items(), key=lambda kv: (-kv[1], kv[0]))[:10][::-1]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": [round(v, 4) for _, v in top],
                "y": [translate(lang, f"models.feature.{k}") for k, _ in top],
                "marker": {"color": "#c0504d"},
            }
        ],
        "layout": {
            "margin": {"l": 200, "r": 10, "t": 10, "b": 30},
            "height": 260,
            "xaxis": {"tickformat": ".0%"},
        },
    }


def card(name: str, run: ModelRun | None, lang: str) -> dict[str, Any]:
    """What a model card shows, from the run's JSON (metrics are numbers, never HTML)."""
    if run is None:
        return {"name": name, "run": None}
    metrics: dict[str, Any] = json.loads(run.metrics)
    params: dict[str, Any] = json.loads(run.params)
    out: dict[str, Any] = {"name": name, "run": run, "metrics": metrics, "params": params}
    evaluation = metrics.get("evaluation", {})
    if name in ("churn_subscription", "dormancy") and "auc" in evaluation:
        out["classifier"] = evaluation
        out["calibration_json"] = json_for_script(
            _calibration_chart(evaluation.get("calibration", []), lang)
        )
    if metrics.get("feature_importance"):
        out["importance_json"] = json_for_script(
            _importance_chart(metrics["feature_importance"], lang)
        )
    if name == "recommendations" and evaluation.get("status") == "ok":
        out["ranking"] = evaluation
    if name == "clv" and params.get("transactions"):
        out["fit"] = [params["transactions"], params.get("spend") or {}]
    return out


@router.get("/models")
def models_page(request: Request, user: Analyst) -> Response:
    ctx = web_context(request)
    lang = request_language(request, user)
    runs = latest_by_model(latest_runs(ctx.ws.sessions, 200))
    cards = [card(name, runs.get(name), lang) for name in MODELS]
    return render(
        request,
        "models.html",
        {
            "cards": cards,
            "can_retrain": user.role_enum.allows(Role.marketer),
            "charts": any("calibration_json" in c or "importance_json" in c for c in cards),
            "plotly_version": plotly_version(),
            "plotly_style_id": GLOBAL_STYLE_ID,
            "plotly_guard_ids": style_guard_ids(),
            "done": request.query_params.get("done") == "1",
        },
    )


@router.post("/models/retrain")
def models_retrain(request: Request, user: Marketer) -> Response:
    """Retrain every model and rewrite the score tables (synchronously, under the lock)."""
    ctx = web_context(request)
    as_of = default_as_of(local_today(ctx.clock))
    with ctx.warehouse_lock:
        run_models(ctx.ws.warehouse, ctx.ws.sessions, ctx.clock, as_of)
    record(ctx, user.id, "models.retrain", as_of.isoformat())
    return RedirectResponse("/models?done=1", status_code=303)
