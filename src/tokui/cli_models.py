"""`tokui models train|score|report`: the predictive models from the command line."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer

from tokui.cli import FormatOpt, HomeOpt, _emit, _fail, _writable_workspace, console
from tokui.clock import SystemClock, local_today
from tokui.config import load_settings
from tokui.models.run import (
    TRANSACTION_MODELS,
    ModelsConfig,
    Trained,
    default_as_of,
    latest_runs,
    run_models,
)
from tokui.workspace import Workspace

models_app = typer.Typer(
    help="Predictive models: CLV, next purchase, retention, churn risk, recommendations.",
    no_args_is_help=True,
)

AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Reference date YYYY-MM-DD (default: yesterday)"),
]
ModelOpt = Annotated[
    str, typer.Option("--model", help=f"Purchase model: {', '.join(TRANSACTION_MODELS)}")
]
DiscountOpt = Annotated[float, typer.Option("--discount", help="Monthly discount rate for CLV")]


def _config(model: str, discount: float) -> ModelsConfig:
    try:
        return ModelsConfig(transaction_model=model, monthly_discount=discount)
    except ValueError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _as_of(value: str | None) -> date:
    if value is None:
        return default_as_of(local_today(SystemClock()))
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"--as-of: {value!r} is not a date (YYYY-MM-DD)")
        raise


def _summary(trained: Trained) -> dict[str, Any]:
    return {
        "as_of": trained.as_of.isoformat(),
        "clv": trained.transactions.to_dict() if trained.transactions else None,
        "spend": trained.spend.to_dict() if trained.spend else None,
        "next_purchase": trained.timing.to_dict() if trained.timing else None,
        "sbg": {"/".join(k for k in key if k): f.params_ for key, f in trained.retention.items()},
        "churn": {k: r.status for k, r in trained.churn.items()},
        "metrics": trained.metrics,
    }


def _run(home: Any, as_of: str | None, model: str, discount: float, write: bool) -> None:
    config = _config(model, discount)
    day = _as_of(as_of)
    ws = _writable_workspace(home)
    try:
        trained = run_models(ws.warehouse, ws.sessions, SystemClock(), day, config, write=write)
    except Exception as exc:
        ws.close()
        _fail(f"models failed: {exc}")
        raise
    ws.close()
    print(json.dumps(_summary(trained), ensure_ascii=False, indent=2, default=str))


@models_app.command("train")
def models_train(
    home: HomeOpt = None,
    as_of: AsOfOpt = None,
    model: ModelOpt = "mbgnbd",
    discount: DiscountOpt = 0.01,
) -> None:
    """Fit every model and record the runs; the score tables stay as they are."""
    _run(home, as_of, model, discount, write=False)


@models_app.command("score")
def models_score(
    home: HomeOpt = None,
    as_of: AsOfOpt = None,
    model: ModelOpt = "mbgnbd",
    discount: DiscountOpt = 0.01,
) -> None:
    """Fit, then write customer_scores, subscription_scores, recommendations, product_pairs."""
    _run(home, as_of, model, discount, write=True)
    console.print("wrote customer_scores, subscription_scores, recommendations, product_pairs")


@models_app.command("report")
def models_report(
    home: HomeOpt = None,
    fmt: FormatOpt = "text",
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 10,
) -> None:
    """The latest model runs: model, data window, parameters and metrics."""
    ws = Workspace(load_settings(home))
    try:
        runs = latest_runs(ws.sessions, limit)
    finally:
        ws.close()
    rows = [
        {
            "id": r.id,
            "model": r.model,
            "status": r.status,
            "data_from": r.data_from,
            "data_to": r.data_to,
            "finished_at": r.finished_at,
            "params": json.loads(r.params),
            "metrics": json.loads(r.metrics),
        }
        for r in runs
    ]
    if fmt == "json":
        _emit(rows, fmt, "id")
        return
    # The full parameters and metrics are pages long; text shows each run's headline.
    _emit(
        [
            {
                "id": row["id"],
                "model": row["model"],
                "status": row["status"],
                "window": f"{row['data_from']}..{row['data_to']}",
                "headline": run_headline(row["params"], row["metrics"]),
            }
            for row in rows
        ],
        fmt,
        "id",
    )


def run_headline(params: dict[str, Any], metrics: dict[str, Any]) -> str:
    """The few figures that say whether a run is any good."""
    parts: list[str] = []
    evaluation = metrics.get("evaluation") or {}
    if "auc" in evaluation:
        parts.append(f"AUC {evaluation['auc']:.3f} (baseline {evaluation['auc_baseline']:.3f})")
        parts.append(
            f"top-decile precision {evaluation['precision_top_decile']:.3f} "
            f"(baseline {evaluation['precision_top_decile_baseline']:.3f})"
        )
    if "precision_at_k" in evaluation:
        parts.append(
            f"precision@{evaluation['k']} {evaluation['precision_at_k']:.3f} "
            f"(popularity {evaluation['precision_at_k_popularity']:.3f})"
        )
    for key, label in [
        ("customers", "customers"),
        ("mean_p_alive", "mean P(alive)"),
        ("log_likelihood", "log-likelihood"),
        ("log_likelihood_all", "log-likelihood"),
        ("customers_with_intervals", "customers with intervals"),
        ("scored", "scored"),
    ]:
        value = metrics.get(key)
        if isinstance(value, int):
            parts.append(f"{label} {value:,}")
        elif isinstance(value, float):
            parts.append(f"{label} {value:,.3f}")
    return "; ".join(parts) or "-"
