"""Dashboard figures, checked against tests/features/shop.py by hand.

The shop: customers g, n, i, s, r (5); completed orders
  g: 10,000 (2024-12-10), 2,000 (2025-06-01), 5,000 (2025-12-10)
  n: 900 (2025-11-11)
  i: 2,000 (2025-01-01), 2,000 (2025-04-01), 4,000 (2025-07-01), 300 (2025-10-01)
  s: 8,000 (2025-01-05), 8,000 (2025-02-04)
so 10 orders by 4 buyers, revenue 42,200 yen; none belongs to a subscription. Of the two
subscriptions only i's s1 is active.
"""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from tests.web.conftest import VIEWER_EMAIL, VIEWER_PASSWORD, login
from tokui.clock import FixedClock
from tokui.web.app import create_app
from tokui.web.templating import json_for_script
from tokui.workspace import Workspace

MONTHS = [
    ("2024-12", 1, 10_000),
    ("2025-01", 2, 10_000),
    ("2025-02", 1, 8_000),
    ("2025-03", 0, 0),  # months without sales are zero bars, not gaps in the axis
    ("2025-04", 1, 2_000),
    ("2025-05", 0, 0),
    ("2025-06", 1, 2_000),
    ("2025-07", 1, 4_000),
    ("2025-08", 0, 0),
    ("2025-09", 0, 0),
    ("2025-10", 1, 300),
    ("2025-11", 1, 900),
    ("2025-12", 1, 5_000),
]


def _card(html: str, figure: str) -> str:
    match = re.search(
        rf'data-figure="{figure}">.*?class="card-value">([^<]*)</div>', html, re.DOTALL
    )
    assert match, figure
    return match.group(1)


def test_headline_cards(client: TestClient) -> None:
    login(client, VIEWER_EMAIL, VIEWER_PASSWORD)
    html = client.get("/").text
    assert _card(html, "customers") == "5"
    assert _card(html, "orders") == "10"
    assert _card(html, "revenue") == "¥42,200"
    assert _card(html, "active_subscriptions") == "1"
    assert "購入者 4 人" in html
    for label in ["顧客数", "注文数", "売上", "継続中の定期"]:
        assert label in html


def test_monthly_chart_data(client: TestClient) -> None:
    login(client)
    html = client.get("/").text
    match = re.search(
        r'<script type="application/json" id="revenue-data">(.*?)</script>', html, re.DOTALL
    )
    assert match
    figure = json.loads(match.group(1))
    one_off, subscription = figure["data"]
    assert one_off["name"] == "単品" and subscription["name"] == "定期"
    assert one_off["x"] == [m for m, _, _ in MONTHS]
    assert one_off["y"] == [r for _, _, r in MONTHS]
    assert subscription["y"] == [0] * len(MONTHS)
    assert figure["layout"]["barmode"] == "stack"
    assert '<script src="/static/plotly.min.js?v=' in html
    assert '<script src="/static/dashboard.js"></script>' in html
    # The table behind the chart, for readers without it.
    assert "<td>2025-01</td>" in html
    assert "¥10,000" in html


def test_chart_labels_follow_language(client: TestClient) -> None:
    login(client)
    client.get("/?lang=en")
    html = client.get("/").text
    assert '"name":"One-off"' in html
    assert "Revenue" in html and "¥42,200" in html


def test_empty_warehouse(empty_ws: Workspace, clock: FixedClock) -> None:
    with TestClient(create_app(empty_ws, clock)) as c:
        login(c)
        r = c.get("/")
    assert r.status_code == 200
    assert _card(r.text, "customers") == "0"
    assert _card(r.text, "revenue") == "¥0"
    assert 'data-state="not-refreshed"' in r.text
    assert "tokui refresh" in r.text
    assert "revenue-data" not in r.text
    assert "plotly.min.js" not in r.text


def test_refreshed_but_no_sales(empty_ws: Workspace, clock: FixedClock) -> None:
    from tokui.refresh import run_refresh

    run_refresh(empty_ws, clock)
    with TestClient(create_app(empty_ws, clock)) as c:
        login(c)
        r = c.get("/")
    assert r.status_code == 200
    assert 'data-state="no-sales"' in r.text


def test_json_for_script_cannot_close_the_tag() -> None:
    text = str(json_for_script({"x": "</script><script>alert(1)</script>&"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"x": "</script><script>alert(1)</script>&"}


def test_coming_soon_pages(client: TestClient) -> None:
    login(client, VIEWER_EMAIL, VIEWER_PASSWORD)
    for path, name in [
        ("/settings", "設定"),
    ]:
        r = client.get(path)
        assert r.status_code == 200, path
        assert f"「{name}」は今後のリリースで追加されます。" in r.text
        assert 'aria-current="page"' in r.text
