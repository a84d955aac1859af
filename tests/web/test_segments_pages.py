"""The segments pages on the hand-made shop of tests/web/segments_shop.py (2025-12-31).

Customers: g (gift giver, 3 orders, Tokyo), n (one order, Osaka), i (4 rice orders,
Hokkaido, active subscription), s (2 premium orders, Fukuoka, cancelled subscription,
last order 2025-02-04), r (registered, Okinawa, never bought).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    NOW,
    VIEWER_EMAIL,
    VIEWER_PASSWORD,
    csrf_from,
    login,
)
from tests.web.segments_shop import (
    ANALYST_EMAIL,
    ANALYST_PASSWORD,
    MARKETER_EMAIL,
    MARKETER_PASSWORD,
    build,
    open_copy,
)
from tokui.clock import FixedClock
from tokui.segments.compile import members
from tokui.segments.dsl import SegmentDefinition
from tokui.segments.library import library, to_yaml
from tokui.segments.preview import make_context
from tokui.segments.store import all_definitions, save
from tokui.state.db import session_scope
from tokui.state.models import AuditLog, SavedSegment
from tokui.web.app import create_app
from tokui.workspace import Workspace

DROP = "'; DROP TABLE customers; --"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="session")
def segments_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("segments") / "shop"
    build(home)
    return home


@pytest.fixture
def seg_ws(segments_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    ws = open_copy(segments_template, tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def seg_client(seg_ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(seg_ws, FixedClock(NOW))) as c:
        yield c


def as_user(client: TestClient, email: str, password: str) -> str:
    """Sign in; returns the session's CSRF token."""
    assert login(client, email, password).status_code == 303
    return csrf_from(client.get("/segments").text)


def member_ids(ws: Workspace, key: str) -> set[str]:
    with ws.sessions() as db:
        definitions = all_definitions(db)
    ctx = make_context(ws.warehouse, resolve=definitions.get)
    return set(members(ctx, definitions[key]).customer_id.execute())


def row_of(html: str, key: str) -> str:
    match = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', html, re.DOTALL)
    assert match, f"no row for {key}"
    return match.group(1)


def cell(row: str, attr: str) -> str:
    match = re.search(rf"<td[^>]*{attr}[^>]*>(.*?)</td>", row, re.DOTALL)
    assert match
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


# A builder form: Tokyo, Hokkaido or Fukuoka AND (ever subscribed OR bought in the last
# 30 days) AND NOT gift giver. Prefecture: g, i, s; OR: i, s (subscriptions), g (12-10);
# NOT gift giver drops g. Members: i and s.
def builder_form(key: str = "north-subs", **extra: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "key": key,
        "name_ja": "北と定期",
        "name_en": "North and subscribers",
        "description": "",
        "n.type": "and",
        "n.0.type": "compare",
        "n.0.field": "prefecture",
        "n.0.op": "in",
        "n.0.values": ["東京都", "北海道", "福岡県"],
        "n.1.type": "or",
        "n.1.0.type": "subscription",
        "n.1.0.state": "ever",
        "n.1.1.type": "days_ago",
        "n.1.1.field": "last_order",
        "n.1.1.mode": "within",
        "n.1.1.days": "30",
        "n.2.type": "compare",
        "n.2.negate": "1",
        "n.2.field": "persona",
        "n.2.op": "eq",
        "n.2.value": "gift_giver",
    }
    form.update(extra)
    return form


def count_json(client: TestClient, token: str, fields: dict[str, Any]) -> Any:
    as_lists = {k: v if isinstance(v, list) else [v] for k, v in fields.items()}
    response = client.post(
        "/segments/builder/count",
        json={"fields": as_lists},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    return response.json()


# ------------------------------------------------------------------ list


def test_list_shows_counts_share_trend_and_source(seg_client: TestClient) -> None:
    as_user(seg_client, VIEWER_EMAIL, VIEWER_PASSWORD)
    page = seg_client.get("/segments")
    assert page.status_code == 200
    html = page.text
    assert "人数は最終更新(2025-12-31)時点です。" in html
    expected = {
        # frequency >= 1 and never subscribed: g, n
        "never-subscribed": ("2", "40.0%"),
        # exactly one order: n
        "one-time-buyers": ("1", "20.0%"),
        "registered-no-purchase": ("1", "20.0%"),
        "gift-givers": ("1", "20.0%"),
        "line-reachable": ("1", "20.0%"),
        "high-value": ("0", "0.0%"),
    }
    for key, (count, share) in expected.items():
        row = row_of(html, key)
        assert cell(row, "data-members") == count, key
        assert cell(row, "data-share") == share, key
        assert 'data-source="library"' in row
    # The trend: the earlier refresh's 4, then today's 2.
    trend = row_of(html, "never-subscribed")
    assert "<title>2025-12-01: 4, 2025-12-31: 2</title>" in trend
    assert 'points="0.0,2.0 100.0,22.0"' in trend
    assert len(re.findall(r'<tr data-key="', html)) == len(library())


def test_list_sort_is_whitelisted(seg_client: TestClient) -> None:
    as_user(seg_client, VIEWER_EMAIL, VIEWER_PASSWORD)
    html = seg_client.get("/segments?sort=members&dir=desc").text
    keys = re.findall(r'<tr data-key="([^"]+)"', html)
    assert keys[0] == "never-subscribed"
    assert keys[1:5] == ["gift-givers", "growth", "line-reachable", "one-time-buyers"]
    # An unknown sort field is ignored, not passed anywhere: the key order.
    html = seg_client.get("/segments?sort=name;DROP&dir=asc").text
    keys = re.findall(r'<tr data-key="([^"]+)"', html)
    assert keys == sorted(library())


# ------------------------------------------------------------------ one segment


def test_segment_page_ja_and_en(seg_client: TestClient) -> None:
    as_user(seg_client, VIEWER_EMAIL, VIEWER_PASSWORD)
    html = seg_client.get("/segments/never-subscribed").text
    assert "購入回数が1以上 AND 定期を一度も契約していない" in html
    assert re.search(r'data-figure="members">.*?<div class="card-value">2</div>', html, re.DOTALL)
    assert "全顧客 5 人中 40.0%" in html
    assert re.findall(r'<td><a href="(/customers/[^"]+)">', html) == [
        "/customers/g",
        "/customers/n",
    ]
    overlap = row_of(html, "gift-givers")
    assert cell(overlap, "data-both") == "1"
    assert "50.0%" in overlap
    assert cell(row_of(html, "registered-no-purchase"), "data-both") == "0"
    assert '<td>2025-12-01</td><td class="num">4</td>' in html
    assert 'id="size-data"' in html
    # A viewer neither edits nor exports.
    assert "/segments/never-subscribed/edit" not in html
    assert 'id="export-form"' not in html

    seg_client.get("/segments/never-subscribed?lang=en")
    html = seg_client.get("/segments/never-subscribed").text
    assert "Orders ≥ 1 AND has never subscribed" in html


def test_unknown_segment_is_404(seg_client: TestClient) -> None:
    as_user(seg_client, VIEWER_EMAIL, VIEWER_PASSWORD)
    assert seg_client.get("/segments/no-such-thing").status_code == 404
    assert seg_client.get("/segments/no-such-thing/yaml").status_code == 404


def test_yaml_download(seg_client: TestClient) -> None:
    as_user(seg_client, VIEWER_EMAIL, VIEWER_PASSWORD)
    response = seg_client.get("/segments/never-subscribed/yaml")
    assert response.status_code == 200
    assert response.text == to_yaml(library()["never-subscribed"])
    assert "segment-never-subscribed.yaml" in response.headers["content-disposition"]


# ------------------------------------------------------------------ builder


def test_builder_saves_a_segment_with_exact_members(
    seg_client: TestClient, seg_ws: Workspace
) -> None:
    token = as_user(seg_client, MARKETER_EMAIL, MARKETER_PASSWORD)
    form = builder_form(action="save", csrf_token=token)
    response = seg_client.post("/segments/new", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/segments/north-subs?saved=1"
    assert member_ids(seg_ws, "north-subs") == {"i", "s"}

    with seg_ws.sessions() as db:
        row = db.scalar(select(SavedSegment).where(SavedSegment.key == "north-subs"))
        assert row is not None and row.version == 1
        audit = db.scalars(select(AuditLog).where(AuditLog.target == "north-subs")).all()
        assert [a.action for a in audit] == ["segment.create"]

    page = seg_client.get(response.headers["location"]).text
    assert "保存しました(版 1)。" in page
    assert (
        "都道府県が「東京都、北海道、福岡県」のいずれか AND (定期を契約したことがある OR "
        "最終購入日が30日以内) AND NOT (購入目的ペルソナが「ギフト派」)"
    ) in page
    assert re.search(r'<div class="card-value">2</div>', page)
    listing = row_of(seg_client.get("/segments").text, "north-subs")
    assert 'data-source="saved"' in listing
    assert "未集計" in listing  # no refresh since it was saved
    assert "2025-12-31 12:00" in listing  # saved at 03:00 UTC, shown in the shop's time

    # Editing makes version 2; the key in the form cannot rename it.
    form = builder_form(key="renamed", action="save", csrf_token=token)
    form["n.0.values"] = ["北海道"]
    response = seg_client.post("/segments/north-subs/edit", data=form, follow_redirects=False)
    assert response.headers["location"] == "/segments/north-subs?saved=2"
    assert member_ids(seg_ws, "north-subs") == {"i"}
    with seg_ws.sessions() as db:
        assert db.scalar(select(SavedSegment).where(SavedSegment.key == "renamed")) is None
        actions = db.scalars(select(AuditLog.action).where(AuditLog.target == "north-subs"))
        assert list(actions) == ["segment.create", "segment.update"]


def test_builder_new_refuses_a_taken_key(seg_client: TestClient, seg_ws: Workspace) -> None:
    token = as_user(seg_client, MARKETER_EMAIL, MARKETER_PASSWORD)
    for key in ("never-subscribed", "new"):
        form = builder_form(key=key, action="save", csrf_token=token)
        response = seg_client.post("/segments/new", data=form)
        assert response.status_code == 422
        assert f"キー「{key}」は既に使われています" in response.text
    with seg_ws.sessions() as db:
        assert db.scalars(select(SavedSegment)).all() == []


def test_editing_a_ready_segment_saves_an_override(
    seg_client: TestClient, seg_ws: Workspace
) -> None:
    token = as_user(seg_client, MARKETER_EMAIL, MARKETER_PASSWORD)
    page = seg_client.get("/segments/one-time-buyers/edit").text
    # The shipped single condition comes back as a group holding it.
    assert 'name="n.0.field"' in page and 'name="n.0.value" value="1"' in page
    form = {
        "csrf_token": token,
        "action": "save",
        "name_ja": "1回購入者",
        "name_en": "One-time buyers",
        "n.type": "and",
        "n.0.type": "compare",
        "n.0.field": "frequency",
        "n.0.op": "le",
        "n.0.value": "2",
        "n.1.type": "compare",
        "n.1.field": "frequency",
        "n.1.op": "ge",
        "n.1.value": "1",
    }
    response = seg_client.post("/segments/one-time-buyers/edit", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert member_ids(seg_ws, "one-time-buyers") == {"n", "s"}
    listing = row_of(seg_client.get("/segments").text, "one-time-buyers")
    assert 'data-source="saved"' in listing


def test_plain_post_shows_the_count_and_yaml(seg_client: TestClient) -> None:
    token = as_user(seg_client, ANALYST_EMAIL, ANALYST_PASSWORD)
    page = seg_client.post("/segments/new", data=builder_form(action="count", csrf_token=token))
    assert page.status_code == 200
    assert "該当: 2 人 / 5 人 (40.0%)" in page.text
    # An analyst drafts but has no save button.
    assert 'id="save-segment"' not in page.text
    page = seg_client.post("/segments/new", data=builder_form(action="yaml", csrf_token=token))
    yaml_text = re.search(r'<pre class="seg-yaml" id="yaml-text">(.*?)</pre>', page.text, re.DOTALL)
    assert yaml_text
    assert "field: prefecture\n" in yaml_text.group(1)
    assert "- 北海道\n" in yaml_text.group(1)
    assert "type: not\n" in yaml_text.group(1)


def test_add_and_remove_conditions_without_javascript(seg_client: TestClient) -> None:
    token = as_user(seg_client, MARKETER_EMAIL, MARKETER_PASSWORD)
    empty = {"csrf_token": token, "key": "", "name_ja": "", "n.type": "and"}
    page = seg_client.post(
        "/segments/new", data={**empty, "action": "add:n", "n.add_type": "bought"}
    )
    assert 'name="n.0.type" value="bought"' in page.text
    assert 'name="n.0.category"' in page.text
    # A group, then a second level inside it.
    page = seg_client.post("/segments/new", data={**empty, "action": "group:n"})
    assert '<select name="n.0.type"' in page.text and 'name="n.0.0.field"' in page.text
    nested = {**empty, "n.0.type": "or", "n.0.0.type": "cart_no_order", "n.0.0.days": "3"}
    page = seg_client.post(
        "/segments/new", data={**nested, "action": "add:n.0", "n.0.add_type": "subscription"}
    )
    assert 'name="n.0.1.type" value="subscription"' in page.text
    page = seg_client.post("/segments/new", data={**nested, "action": "remove:n.0"})
    assert 'name="n.0.type"' not in page.text


def test_live_count_endpoint(seg_client: TestClient) -> None:
    token = as_user(seg_client, ANALYST_EMAIL, ANALYST_PASSWORD)
    result = count_json(seg_client, token, builder_form())
    assert result == {
        "ok": True,
        "errors": {},
        "members": 2,
        "customers": 5,
        "text": "該当: 2 人 / 5 人 (40.0%)",
        "description": (
            "都道府県が「東京都、北海道、福岡県」のいずれか AND (定期を契約したことがある"
            " OR 最終購入日が30日以内) AND NOT (購入目的ペルソナが「ギフト派」)"
        ),
    }
    # Dropping the NOT lets the gift giver in.
    form = builder_form()
    del form["n.2.negate"]
    assert count_json(seg_client, token, form)["members"] == 1  # only g is a gift giver


def test_hostile_values_are_kept_verbatim_and_match_nobody(
    seg_client: TestClient, seg_ws: Workspace
) -> None:
    token = as_user(seg_client, MARKETER_EMAIL, MARKETER_PASSWORD)
    form = {
        "csrf_token": token,
        "action": "save",
        "key": "hostile",
        "name_ja": SCRIPT,
        "n.type": "or",
        "n.0.type": "compare",
        "n.0.field": "prefecture",
        "n.0.op": "eq",
        "n.0.value": DROP,
        "n.1.type": "compare",
        "n.1.field": "main_category",
        "n.1.op": "in",
        "n.1.value": SCRIPT,
        "n.2.type": "bought",
        "n.2.target": "product_id",
        "n.2.product_id": DROP,
    }
    response = seg_client.post("/segments/new", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    with seg_ws.sessions() as db:
        row = db.scalar(select(SavedSegment).where(SavedSegment.key == "hostile"))
        assert row is not None
        stored = json.loads(row.definition)
    assert stored["name_ja"] == SCRIPT
    conditions = stored["condition"]["conditions"]
    assert conditions[0]["value"] == DROP
    assert conditions[1]["value"] == [SCRIPT]
    assert conditions[2]["product_id"] == DROP
    assert member_ids(seg_ws, "hostile") == set()
    assert int(seg_ws.warehouse.table("customers").count().execute()) == 5

    page = seg_client.get("/segments/hostile").text
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#39;; DROP TABLE customers; --" in page
    edit = seg_client.get("/segments/hostile/edit").text
    assert SCRIPT not in edit
    assert 'value="&#39;; DROP TABLE customers; --"' in edit


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    [
        ({"n.0.field": "favourite_colour"}, "n.0", "項目「favourite_colour」は使えません。"),
        ({"n.0.field": "customer_id", "n.0.op": "eq"}, "n.0", "項目「customer_id」は使えません。"),
        ({"n.0.op": "lt"}, "n.0", "演算子「lt」は項目「prefecture」に使えません。"),
        ({"n.1.1.field": "prefecture"}, "n.1.1", "項目「prefecture」は日付ではありません。"),
        ({"n.1.1.days": "abc"}, "n.1.1", "「abc」は整数ではありません。"),
        ({"n.1.1.days": "99999"}, "n.1.1", "Input should be less than or equal to 36500"),
        (
            {"n.2.field": "frequency", "n.2.value": "three"},
            "n.2",
            "「three」は数値ではありません。",
        ),
        ({"n.1.0.type": "sql"}, "n.1.0", "条件の種類「sql」は使えません。"),
        (
            {"n.1.0.type": "in_segment", "n.1.0.segment": "nope"},
            "n.1.0",
            "no segment 'nope'",
        ),
    ],
)
def test_bad_conditions_are_named_next_to_their_place(
    seg_client: TestClient,
    seg_ws: Workspace,
    changes: dict[str, str],
    where: str,
    message: str,
) -> None:
    token = as_user(seg_client, MARKETER_EMAIL, MARKETER_PASSWORD)
    form = builder_form(**changes)
    result = count_json(seg_client, token, form)
    assert result["ok"] is False
    assert result["errors"] == {where: [message]}
    # The plain form says the same next to the condition, and saves nothing.
    page = seg_client.post("/segments/new", data={**form, "action": "save", "csrf_token": token})
    assert page.status_code == 422
    errors = re.search(rf'data-error-for="{re.escape(where)}"><li>(.*?)</li>', page.text)
    assert errors, page.text
    assert errors.group(1).replace("&#39;", "'").replace("&quot;", '"') == message
    with seg_ws.sessions() as db:
        assert db.scalars(select(SavedSegment)).all() == []


def test_missing_names_are_required_on_save_only(seg_client: TestClient) -> None:
    token = as_user(seg_client, MARKETER_EMAIL, MARKETER_PASSWORD)
    form = builder_form(key="", name_ja="")
    assert count_json(seg_client, token, form)["members"] == 2
    page = seg_client.post("/segments/new", data={**form, "action": "save", "csrf_token": token})
    assert page.status_code == 422
    assert re.search(r'data-error-for="key"><li>入力してください。</li>', page.text)
    assert re.search(r'data-error-for="name_ja"><li>入力してください。</li>', page.text)
    result = count_json(seg_client, token, builder_form(key="Bad Key"))
    assert result["errors"] == {
        "key": ["キーは英小文字・数字・-・_ で、英小文字か数字で始めてください(64文字まで)。"]
    }


# ------------------------------------------------------------------ roles and CSRF


def test_viewer_cannot_build_save_or_export(seg_client: TestClient, seg_ws: Workspace) -> None:
    token = as_user(seg_client, VIEWER_EMAIL, VIEWER_PASSWORD)
    assert seg_client.get("/segments/new").status_code == 403
    assert seg_client.get("/segments/never-subscribed/edit").status_code == 403
    form = builder_form(action="save", csrf_token=token)
    assert seg_client.post("/segments/new", data=form).status_code == 403
    response = seg_client.post(
        "/segments/builder/count", json={"fields": {}}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 403
    export = {"csrf_token": token, "channel": "dm", "encoding": "utf-8", "pii": "1"}
    assert seg_client.post("/segments/never-subscribed/export", data=export).status_code == 403
    del export["pii"]
    assert seg_client.post("/segments/never-subscribed/export", data=export).status_code == 403
    with seg_ws.sessions() as db:
        assert db.scalars(select(SavedSegment)).all() == []


def test_analyst_drafts_but_cannot_save_or_export_contacts(
    seg_client: TestClient, seg_ws: Workspace
) -> None:
    token = as_user(seg_client, ANALYST_EMAIL, ANALYST_PASSWORD)
    assert seg_client.get("/segments/new").status_code == 200
    form = builder_form(action="save", csrf_token=token)
    assert seg_client.post("/segments/new", data=form).status_code == 403
    export = {"csrf_token": token, "channel": "email", "encoding": "utf-8", "pii": "1"}
    assert seg_client.post("/segments/never-subscribed/export", data=export).status_code == 403
    del export["pii"]
    response = seg_client.post("/segments/never-subscribed/export", data=export)
    assert response.status_code == 200
    # g and n, both accept email; no name, address, email or phone.
    assert response.content == "\ufeffcustomer_id,prefecture\r\ng,東京都\r\nn,大阪府\r\n".encode()
    with seg_ws.sessions() as db:
        assert db.scalars(select(SavedSegment)).all() == []


def test_csrf_is_required_to_save_and_to_count(seg_client: TestClient, seg_ws: Workspace) -> None:
    token = as_user(seg_client, MARKETER_EMAIL, MARKETER_PASSWORD)
    response = seg_client.post("/segments/new", data=builder_form(action="save"))
    assert response.status_code == 403
    form = builder_form(action="save", csrf_token="forged")
    assert seg_client.post("/segments/new", data=form).status_code == 403
    assert seg_client.post("/segments/builder/count", json={"fields": {}}).status_code == 403
    response = seg_client.post(
        "/segments/builder/count", json={"fields": {}}, headers={"X-CSRF-Token": "forged"}
    )
    assert response.status_code == 403
    export = {"channel": "dm", "encoding": "utf-8", "pii": "1"}
    assert seg_client.post("/segments/never-subscribed/export", data=export).status_code == 403
    with seg_ws.sessions() as db:
        assert db.scalars(select(SavedSegment)).all() == []
    assert count_json(seg_client, token, builder_form())["members"] == 2


# ------------------------------------------------------------------ export


def _save(ws: Workspace, key: str, condition: dict[str, Any]) -> None:
    definition = SegmentDefinition.model_validate(
        {"key": key, "name_ja": key, "name_en": key, "condition": condition}
    )
    with session_scope(ws.sessions) as db:
        save(db, definition, datetime(2025, 12, 31, 4))


def test_export_is_consent_filtered_and_spreadsheet_safe(
    seg_client: TestClient, seg_ws: Workspace
) -> None:
    _save(seg_ws, "everyone", {"type": "compare", "field": "frequency", "op": "ge", "value": 0})
    token = as_user(seg_client, MARKETER_EMAIL, MARKETER_PASSWORD)
    export = {"csrf_token": token, "channel": "email", "encoding": "utf-8", "pii": "1"}
    response = seg_client.post("/segments/everyone/export", data=export)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        'filename="segment-everyone-email-20251231.csv"' in response.headers["content-disposition"]
    )
    # email_opt_in: g, n, s. s's name, email and phone start like formulas.
    assert (
        response.content
        == (
            "\ufeffcustomer_id,name,name_kana,email,postal_code,prefecture,phone\r\n"
            "g,山田 花子,ヤマダ ハナコ,hanako@example.com,100-0001,東京都,03-0000-0001\r\n"
            "n,佐藤 次郎,サトウ ジロウ,jiro@example.com,530-0001,大阪府,06-0000-0002\r\n"
            "s,'=1+2,イコール,'@s@example.com,810-0001,福岡県,'+81-92-000-0004\r\n"
        ).encode()
    )

    # dm_opt_in: i, s, r; r's emoji has no Shift_JIS code, so that file is refused.
    export.update(channel="dm", encoding="shift_jis")
    response = seg_client.post("/segments/everyone/export", data=export)
    assert response.status_code == 422
    assert "customer r, column name" in response.text

    _save(seg_ws, "subscribers", {"type": "subscription", "state": "ever"})
    response = seg_client.post("/segments/subscribers/export", data=export)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=shift_jis"
    assert response.content == (
        "customer_id,name,name_kana,email,postal_code,prefecture,phone\r\n"
        "i,髙橋 一郎,タカハシ イチロウ,ichiro@example.com,060-0001,北海道,011-000-0003\r\n"
        "s,'=1+2,イコール,'@s@example.com,810-0001,福岡県,'+81-92-000-0004\r\n"
    ).encode("cp932")
    assert "髙".encode("cp932") in response.content

    with seg_ws.sessions() as db:
        entries = db.scalars(
            select(AuditLog).where(AuditLog.action == "segment.export").order_by(AuditLog.id)
        ).all()
    assert [(e.target, json.loads(e.detail or "")["rows"]) for e in entries] == [
        ("everyone", 3),
        ("subscribers", 2),
    ]
    assert json.loads(entries[0].detail or "")["channel"] == "email"


def test_export_rejects_unknown_channel_and_encoding(seg_client: TestClient) -> None:
    token = as_user(seg_client, MARKETER_EMAIL, MARKETER_PASSWORD)
    for channel, encoding in (("fax", "utf-8"), ("dm", "latin-1"), ("", "utf-8")):
        export = {"csrf_token": token, "channel": channel, "encoding": encoding}
        response = seg_client.post("/segments/never-subscribed/export", data=export)
        assert response.status_code == 400


def test_pages_before_the_first_refresh(empty_ws: Workspace) -> None:
    with TestClient(create_app(empty_ws, FixedClock(NOW))) as client:
        token = as_user(client, ADMIN_EMAIL, ADMIN_PASSWORD)
        html = client.get("/segments").text
        assert 'data-state="not-refreshed"' in html
        assert "未集計" in row_of(html, "never-subscribed")
        no_features = "顧客特徴量がまだありません。"
        page = client.get("/segments/never-subscribed")
        assert page.status_code == 200
        assert no_features in page.text
        page = client.get("/segments/new")
        assert page.status_code == 409 and no_features in page.text
        response = client.post(
            "/segments/builder/count",
            json={"fields": {"n.type": ["and"]}},
            headers={"X-CSRF-Token": token},
        )
        assert response.status_code == 409
        assert response.json()["error"].startswith(no_features)
