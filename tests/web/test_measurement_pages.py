"""The measurement pages on the hand-made measurement shop (tests/measure/shop.py, measured
at AS_OF = 2026-01-15 12:00 JST): exact figures on the overview, a scenario's results and
the weekly report, the sample size calculator, roles, CSRF, escaping and the whitelists
of the query parameters.

Read-only pages share one workspace per module (each page computes a few seconds of
measurement); tests that change something get their own copy.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from scipy import stats as sps
from sqlalchemy import select

from tests.measure.shop import AS_OF, S1, T0, aware
from tests.web.conftest import csrf_from, login
from tests.web.measure_shop import (
    CALLER_EMAIL,
    CALLER_PASSWORD,
    MARKETER_EMAIL,
    MARKETER_PASSWORD,
    VIEWER_EMAIL,
    VIEWER_PASSWORD,
    build,
    open_copy,
)
from tokui.clock import FixedClock
from tokui.measure.stats import sample_size_per_arm
from tokui.scenarios import store
from tokui.scenarios.definition import Split, parse_definition
from tokui.state.db import session_scope
from tokui.state.models import AuditLog
from tokui.web.app import create_app
from tokui.workspace import Workspace

SCRIPT = "<script>alert(1)</script>"
TREATED_REVENUE = [3000, 2000, 0, 0, 0, 2500, 0, 0, 0, 0]
HOLDOUT_REVENUE = [4000, 1000] + [0] * 8


def yen(x: float) -> str:
    v = round(x)
    return f"-¥{-v:,}" if v < 0 else f"¥{v:,}"


@pytest.fixture(scope="module")
def measure_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("measure-pages") / "shop"
    build(home)
    ws = Workspace.open(home)
    with session_scope(ws.sessions) as db:
        # A second version of s1 whose Japanese name is markup: shown as text everywhere.
        store.save(db, parse_definition({**S1, "name_ja": SCRIPT}), T0)
    ws.close()
    return home


@pytest.fixture(scope="module")
def reader(
    measure_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """A viewer's client on a module-wide copy; for pages that change nothing."""
    ws = open_copy(measure_template, tmp_path_factory.mktemp("measure-read") / "ws")
    with TestClient(create_app(ws, FixedClock(aware(AS_OF)))) as c:
        assert login(c, VIEWER_EMAIL, VIEWER_PASSWORD).status_code == 303
        yield c
    ws.close()


class Pages(dict[str, str]):
    """Each page fetched once, on first use."""

    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client

    def __missing__(self, url: str) -> str:
        r = self.client.get(url)
        assert r.status_code == 200, (url, r.text[:500])
        self[url] = r.text
        return r.text


@pytest.fixture(scope="module")
def pages(reader: TestClient) -> Pages:
    return Pages(reader)


@pytest.fixture
def own_ws(measure_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    ws = open_copy(measure_template, tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def own_client(own_ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(own_ws, FixedClock(aware(AS_OF)))) as c:
        yield c


def row(page: str, attr: str, value: str) -> str:
    match = re.search(rf'<tr {attr}="{re.escape(value)}">(.*?)</tr>', page, re.DOTALL)
    assert match, f"no row {attr}={value}"
    return match.group(1)


def cell(html: str, col: str) -> str:
    """The text of a cell marked data-col (its first line: the value without hints)."""
    match = re.search(rf'data-col="{col}"[^>]*>(.*?)(?:<div|</td>)', html, re.DOTALL)
    assert match, col
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def hint(html: str, col: str) -> str:
    match = re.search(rf'<div class="hint" data-col="{col}">(.*?)</div>', html, re.DOTALL)
    assert match, col
    return unescape(match.group(1)).strip()


def chart(page: str, chart_id: str) -> dict:  # type: ignore[type-arg]
    match = re.search(
        rf'<script type="application/json" data-chart-for="{chart_id}">(.*?)</script>',
        page,
        re.DOTALL,
    )
    assert match, chart_id
    data: dict = json.loads(match.group(1))  # type: ignore[type-arg]
    return data


# ------------------------------------------------------------------ overview


def test_overview_figures_and_flags(pages: dict[str, str]) -> None:
    page = pages["/measurement"]
    # Last 28 local days up to 2026-01-15. s1: 11 marketing emails sent (t11's too), 10
    # delivered (t09 bounced), 1 unsubscribed: 10.0 % and 9.1 % — over 0.5 % and 2 %.
    s1 = row(page, "data-key", "s1")
    assert [cell(s1, c) for c in ("sent", "conversions", "revenue")] == ["11", "3", "¥6,000"]
    assert (cell(s1, "unsubscribe_rate"), cell(s1, "bounce_rate")) == ("10.0%", "9.1%")
    assert 'data-flag="annoys"' in s1 and 'data-flag="earns"' not in s1
    # Incremental revenue against the holdout: (¥750 − ¥500) × 10 treated = ¥2,500, its
    # interval Welch's times 10 (crosses zero, so the scenario does not "earn money").
    welch = sps.ttest_ind(TREATED_REVENUE, HOLDOUT_REVENUE, equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert cell(s1, "incremental_revenue") == "¥2,500"
    assert hint(s1, "interval") == f"[{yen(ci.low * 10)}, {yen(ci.high * 10)}]"
    assert hint(s1, "interval") == "[-¥9,245, ¥14,245]"
    ab = row(page, "data-key", "ab")
    assert [cell(ab, c) for c in ("sent", "conversions", "revenue")] == ["40", "10", "¥10,000"]
    assert "比較なし" in cell(ab, "incremental_revenue")
    assert "data-flag" not in ab
    # s2: t06's LINE message; its 茶 order is both attributed and the goal: one conversion.
    s2 = row(page, "data-key", "s2")
    assert [cell(s2, c) for c in ("sent", "conversions", "revenue")] == ["1", "1", "¥1,500"]
    ab3 = row(page, "data-key", "ab3")
    assert (cell(ab3, "sent"), cell(ab3, "unsubscribe_rate")) == ("0", "–")
    # The thresholds are stated on the page.
    assert "配信停止率が 0.5% を超える、またはバウンス率が 2.0% を超える" in page
    # Default order: incremental revenue, largest first; rows without one after, by key.
    keys = re.findall(r'<tr data-key="([^"]+)">', page)
    assert keys == ["s1", "ab", "ab3", "s2"]
    figure = chart(page, "incremental-chart")
    assert figure["data"][0]["y"] == [2500]
    assert figure["data"][0]["error_y"]["arrayminus"] == [round(2500 - ci.low * 10)]
    assert 'data-state="global-off"' in page
    assert "/measurement/report?week=2026-W02" in page


def test_overview_sorts_by_a_whitelisted_column(pages: dict[str, str]) -> None:
    page = pages["/measurement?sort=sent&dir=asc"]
    assert re.findall(r'<tr data-key="([^"]+)">', page) == ["ab3", "s2", "s1", "ab"]
    assert 'aria-sort="ascending"' in page
    page = pages["/measurement?sort=unsubscribe_rate&dir=desc&days=7"]
    # Last 7 days (2026-01-09 to 15): only t11's email; no rate for the others.
    assert re.findall(r'<tr data-key="([^"]+)">', page) == ["s1", "ab", "ab3", "s2"]
    assert cell(row(page, "data-key", "s1"), "sent") == "1"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/measurement?sort=name;DROP TABLE scenarios", "sort"),
        ("/measurement?sort=key", "sort"),
        ("/measurement?dir=up", "dir"),
        ("/measurement?days=30", "days"),
        ("/scenarios/s1/results?model=linear", "model"),
        ("/scenarios/s1/results?window=0", "window"),
        ("/scenarios/s1/results?window=91", "window"),
        ("/scenarios/s1/results?window=7.5", "window"),
        ("/scenarios/s1/results?weeks=53", "weeks"),
        ("/measurement/report?week=2026-W54", "week"),
        ("/measurement/report?week=2026-01-05", "week"),
        ("/measurement/report?week=2026-W02&format=pdf", "format"),
    ],
)
def test_parameters_outside_the_whitelist_are_refused(
    reader: TestClient, url: str, name: str
) -> None:
    r = reader.get(url)
    assert r.status_code == 400
    assert f"パラメータ {name} の値が正しくありません" in r.text


# ------------------------------------------------------------------ one scenario


def test_results_uplift_by_hand(pages: dict[str, str]) -> None:
    page = pages["/scenarios/s1/results"]
    h = row(page, "data-comparison", "holdout:hold")
    # Treated 3 of 10, held out 2 of 10 (tests/measure/test_uplift.py).
    assert [cell(h, c) for c in ("n_t", "n_c", "cvr_t", "cvr_c")] == ["10", "10", "30.0%", "20.0%"]
    # +10 points, Wald 0.1 ± 1.96·√(0.3·0.7/10 + 0.2·0.8/10) = [−27.7, +47.7];
    # relative +50 %, delta method exp(ln 1.5 ± 1.96·√(0.7/3 + 0.8/2)) − 1.
    assert (cell(h, "uplift"), hint(h, "uplift_ci")) == ("+10.0pt", "[-27.7pt, +47.7pt]")
    assert (cell(h, "relative"), hint(h, "relative_ci")) == ("+50%", "[-68%, +614%]")
    assert cell(h, "p") == "0.606"  # erfc(0.516398 / √2)
    assert (cell(h, "rpc_t"), cell(h, "rpc_c"), cell(h, "rpc_diff")) == ("¥750", "¥500", "¥250")
    welch = sps.ttest_ind(TREATED_REVENUE, HOLDOUT_REVENUE, equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert hint(h, "rpc_ci") == f"[{yen(ci.low)}, {yen(ci.high)}]"
    assert (cell(h, "inc_revenue"), hint(h, "inc_revenue_ci")) == ("¥2,500", "[-¥9,245, ¥14,245]")
    assert cell(h, "inc_conversions") == "+1.0"
    # The global control: every other enrollment (5 of 20) against g01, g02 (1 of 2).
    g = row(page, "data-comparison", "global_control")
    assert [cell(g, c) for c in ("n_t", "n_c", "cvr_t", "cvr_c")] == ["20", "2", "25.0%", "50.0%"]
    figure = chart(page, "uplift-chart")
    treated, control = figure["data"]
    assert treated["y"] == [30.0, 25.0] and control["y"] == [20.0, 50.0]
    # Whiskers: 1.96·√(p(1−p)/n) in points.
    assert treated["error_y"]["array"][0] == round(1.959964 * math.sqrt(0.21 / 10) * 100, 2)
    # F2: t03 and t07 (one order each) did not buy again; h02 did.
    assert "F2転換率" in row(page, "data-metric", "f2:holdout")


def test_results_kpis_per_week_channel_and_segment(pages: dict[str, str]) -> None:
    page = pages["/scenarios/s1/results"]
    # Eight weeks, Mondays 2025-11-24 to 2026-01-12; messages in the last two.
    weeks = re.findall(r'<tr data-week="([^"]+)">', page)
    assert weeks[0] == "2025-11-24" and weeks[-2:] == ["2026-01-05", "2026-01-12"]
    assert len(weeks) == 8
    w = row(page, "data-week", "2026-01-05")
    # 10 emails, 9 delivered, 3 opened, 1 clicked, 3 credited orders (¥6,000) over 10
    # recipients, 1 unsubscribed, 1 bounced of 10 sent (tests/measure/test_kpis.py).
    assert [cell(w, c) for c in ("messages", "delivered", "open_rate", "response_rate", "cvr")] == [
        "10",
        "9",
        "33.3%",
        "11.1%",
        "33.3%",
    ]
    assert [cell(w, c) for c in ("revenue", "revenue_per_recipient")] == ["¥6,000", "¥600"]
    assert [cell(w, c) for c in ("unsubscribe_rate", "bounce_rate")] == ["11.1%", "10.0%"]
    empty = row(page, "data-week", "2025-12-01")
    assert (cell(empty, "messages"), cell(empty, "open_rate")) == ("0", "–")
    email = row(page, "data-channel", "email")
    assert [cell(email, c) for c in ("messages", "delivered", "cvr", "bounce_rate")] == [
        "11",
        "10",
        "30.0%",
        "9.1%",
    ]
    # Segment vip: t01 and t02 got one email each and both bought (¥3,000 + ¥2,000).
    vip = row(page, "data-segment", "vip")
    assert [cell(vip, c) for c in ("messages", "open_rate", "cvr", "revenue")] == [
        "2",
        "100.0%",
        "100.0%",
        "¥5,000",
    ]
    weekly = chart(page, "weekly-chart")
    assert weekly["data"][0]["y"][-2:] == [9, 1]
    cvr = next(t for t in weekly["data"] if t["name"] == "CVR (帰属購入/到達)")
    assert cvr["y"][-2:] == [33.33, 0.0] and cvr["y"][0] is None


def test_attribution_model_and_window(pages: dict[str, str]) -> None:
    def figures(url: str) -> tuple[str, str]:
        page = pages[url]
        a = re.search(r'data-figure="attributed">.*?card-value">([^<]+)<', page, re.DOTALL)
        r = re.search(r'data-figure="attributed_revenue">.*?card-value">([^<]+)<', page, re.DOTALL)
        assert a and r
        return a.group(1), r.group(1)

    # Last touch, 7 days: t01, t02, t06's first order; t06's 茶 order goes to s2's LINE.
    assert figures("/scenarios/s1/results") == ("3", "¥6,000")
    # First touch: s1's email (T0) comes before s2's LINE (T0+2d) and takes that order.
    assert figures("/scenarios/s1/results?model=first") == ("4", "¥7,500")
    # Two days: t02's order at T0+7d is out; t01 and t06 at T0+1d stay.
    assert figures("/scenarios/s1/results?window=2") == ("2", "¥4,000")
    page = pages["/scenarios/s2/results?model=first"]
    assert re.search(r'data-figure="goal_conversions">.*?card-value">1<', page, re.DOTALL)
    assert 'data-state="no-credits"' in page


def test_ab_results_and_promote_button_for_viewers(pages: dict[str, str]) -> None:
    page = pages["/scenarios/ab/results"]
    a, b = row(page, "data-arm", "a"), row(page, "data-arm", "b")
    cols = ("n", "sent", "delivered", "opened", "clicked", "converted", "cvr", "revenue")
    assert [cell(a, c) for c in cols] == ["20", "20", "20", "5", "0", "2", "10.0%", "¥2,000"]
    assert [cell(b, c) for c in cols] == ["20", "20", "20", "10", "0", "8", "40.0%", "¥8,000"]
    assert (cell(a, "unsubscribed"), cell(b, "vs_first")) == ("0", "+30.0pt")
    # z = 0.3 / √(0.25·0.75·0.1) = 2.19089, p = 0.028; P(best) by Monte Carlo (fixed seed).
    assert "2標本の比率のz検定、p=0.028" in page
    assert 'data-significant="yes"' in page
    assert (cell(a, "p_best"), cell(b, "p_best")) == ("1.6%", "98.4%")
    assert "自動切り替え: 各パターン 20人以上かつ p&lt;0.05" in page
    assert "data-promote" not in page  # a viewer sees no button
    three = pages["/scenarios/ab3/results"]
    assert "カイ二乗検定、p=0.058" in three and 'data-significant="no"' in three
    assert chart(three, "arms-chart-split")["data"][0]["y"] == [10.0, 30.0, 60.0]


def test_unknown_scenario_is_404(reader: TestClient) -> None:
    assert reader.get("/scenarios/nope/results").status_code == 404


def test_markup_in_a_name_is_text(pages: dict[str, str], reader: TestClient) -> None:
    for url in ("/measurement", "/scenarios/s1/results", "/measurement/report?week=2026-W02"):
        page = pages[url]
        assert SCRIPT not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
    # In the chart data the name is escaped for Plotly (which reads some tags in labels)
    # and then for the JSON block, inert inside <script>.
    page = pages["/measurement"]
    assert "\\u0026lt;script\\u0026gt;alert(1)" in page
    assert chart(page, "incremental-chart")["data"][0]["x"] == [
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    ]


def test_english_pages(reader: TestClient) -> None:
    reader.get("/measurement?lang=en")
    try:
        page = reader.get("/measurement").text
        assert "Results by scenario" in page and "Annoys" in page
        assert "its unsubscribe rate is above 0.5% or its bounce rate above 2.0%" in page
        assert ">Measure 1</a>" in page
        page = reader.get("/scenarios/ab/results").text
        assert "Test: two-proportion z-test, p=0.028" in page
        page = reader.get("/measurement/report?week=2026-W02").text
        assert "Weekly PDCA report" in page
        assert "Unsubscribe rate 11.1% is above 0.5%" in page
    finally:
        reader.get("/measurement?lang=ja")


# ------------------------------------------------------------------ report, calculator


def test_weekly_report_page(pages: dict[str, str], reader: TestClient) -> None:
    page = pages["/measurement/report?week=2026-W02"]
    assert 'data-week="2026-W02"' in page
    assert "パターン b が有意に良い結果です (p=0.028)" in page
    assert 'id="print-report"' in page and "/static/measure.css" in page
    assert "<style" not in page  # the CSP forbids inline styles: the app's stylesheet
    assert 'href="/measurement/report?week=2026-W01"' in page  # previous week
    assert 'href="/measurement/report?week=2026-W03"' in page  # next (this) week
    # The default is last week: 2026-01-15 is in W03, so W02.
    assert 'data-week="2026-W02"' in pages["/measurement/report"]
    r = reader.get("/measurement/report?week=2026-W02&format=html")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == (
        'attachment; filename="tokui-pdca-2026-W02-ja.html"'
    )
    assert r.text.startswith("<!doctype html>") and "@page { size: A4" in r.text


def test_sample_size_calculator(reader: TestClient) -> None:
    url = "/measurement/sample-size?baseline=10&mde=10&mde_type=relative&alpha=0.05&power=0.8"
    page = reader.get(url).text
    n = sample_size_per_arm(0.10, 0.01, 0.05, 0.8)
    assert n == 14_751
    assert re.search(r'data-figure="per-arm">.*?card-value">14,751<', page, re.DOTALL)
    assert re.search(r'data-figure="total">.*?card-value">29,502<', page, re.DOTALL)
    url = "/measurement/sample-size?baseline=5&mde=1&mde_type=absolute&alpha=0.01&power=0.9"
    page = reader.get(url).text
    expected = sample_size_per_arm(0.05, 0.01, 0.01, 0.9)
    assert f"{expected:,}" in page
    bad = reader.get("/measurement/sample-size?baseline=0&mde=x&mde_type=odd&alpha=0.05&power=1")
    assert bad.status_code == 422
    for name in ("baseline", "mde", "mde_type", "power"):
        assert f'data-error-for="{name}"' in bad.text
    assert 'data-error-for="alpha"' not in bad.text
    big = reader.get("/measurement/sample-size?baseline=60&mde=70&mde_type=relative")
    assert big.status_code == 422 and 'data-error-for="mde"' in big.text


# ------------------------------------------------------------------ roles and changes


def test_call_center_and_anonymous_cannot_read(own_client: TestClient) -> None:
    r = own_client.get("/measurement", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert login(own_client, CALLER_EMAIL, CALLER_PASSWORD).status_code == 303
    for url in ("/measurement", "/scenarios/s1/results", "/measurement/report"):
        assert own_client.get(url).status_code == 403, url


def test_promote_the_winner(own_client: TestClient, own_ws: Workspace) -> None:
    assert login(own_client, MARKETER_EMAIL, MARKETER_PASSWORD).status_code == 303
    page = own_client.get("/scenarios/ab/results").text
    assert 'data-promote="b"' in page
    token = csrf_from(page)
    # Without the token: refused, nothing changes.
    r = own_client.post("/scenarios/ab/results/promote", data={"step": "split", "arm": "b"})
    assert r.status_code == 403
    bad = {"step": "split", "arm": "c", "csrf_token": token}
    assert own_client.post("/scenarios/ab/results/promote", data=bad).status_code == 422
    with session_scope(own_ws.sessions) as db:
        assert store.get(db, "ab").current_version == 1
    form = {"step": "split", "arm": "b", "csrf_token": token}
    r = own_client.post("/scenarios/ab/results/promote", data=form, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/scenarios/ab/results?promoted=b")
    with session_scope(own_ws.sessions) as db:
        scenario = store.get(db, "ab")
        split = store.load_version(store.version_row(db, scenario)).steps[0]
        assert scenario.current_version == 2 and isinstance(split, Split) and split.winner == "b"
        entry = db.scalars(select(AuditLog).where(AuditLog.action == "scenario.promote")).one()
        assert (entry.target, entry.detail) == ("ab", "split=b v2")
    page = own_client.get("/scenarios/ab/results?promoted=b").text
    assert 'data-state="promoted"' in page and 'data-state="winner"' in page
    assert "data-promote" not in page
    again = own_client.post("/scenarios/ab/results/promote", data=form)
    assert again.status_code == 409


def test_viewer_cannot_promote(own_client: TestClient, own_ws: Workspace) -> None:
    assert login(own_client, VIEWER_EMAIL, VIEWER_PASSWORD).status_code == 303
    token = csrf_from(own_client.get("/settings").text)
    form = {"step": "split", "arm": "b", "csrf_token": token}
    assert own_client.post("/scenarios/ab/results/promote", data=form).status_code == 403
    with session_scope(own_ws.sessions) as db:
        assert store.get(db, "ab").current_version == 1
