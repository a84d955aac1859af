"""The analyses pages: catalogue, search, one analysis with exact numbers, exports, saving.

The shop is tests/features/shop.py. With the reference date 2025-12-31 and the default
thresholds (R 30/60/90/180 days, F 2/3/5/10 orders, M ¥10,000/30,000/50,000/100,000)
the RFM values are, by hand:

    customer  last order  recency  orders  spend    R  F  M  cell
    g         2025-12-10  21       3       17,000   5  3  2  532
    i         2025-10-01  91       4        8,300   2  3  1  231
    n         2025-11-11  50       1          900   4  1  1  411
    s         2025-02-04  330      2       16,000   1  2  2  122

(R = 1 + the thresholds the recency stays within: 21 is within all four; 91 only 180.)
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.conftest import VIEWER_EMAIL, VIEWER_PASSWORD, csrf_from, login
from tokui.analytics.registry import templates
from tokui.clock import FixedClock
from tokui.state.db import session_scope
from tokui.state.models import AuditLog, Role
from tokui.state.saved_analyses import SavedAnalysis
from tokui.state.users import create_user
from tokui.web.analysis_form import RESERVED
from tokui.web.app import create_app
from tokui.workspace import Workspace

RFM_URL = "/analyses/rfm?run=1&as_of=2025-12-31"
RFM_HEADER = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "last_order",
    "r_score",
    "f_score",
    "m_score",
    "rfm_cell",
]
RFM_ROWS = [
    ["g", "21", "3", "17000", "2025-12-10", "5", "3", "2", "532"],
    ["i", "91", "4", "8300", "2025-10-01", "2", "3", "1", "231"],
    ["n", "50", "1", "900", "2025-11-11", "4", "1", "1", "411"],
    ["s", "330", "2", "16000", "2025-02-04", "1", "2", "2", "122"],
]
ANALYST_EMAIL = "analyst@example.com"
ANALYST_PASSWORD = "analyst-password-1"
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)


def table_rows(html: str, table_id: str = "result-table") -> list[list[str]]:
    start = html.index(f'id="{table_id}"')
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    return [[c.strip() for c in _CELL.findall(row)] for row in _ROW.findall(body)]


def chart_json(html: str, chart_id: str = "analysis-chart") -> dict:  # type: ignore[type-arg]
    match = re.search(
        rf'<script type="application/json" data-chart-for="{chart_id}">(.*?)</script>', html, re.S
    )
    assert match, f"no chart data for {chart_id}"
    data: dict = json.loads(match.group(1))  # type: ignore[type-arg]
    return data


def _analyst(ws: Workspace) -> None:
    with session_scope(ws.sessions) as s:
        create_user(s, ANALYST_EMAIL, ANALYST_PASSWORD, Role.analyst, "分析 太郎")


def _save(client: TestClient, template_id: str, title: str, **params: str) -> int:
    page = client.get(f"/analyses/{template_id}?run=1")
    data = {"csrf_token": csrf_from(page.text), "title": title, **params}
    r = client.post(f"/analyses/{template_id}/save", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    match = re.match(r"/\?saved=(\d+)#saved-\d+$", r.headers["location"])
    assert match
    return int(match.group(1))


# ---------------------------------------------------------------- catalogue


def test_catalogue_lists_every_registered_template(client: TestClient) -> None:
    login(client)
    page = client.get("/analyses")
    assert page.status_code == 200
    listed = re.findall(r'<li class="catalogue-item" data-template="([^"]+)"', page.text)
    assert sorted(listed) == sorted(t.id for t in templates())
    assert len(listed) == len(templates())
    for t in templates():
        assert f'href="/analyses/{t.id}"' in page.text
    assert f"{len(listed)} 件 / 全 {len(listed)} 件の分析" in page.text
    # Grouped by category, in the registry's category order.
    groups = re.findall(r'class="panel catalogue-group" data-category="([^"]+)"', page.text)
    assert groups == list(dict.fromkeys(t.category for t in templates()))


def test_search_by_japanese_and_english_words(client: TestClient) -> None:
    login(client)

    def found(q: str) -> set[str]:
        page = client.get("/analyses", params={"q": q})
        assert page.status_code == 200
        return set(re.findall(r'data-template="([^"]+)"', page.text))

    japanese = found("顧客ポートフォリオ")
    assert {"cpm", "cpm_customers"} <= japanese
    assert "rfm" not in japanese
    english = found("Customer portfolio")  # case-insensitive
    assert {"cpm", "cpm_customers"} <= english
    assert "rfm" not in english
    # Every word must match: RFM and grid narrows to the grid.
    both = found("RFM グリッド")
    assert "rfm_grid" in both and "rfm" not in both
    nothing = client.get("/analyses", params={"q": "存在しない分析"})
    assert 'data-state="no-match"' in nothing.text
    assert '<li class="catalogue-item"' not in nothing.text


def test_no_template_uses_a_reserved_field_name() -> None:
    for t in templates():
        assert not {p.name for p in t.params} & RESERVED, t.id


# ---------------------------------------------------------------- one analysis


def test_rfm_page_shows_the_hand_computed_numbers(client: TestClient) -> None:
    login(client)
    page = client.get(RFM_URL)
    assert page.status_code == 200
    rows = table_rows(page.text)
    assert rows == [
        ["g", "21", "3", "¥17,000", "2025-12-10", "5", "3", "2", "532"],
        ["i", "91", "4", "¥8,300", "2025-10-01", "2", "3", "1", "231"],
        ["n", "50", "1", "¥900", "2025-11-11", "4", "1", "1", "411"],
        ["s", "330", "2", "¥16,000", "2025-02-04", "1", "2", "2", "122"],
    ]
    assert "最終購入からの日数" in page.text  # Japanese column labels
    assert re.search(r"集計時間 \d+\.\d\d 秒", page.text)
    # RFM declares no chart: a per-customer list gets the distribution of spend.
    chart = chart_json(page.text)
    assert chart["data"][0]["type"] == "bar"
    assert sum(chart["data"][0]["y"]) == 4
    assert 'data-chart-kind="histogram"' in page.text


def test_rfm_grid_heatmap_has_the_grid(client: TestClient) -> None:
    login(client)
    page = client.get("/analyses/rfm_grid?run=1&as_of=2025-12-31")
    assert page.status_code == 200
    assert table_rows(page.text) == [
        ["1", "2", "1", "¥16,000"],
        ["2", "3", "1", "¥8,300"],
        ["4", "1", "1", "¥900"],
        ["5", "3", "1", "¥17,000"],
    ]
    heat = chart_json(page.text)["data"][0]
    assert heat["type"] == "heatmap"
    assert heat["y"] == ["1", "2", "4", "5"]  # r_score
    assert heat["x"] == ["1", "2", "3"]  # f_score
    assert heat["z"] == [[None, 1, None], [None, None, 1], [1, None, None], [None, None, 1]]


def test_bar_chart_of_a_template_with_a_default_chart(client: TestClient) -> None:
    login(client)
    page = client.get("/analyses/category_sales_abc?run=1")
    bar = chart_json(page.text)
    assert [t["type"] for t in bar["data"]] == ["bar", "bar"]  # one trace per ABC rank
    by_rank = {t["name"]: dict(zip(t["x"], t["y"], strict=True)) for t in bar["data"]}
    assert by_rank == {"A": {"米": 26000.0, "ギフト": 15000.0}, "C": {"野菜": 1200.0}}


def test_the_form_is_built_from_the_typed_parameters(client: TestClient) -> None:
    login(client)
    page = client.get("/analyses/rfm")
    assert page.status_code == 200
    assert '<input type="date" name="as_of" value="">' in page.text
    assert '<option value="thresholds" selected>' in page.text
    assert 'name="r_thresholds" value="30,60,90,180"' in page.text
    assert 'id="analysis-result"' not in page.text  # not run yet
    cpm = client.get("/analyses/cpm").text
    assert '<input type="number" name="churn_days" value="240" step="1" min="1"' in cpm
    # A product parameter is a picker of the warehouse's products.
    sub = client.get("/analyses/subscription_active_monthly").text
    assert '<option value="rice">rice — 米 5kg</option>' in sub
    assert '<option value="" selected>(すべて)</option>' in sub


def test_picker_value_must_exist(client: TestClient) -> None:
    login(client)
    ok = client.get("/analyses/subscription_active_monthly?run=1&product_id=rice")
    assert ok.status_code == 200
    bad = client.get("/analyses/subscription_active_monthly?run=1&product_id=nope")
    assert bad.status_code == 422
    assert "product_id: 「nope」は登録されていません" in bad.text


def test_unknown_template_is_404(client: TestClient) -> None:
    login(client)
    assert client.get("/analyses/no_such_thing").status_code == 404
    assert client.get("/analyses/no_such_thing/export.csv").status_code == 404
    assert client.get("/analyses/rfm/export.pdf").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("r_thresholds=90,30", "r_thresholds"),
        ("as_of=2025-13-01", "as_of"),
        ("method=median", "method"),
        ("f_thresholds=0,2", "f_thresholds"),
    ],
)
def test_bad_parameter_is_rejected_next_to_its_field(
    client: TestClient, query: str, field: str
) -> None:
    login(client)
    page = client.get(f"/analyses/rfm?run=1&{query}")
    assert page.status_code == 422
    match = re.search(
        rf'<label class="field field-error" data-field="{field}">.*?'
        r'<span class="field-message" role="alert">(.*?)</span>',
        page.text,
        re.S,
    )
    assert match, page.text
    assert match.group(1).startswith(f"{field}: ")
    assert 'id="analysis-result"' not in page.text
    export = client.get(f"/analyses/rfm/export.csv?{query}")
    assert export.status_code == 422
    assert export.text.startswith(f"{field}: ")


def test_unknown_or_repeated_field_is_rejected_by_name(client: TestClient) -> None:
    login(client)
    unknown = client.get("/analyses/rfm?run=1&bogus=1")
    assert unknown.status_code == 400
    assert "bogus" in unknown.text
    twice = client.get("/analyses/rfm?run=1&as_of=2025-12-31&as_of=2025-12-30")
    assert twice.status_code == 400
    assert "as_of" in twice.text


def test_parameters_are_values_not_sql(client: TestClient, ws: Workspace) -> None:
    login(client)
    evil = "rice' OR '1'='1"
    page = client.get(
        "/analyses/subscription_active_monthly", params={"run": "1", "product_id": evil}
    )
    assert page.status_code == 422  # not a known product, so never run
    assert int(ws.warehouse.table("products").count().execute()) == 5


def test_long_results_are_paged(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from tokui.web.routes import analyses

    monkeypatch.setattr(analyses, "PAGE_SIZE", 3)
    login(client)
    first = client.get(RFM_URL)
    assert [r[0] for r in table_rows(first.text)] == ["g", "i", "n"]
    assert "4 行中 1〜3 行目" in first.text
    assert "1 / 2 ページ" in first.text
    second = client.get(RFM_URL + "&page=2")
    assert [r[0] for r in table_rows(second.text)] == ["s"]
    assert "4 行中 4〜4 行目" in second.text


# ---------------------------------------------------------------- exports


def test_csv_export_has_exactly_the_rows(client: TestClient) -> None:
    login(client)
    r = client.get("/analyses/rfm/export.csv?as_of=2025-12-31")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="rfm_20251231.csv"' in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows == [RFM_HEADER, *RFM_ROWS]


def test_xlsx_export_has_exactly_the_rows(client: TestClient) -> None:
    login(client)
    r = client.get("/analyses/rfm/export.xlsx?as_of=2025-12-31")
    assert r.status_code == 200
    assert "spreadsheetml" in r.headers["content-type"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values == [
        RFM_HEADER,
        ["g", 21, 3, 17000, "2025-12-10", 5, 3, 2, "532"],
        ["i", 91, 4, 8300, "2025-10-01", 2, 3, 1, "231"],
        ["n", 50, 1, 900, "2025-11-11", 4, 1, 1, "411"],
        ["s", 330, 2, 16000, "2025-02-04", 1, 2, 2, "122"],
    ]


def test_exports_neutralise_formulas(client: TestClient, ws: Workspace) -> None:
    con = ws.warehouse
    names = {
        "rice": '=HYPERLINK("http://evil.example","x")',
        "rice2": "+1+2",
        "rice_p": "-3+4",
        "gift": "@SUM(1)",
    }
    for product, name in names.items():
        con.raw_sql(
            f"UPDATE products SET name = '{name.replace(chr(39), chr(39) * 2)}' "
            f"WHERE product_id = '{product}'"
        )
    login(client)
    r = client.get("/analyses/product_sales_abc/export.csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    got = {row["product_id"]: row["name"] for row in rows}
    assert got == {p: "'" + n for p, n in names.items()} | {"veg_new": "新じゃが"}
    x = client.get("/analyses/product_sales_abc/export.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    name_col = header.index("name")
    cells = {row[1].value: row[name_col] for row in sheet.iter_rows(min_row=2)}
    for product, name in names.items():
        cell = cells[product]
        assert cell.value == name  # unchanged text ...
        assert cell.data_type == "s"  # ... stored as text, never a formula
        assert cell.quotePrefix
    # Numbers stay numbers, negative or not.
    assert isinstance(cells["rice"].offset(column=1).value, int)


# ---------------------------------------------------------------- XSS


def test_script_in_a_product_name_or_category_is_escaped(client: TestClient, ws: Workspace) -> None:
    payload = "</script><script>alert(1)</script>"
    ws.warehouse.raw_sql(
        f"UPDATE products SET name = '{payload}', category = '{payload}' WHERE product_id = 'gift'"
    )
    login(client)
    products = client.get("/analyses/product_sales_abc?run=1")
    assert products.status_code == 200
    assert payload not in products.text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in products.text
    categories = client.get("/analyses/category_sales_abc?run=1")
    assert payload not in categories.text
    # In the chart's JSON, "<" is escaped so no value can close the script element.
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in categories.text
    bar = chart_json(categories.text)
    assert payload in [x for t in bar["data"] for x in t["x"]]


# ---------------------------------------------------------------- dashboard


def test_saved_analysis_appears_on_the_dashboard_and_survives_a_restart(
    client: TestClient, ws: Workspace, clock: FixedClock
) -> None:
    login(client)
    saved_id = _save(client, "rfm_grid", "RFM グリッド 年末", as_of="2025-12-31")
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert f'id="saved-{saved_id}"' in dashboard.text
    assert "RFM グリッド 年末" in dashboard.text
    heat = chart_json(dashboard.text, f"saved-chart-{saved_id}")["data"][0]
    assert heat["y"] == ["1", "2", "4", "5"]
    with session_scope(ws.sessions) as s:
        row = s.get(SavedAnalysis, saved_id)
        assert row is not None
        assert json.loads(row.params) == {"as_of": "2025-12-31"}
        assert row.template_id == "rfm_grid"
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "analysis.save"))
        assert audit is not None and audit.target == str(saved_id)

    home = ws.home
    ws.close()
    reopened = Workspace.open(home)
    try:
        with TestClient(create_app(reopened, clock)) as fresh:
            login(fresh)
            page = fresh.get("/")
            assert "RFM グリッド 年末" in page.text
            heat = chart_json(page.text, f"saved-chart-{saved_id}")["data"][0]
            assert heat["z"][0] == [None, 1, None]  # R=1: one customer with F=2
    finally:
        reopened.close()


def test_cards_can_be_reordered_and_removed(client: TestClient, ws: Workspace) -> None:
    login(client)
    first = _save(client, "rfm_grid", "一枚目")
    second = _save(client, "cpm", "二枚目")

    def order() -> list[int]:
        return [int(x) for x in re.findall(r'data-saved="(\d+)"', client.get("/").text)]

    assert order() == [first, second]
    token = csrf_from(client.get("/").text)
    r = client.post(
        f"/dashboard/analyses/{second}/move",
        data={"direction": "up", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert order() == [second, first]
    bad = client.post(
        f"/dashboard/analyses/{second}/move", data={"direction": "sideways", "csrf_token": token}
    )
    assert bad.status_code == 400 and "direction" in bad.text
    r = client.post(f"/dashboard/analyses/{second}/remove", data={"csrf_token": token})
    assert r.status_code == 200  # followed the redirect to the dashboard
    assert order() == [first]
    gone = client.post(f"/dashboard/analyses/{second}/remove", data={"csrf_token": token})
    assert gone.status_code == 404


def test_a_saved_analysis_that_no_longer_fits_its_template_shows_an_error(
    client: TestClient, ws: Workspace
) -> None:
    from datetime import datetime

    with session_scope(ws.sessions) as s:
        now = datetime(2025, 12, 31)
        s.add_all(
            [
                SavedAnalysis(
                    template_id="rfm",
                    title="古い設定",
                    params='{"old_param": "1"}',
                    owner_id=None,
                    position=1,
                    created_at=now,
                    updated_at=now,
                ),
                SavedAnalysis(
                    template_id="gone_template",
                    title="消えたテンプレート",
                    params="{}",
                    owner_id=None,
                    position=2,
                    created_at=now,
                    updated_at=now,
                ),
            ]
        )
    login(client)
    page = client.get("/")
    assert page.status_code == 200
    errors = re.findall(
        r'<p class="alert alert-error" data-state="card-error">(.*?)</p>', page.text
    )
    assert len(errors) == 2
    assert "old_param" in errors[0]
    assert "gone_template" in errors[1]


def test_save_validates_title_and_parameters(client: TestClient, ws: Workspace) -> None:
    login(client)
    token = csrf_from(client.get("/analyses/rfm").text)
    bad = client.post(
        "/analyses/rfm/save", data={"csrf_token": token, "title": "x", "r_thresholds": "9,3"}
    )
    assert bad.status_code == 422
    assert "r_thresholds: " in bad.text
    empty = client.post("/analyses/rfm/save", data={"csrf_token": token, "title": "   "})
    assert empty.status_code == 422
    assert "title" in empty.text
    unknown = client.post(
        "/analyses/rfm/save", data={"csrf_token": token, "title": "x", "bogus": "1"}
    )
    assert unknown.status_code == 400
    with session_scope(ws.sessions) as s:
        assert s.scalar(select(func.count()).select_from(SavedAnalysis)) == 0


# ---------------------------------------------------------------- roles and CSRF


def test_viewer_may_view_but_not_export_or_save(client: TestClient, ws: Workspace) -> None:
    login(client)
    saved_id = _save(client, "rfm_grid", "共有カード")
    client.cookies.clear()
    login(client, VIEWER_EMAIL, VIEWER_PASSWORD)
    assert client.get("/analyses").status_code == 200
    page = client.get(RFM_URL)
    assert page.status_code == 200
    assert table_rows(page.text)[0][0] == "g"
    assert "export.csv" not in page.text and 'id="save-analysis"' not in page.text
    assert client.get("/analyses/rfm/export.csv").status_code == 403
    assert client.get("/analyses/rfm/export.xlsx").status_code == 403
    token = csrf_from(client.get("/").text)
    r = client.post("/analyses/rfm/save", data={"csrf_token": token, "title": "x"})
    assert r.status_code == 403
    dashboard = client.get("/").text
    assert "共有カード" in dashboard
    assert f"/dashboard/analyses/{saved_id}/remove" not in dashboard
    r = client.post(f"/dashboard/analyses/{saved_id}/remove", data={"csrf_token": token})
    assert r.status_code == 403
    with session_scope(ws.sessions) as s:
        assert s.scalar(select(func.count()).select_from(SavedAnalysis)) == 1


def test_analyst_may_export_and_save(client: TestClient, ws: Workspace) -> None:
    _analyst(ws)
    login(client, ANALYST_EMAIL, ANALYST_PASSWORD)
    assert client.get("/analyses/rfm/export.csv?as_of=2025-12-31").status_code == 200
    saved_id = _save(client, "rfm", "アナリストの保存")
    with session_scope(ws.sessions) as s:
        row = s.get(SavedAnalysis, saved_id)
        assert row is not None and row.owner_id is not None


def test_saving_without_the_csrf_token_is_refused(client: TestClient, ws: Workspace) -> None:
    login(client)
    r = client.post("/analyses/rfm/save", data={"title": "x"})
    assert r.status_code == 403
    r = client.post("/analyses/rfm/save", data={"title": "x", "csrf_token": "wrong"})
    assert r.status_code == 403
    r = client.post("/dashboard/analyses/1/remove", data={})
    assert r.status_code == 403
    with session_scope(ws.sessions) as s:
        assert s.scalar(select(func.count()).select_from(SavedAnalysis)) == 0


def test_signed_out_visitors_go_to_login(client: TestClient) -> None:
    r = client.get("/analyses", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/analyses"


def test_english_page(client: TestClient, tmp_path: Path) -> None:
    login(client)
    page = client.get(RFM_URL, headers={"Accept-Language": "en"})
    assert "Recency (days)" in page.text
    assert "Download CSV" in page.text


def test_every_template_runs_on_its_page_with_defaults(client: TestClient) -> None:
    """Each page renders its result; each chart is valid Plotly JSON with data."""
    login(client)
    kinds: dict[str, int] = {}
    for t in templates():
        page = client.get(f"/analyses/{t.id}?run=1")
        assert page.status_code == 200, (t.id, page.text[:500])
        assert 'id="analysis-result"' in page.text, t.id
        if 'data-chart-for="analysis-chart"' in page.text:
            figure = chart_json(page.text)
            assert figure["data"], t.id
            kind = figure["data"][0]["type"]
            kinds[kind] = kinds.get(kind, 0) + 1
    # The shop has data for most templates: bars, lines and heatmaps all appear.
    assert {"bar", "scatter", "heatmap"} <= set(kinds)
