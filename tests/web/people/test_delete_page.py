"""Deleting a customer on request from the web: admins only, typed confirmation, CSRF,
and the privacy audit trail page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import csrf_from
from tests.web.people.helpers import sign_in
from tokui.privacy.personal_data import PERSONAL_TABLES
from tokui.state.models import Role
from tokui.workspace import Workspace


def _rows_of_d(ws: Workspace) -> int:
    con = ws.warehouse
    total = 0
    for p in PERSONAL_TABLES:
        t = con.table(p.table)
        if "customer_id" in t.columns:
            total += int(t.filter(t.customer_id == "d").count().execute())
    return total


@pytest.mark.parametrize("role", [Role.viewer, Role.analyst, Role.marketer])
def test_only_admins_may_delete_or_see_the_trail(
    web: TestClient, people_ws: Workspace, role: Role
) -> None:
    sign_in(web, role)
    token = csrf_from(web.get("/import").text)
    assert web.get("/customers/d/delete").status_code == 403
    r = web.post(
        "/customers/d/delete",
        data={"csrf_token": token, "confirm_id": "d", "reason": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert web.get("/settings/privacy").status_code == 403
    assert _rows_of_d(people_ws) > 0


def test_delete_needs_the_csrf_token(web: TestClient, people_ws: Workspace) -> None:
    sign_in(web, Role.admin)
    before = _rows_of_d(people_ws)
    r = web.post(
        "/customers/d/delete",
        data={"confirm_id": "d", "reason": "本人より"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = web.post(
        "/customers/d/delete",
        data={"confirm_id": "d", "reason": "本人より", "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert _rows_of_d(people_ws) == before


def test_delete_needs_the_typed_id_and_a_reason(web: TestClient, people_ws: Workspace) -> None:
    sign_in(web, Role.admin)
    before = _rows_of_d(people_ws)
    page = web.get("/customers/d/delete")
    assert page.status_code == 200
    token = csrf_from(page.text)
    r = web.post(
        "/customers/d/delete", data={"csrf_token": token, "confirm_id": "g", "reason": "依頼"}
    )
    assert r.status_code == 400
    assert "入力された顧客IDが一致しません。削除していません。" in r.text
    r = web.post(
        "/customers/d/delete", data={"csrf_token": token, "confirm_id": "d", "reason": " "}
    )
    assert r.status_code == 400
    assert "理由を 500 文字以内で入力してください" in r.text
    assert _rows_of_d(people_ws) == before


def test_delete_and_the_audit_trail(web: TestClient, people_ws: Workspace) -> None:
    sign_in(web, Role.admin)
    assert _rows_of_d(people_ws) > 0
    token = csrf_from(web.get("/customers/d/delete").text)
    r = web.post(
        "/customers/d/delete",
        data={"csrf_token": token, "confirm_id": "d", "reason": "本人より電話で依頼 <b>#7</b>"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/customers?deleted=d"
    assert "顧客 d のデータを削除しました。" in web.get(r.headers["location"]).text
    assert _rows_of_d(people_ws) == 0
    assert web.get("/customers/d").status_code == 404
    # The other customers are all still there.
    assert web.get("/customers").text.count('<td><a href="/customers/') == 6
    trail = web.get("/settings/privacy")
    assert trail.status_code == 200
    row = trail.text.split('id="privacy-log"', 1)[1]
    assert "Admin &lt;admin@example.com&gt;" in row
    assert "<td>d</td>" in row
    assert "本人より電話で依頼 &lt;b&gt;#7&lt;/b&gt;" in row
    assert "抑止リストの登録数: 1 件" in trail.text
    # Deleting again finds nothing and says so.
    r = web.post(
        "/customers/d/delete", data={"csrf_token": token, "confirm_id": "d", "reason": "再"}
    )
    assert r.status_code == 404
    assert "この顧客のデータは見つかりませんでした" in r.text
