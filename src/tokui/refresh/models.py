"""Refresh step: fit the predictive models and write the score and recommendation tables."""

from __future__ import annotations

from tokui.clock import local_today
from tokui.models.run import default_as_of, run_models
from tokui.refresh.pipeline import RefreshContext, refresh_step


@refresh_step(
    "models", "Predictive models: CLV, next purchase, sBG, churn/dormancy risk, recommendations"
)
def refresh_models(ctx: RefreshContext) -> int:
    trained = run_models(
        ctx.warehouse, ctx.sessions, ctx.clock, default_as_of(local_today(ctx.clock))
    )
    return len(trained.rfm) + len(trained.subscriptions)
