"""The models page: exact metrics from a recorded run, roles and CSRF on retraining."""

from __future__ import annotations

import json
from datetime import date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import VIEWER_EMAIL, VIEWER_PASSWORD, csrf_from, login
from tokui.state.db import session_scope
from tokui.state.model_runs import ModelRun
from tokui.state.models import Role
from tokui.state.users import create_user
from tokui.workspace import Workspace

EVALUATION = {
    "test_cutoff": "2026-09-01",
    "test_rows": 897,
    "test_positive_rate": 0.1605,
    "auc": 0.73874,
    "auc_baseline": 0.63139,
    "precision_top_decile": 0.37778,
    "precision_top_decile_baseline": 0.27778,
    "mean_predicted": 0.1977,
    "calibration": [
        {"predicted": 0.05, "observed": 0.04, "n": 90},
        {"predicted": 0.4, "observed": 0.35, "n": 90},
    ],
}


def _record(ws: Workspace) -> None:
    with session_scope(ws.sessions) as s:
        s.add(
            ModelRun(
                model="churn_subscription",
                status="ok",
                data_from=date(2024, 12, 5),
                data_to=date(2026, 10, 31),
                params=json.dumps({"model": "LightGBM"}),
                metrics=json.dumps(
                    {
                        "evaluation": EVALUATION,
                        "feature_importance": {"visits_30d": 0.6, "tenure_days": 0.4},
                    }
                ),
                started_at=datetime(2026, 11, 1, 3),
                finished_at=datetime(2026, 11, 1, 3, 5),
            )
        )
        s.add(
            ModelRun(
                model="recommendations",
                status="ok",
                data_from=None,
                data_to=date(2026, 10, 31),
                params="{}",
                metrics=json.dumps(
                    {
                        "evaluation": {
                            "status": "ok",
                            "split": "2026-08-02",
                            "customers": 2583,
                            "k": 10,
                            "precision_at_k": 0.04944,
                            "recall_at_k": 0.16135,
                            "precision_at_k_popularity": 0.01146,
                            "recall_at_k_popularity": 0.03942,
                        }
                    }
                ),
                started_at=datetime(2026, 11, 1, 3),
                finished_at=datetime(2026, 11, 1, 3, 5),
            )
        )


def test_models_page_shows_exact_metrics(ws: Workspace, client: TestClient) -> None:
    _record(ws)
    login(client)
    page = client.get("/models?lang=en", follow_redirects=True)
    assert page.status_code == 200
    html = page.text
    assert 'data-metric="auc">0.739<' in html
    assert 'data-metric="auc_baseline">0.631<' in html
    assert 'data-metric="precision_top_decile">0.378<' in html
    assert 'data-metric="precision_top_decile_baseline">0.278<' in html
    assert 'data-metric="precision_at_k">0.0494<' in html
    assert 'data-metric="precision_at_k_popularity">0.0115<' in html
    assert 'data-metric="recall_at_k">0.1613<' in html
    assert "2024-12-05 – 2026-10-31" in html
    # charts travel as JSON for the static script, never as inline code
    assert '<script type="application/json" id="calibration-churn_subscription">' in html
    assert '<script src="/static/models.js"></script>' in html
    assert "<script>" not in html
    assert "Visit days (30 days)" in html  # feature names are translated


def test_viewer_is_refused_and_analyst_cannot_retrain(ws: Workspace, client: TestClient) -> None:
    login(client, VIEWER_EMAIL, VIEWER_PASSWORD)
    assert client.get("/models").status_code == 403
    with session_scope(ws.sessions) as s:
        create_user(s, "an@example.com", "analyst-password-1", Role.analyst)
    client.cookies.clear()
    login(client, "an@example.com", "analyst-password-1")
    page = client.get("/models")
    assert page.status_code == 200
    assert 'action="/models/retrain"' not in page.text
    token = csrf_from(page.text)
    r = client.post("/models/retrain", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 403


def test_retrain_needs_csrf_and_records_runs(ws: Workspace, client: TestClient) -> None:
    login(client)
    with session_scope(ws.sessions) as s:
        before = len(s.scalars(select(ModelRun)).all())
    r = client.post("/models/retrain", data={}, follow_redirects=False)
    assert r.status_code == 403
    token = csrf_from(client.get("/models").text)
    r = client.post("/models/retrain", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/models?done=1"
    with session_scope(ws.sessions) as s:
        models = [m.model for m in s.scalars(select(ModelRun)).all()]
    assert len(models) == before + 6
    assert {"churn_subscription", "dormancy", "recommendations"} <= set(models)
