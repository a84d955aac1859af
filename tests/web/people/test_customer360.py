"""Customer search and the customer 360 page, on the people shop of
tests/privacy/people.py (customers d, g, i, n, r, s, x)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from zoneinfo import ZoneInfo

import ibis
import pytest
from fastapi.testclient import TestClient

from tests.privacy.people import XSS_NAME, load_people
from tests.web.people.helpers import sign_in
from tokui.customers import search
from tokui.customers.masking import mask_email, mask_phone
from tokui.customers.profile import customer_360, remaining_points
from tokui.customers.search import CustomerQuery, SearchInputError, search_customers
from tokui.state.models import Role
from tokui.warehouse.connection import connect
from tokui.warehouse.schema import create_schema
from tokui.workspace import Workspace

TOKYO = ZoneInfo("Asia/Tokyo")
ALL_BY_ID = ["d", "g", "i", "n", "r", "s", "x"]


def _ids(html: str) -> list[str]:
    body = html.split('id="customer-results"', 1)
    if len(body) < 2:
        return []
    return re.findall(r'<td><a href="/customers/([^"]+)">', body[1])


# --- the search and 360 functions, on every warehouse backend --------------------------


@pytest.fixture
def people_con(warehouse_url: str) -> Iterator[ibis.BaseBackend]:
    con = connect(warehouse_url)
    create_schema(con)
    load_people(con)
    yield con
    con.disconnect()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ALL_BY_ID),
        ("山田", ["g"]),
        ("山田花子", ["g"]),  # spaces ignored on both sides
        ("やまだ", ["g"]),  # hiragana finds katakana
        ("ヤマダ ハナコ", ["g"]),
        ("ｻｸｼﾞｮ", ["d"]),  # half-width kana, folded by NFKC
        ("TARO.delete@example", ["d"]),
        ("090-5555", ["d"]),
        ("09055556666", ["d"]),
        ("+81 90 5555 6666", ["d"]),
        ("03-1234", ["i"]),
        ("d", ["d"]),
        ("' OR 1=1 --", []),
        ("%", []),
    ],
)
def test_search_matches(people_con: ibis.BaseBackend, text: str, expected: list[str]) -> None:
    page = search_customers(people_con, CustomerQuery.parse(text, None, None, None))
    assert [r["customer_id"] for r in page.rows] == expected
    assert page.total == len(expected)


def test_search_sorts_and_pages(
    people_con: ibis.BaseBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ids(sort: str, direction: str, page: str = "1") -> list[str]:
        q = CustomerQuery.parse("", sort, direction, page)
        return [r["customer_id"] for r in search_customers(people_con, q).rows]

    assert ids("id", "desc") == ALL_BY_ID[::-1]
    # registered_at: d 2025-03-01, x 2025-05-01, the others 2024-01-01 (ties by id)
    assert ids("registered", "asc") == ["g", "i", "n", "r", "s", "d", "x"]
    assert ids("registered", "desc") == ["x", "d", "g", "i", "n", "r", "s"]
    monkeypatch.setattr(search, "PAGE_SIZE", 3)
    assert ids("id", "asc", "2") == ["n", "r", "s"]
    assert ids("id", "asc", "3") == ["x"]
    page = search_customers(people_con, CustomerQuery.parse("", "id", "asc", "3"))
    assert (page.total, page.pages) == (7, 3)
    assert ids("id", "asc", "4") == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("", "email", None, None), "sort"),
        (("", None, "up", None), "dir"),
        (("", None, None, "0"), "page"),
        (("", None, None, "2x"), "page"),
        (("a" * 101, None, None, None), "q"),
        (("a\x00b", None, None, None), "q"),
    ],
)
def test_bad_search_parameters_are_named(
    args: tuple[str | None, str | None, str | None, str | None], field: str
) -> None:
    with pytest.raises(SearchInputError) as info:
        CustomerQuery.parse(*args)
    assert info.value.field == field


def test_customer_360_values(people_con: ibis.BaseBackend) -> None:
    view = customer_360(people_con, "d", date(2025, 12, 31), TOKYO)
    assert view is not None
    assert view.customer["name"] == "削除 太郎"
    assert view.customer["registered_at"].isoformat() == "2025-03-01T12:00:00+09:00"
    assert view.orders_total == 2
    assert [o["order_id"] for o in view.orders] == ["od2", "od1"]
    assert [(line["product_id"], line["amount"]) for line in view.orders[1]["lines"]] == [
        ("rice", 4000),
        ("veg_new", 300),
    ]
    [sub] = view.subscriptions
    assert sub["product_name"] == "米 5kg"
    assert (sub["status"], sub["cancel_reason"]) == ("cancelled", "量が多い")
    assert [x["status"] for x in sub["deliveries"]] == ["shipped", "skipped", "cancelled"]
    assert (sub["shipped"], sub["skips"]) == (1, 1)
    assert view.point_balance == 60
    assert view.expiring_points == [
        {"expires_on": date(2026, 3, 2), "points": 40},
        {"expires_on": date(2026, 4, 2), "points": 20},
    ]
    coupons = [(c["coupon_name"], c["code"]) for c in view.coupons]
    assert coupons == [("初回300円引き", "WELCOME300")]
    # Only the customer's own events; anonymous ones before login are not shown as theirs.
    assert view.web_total == 2
    assert [e["event_type"] for e in view.web_events] == ["cart_add", "login"]
    assert view.features is None and view.scores is None  # no refresh ran here
    assert customer_360(people_con, "nobody", date(2025, 12, 31), TOKYO) is None


def test_points_are_spent_oldest_first() -> None:
    rows = [
        {"kind": "earn", "points": 100, "expires_on": date(2025, 12, 10)},
        {"kind": "use", "points": -40, "expires_on": None},
        {"kind": "earn", "points": 50, "expires_on": date(2026, 12, 10)},
        {"kind": "use", "points": -70, "expires_on": None},
    ]
    # 100 - 40 - 60 (rest of the first grant) = 0 left of it; 50 - 10 = 40 of the second.
    assert remaining_points(rows, date(2025, 6, 1)) == (
        40,
        [{"expires_on": date(2026, 12, 10), "points": 40}],
    )
    # The shop fixture's g: 100 earned (expired 2025-12-10), 40 used, 50 earned.
    g = [
        {"kind": "earn", "points": 100, "expires_on": date(2025, 12, 10)},
        {"kind": "use", "points": -40, "expires_on": None},
        {"kind": "earn", "points": 50, "expires_on": date(2026, 12, 10)},
    ]
    assert remaining_points(g, date(2025, 12, 31)) == (
        110,
        [{"expires_on": date(2026, 12, 10), "points": 50}],
    )


def test_masking() -> None:
    assert mask_email("Taro.Delete@Example.com") == "T***@Example.com"
    assert mask_phone("090-5555-6666") == "***-****-6666"
    assert mask_phone("03-1234-5678") == "**-****-5678"
    assert mask_email(None) is None and mask_phone("") == ""


# --- the pages --------------------------------------------------------------------------


def test_search_page(web: TestClient) -> None:
    sign_in(web, Role.viewer)
    r = web.get("/customers")
    assert r.status_code == 200
    assert _ids(r.text) == ALL_BY_ID
    assert "7 件" in r.text
    r = web.get("/customers", params={"q": "さくじょ"})
    assert _ids(r.text) == ["d"]
    r = web.get("/customers", params={"sort": "registered", "dir": "desc"})
    assert _ids(r.text) == ["x", "d", "g", "i", "n", "r", "s"]
    for bad in ({"sort": "email; drop table customers"}, {"dir": "sideways"}, {"page": "-1"}):
        r = web.get("/customers", params=bad)
        assert r.status_code == 400
        assert "の値が正しくありません" in r.text


def test_360_page_for_admin(web: TestClient, people_ws: Workspace) -> None:
    sign_in(web, Role.admin)
    r = web.get("/customers/d")
    assert r.status_code == 200
    html = r.text
    assert '<dd id="customer-email">Taro.Delete@Example.com</dd>' in html
    assert '<dd id="customer-phone">090-5555-6666</dd>' in html
    assert '<dd id="line-linked"><span class="flag flag-yes">はい</span></dd>' in html
    assert '<span id="point-balance">60</span> pt' in html
    assert "<li>2026-03-02: 40 pt</li><li>2026-04-02: 20 pt</li>" in html
    assert "購入履歴 (2 件)" in html
    assert '<span class="order-total">¥4,000</span>' in html
    assert "値引き −¥300 (WELCOME300)" in html
    assert '<span class="cancel-reason">量が多い</span>' in html
    assert "出荷 1 回 / スキップ 1 回" in html
    assert "2025-04-02 12:00" in html  # shipped 03:00 UTC, shown in JST
    assert "初回300円引き" in html
    assert "最近のWeb行動 (全 2 件)" in html
    # Features from the refresh: rank silver by the rank rules, dormant, ¥6,000 spent.
    assert "<dd>¥6,000</dd>" in html and "休眠" in html
    # Messages arrive later: announced, not faked.
    assert "現在はまだデータがありません" in html
    # Scores show what the models wrote for "d" (their values are the models' tests'
    # business), or say there are none.
    con = people_ws.warehouse
    models: list[str] = []
    if "customer_scores" in con.list_tables():
        scores = con.table("customer_scores")
        models = sorted(scores.filter(scores.customer_id == "d").model.to_list())
    shown = re.findall(r'<tr data-model="([^"]+)">', html)
    assert sorted(shown) == models
    assert ("この顧客にはまだスコアがありません" in html) == (not models)
    assert 'href="/customers/d/delete"' in html


@pytest.mark.parametrize("role", [Role.viewer, Role.analyst, Role.marketer])
def test_only_viewers_get_masked_contacts_and_only_admins_the_delete_button(
    web: TestClient, role: Role
) -> None:
    sign_in(web, role)
    html = web.get("/customers/d").text
    if role is Role.viewer:
        assert '<dd id="customer-email">T***@Example.com</dd>' in html
        assert '<dd id="customer-phone">***-****-6666</dd>' in html
        assert "Taro.Delete" not in html and "5555" not in html
        listing = web.get("/customers", params={"q": "さくじょ"}).text
        assert "T***@Example.com" in listing and "Taro.Delete" not in listing
    else:
        assert '<dd id="customer-email">Taro.Delete@Example.com</dd>' in html
    assert "/customers/d/delete" not in html
    assert "Udel0001" not in html  # the LINE id itself is never shown, only "linked"


def test_names_are_escaped(web: TestClient) -> None:
    sign_in(web, Role.admin)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in ("/customers/x", "/customers?q=スクリプト"):
        html = web.get(path).text
        assert escaped in html, path
        assert XSS_NAME not in html, path


def test_unknown_customer_is_404(web: TestClient) -> None:
    sign_in(web, Role.viewer)
    assert web.get("/customers/nobody").status_code == 404
    assert web.get("/customers/" + "a" * 201).status_code == 404


def test_pages_need_login(web: TestClient) -> None:
    r = web.get("/customers/d", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=/customers/d")
