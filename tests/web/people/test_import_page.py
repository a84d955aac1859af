"""The import page: upload, preview with errors and flags, confirm, progress, history."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.privacy.people import SECRET
from tests.web.conftest import csrf_from
from tests.web.people.helpers import sign_in
from tokui.privacy import delete_customer
from tokui.state.models import Role
from tokui.web.routes import imports as import_routes
from tokui.workspace import Workspace

CUSTOMERS_CSV = (
    "Customer ID,First Name,Last Name,Email,Phone,Accepts Email Marketing\n"
    "9001,花子,山本,hanako.y@example.com,090-1000-2000,yes\n"
    "9002,alert(1)</script>,<script>,xss2@example.com,,no\n"
    "9003,太郎,削除,TARO.DELETE@example.com,,no\n"
).encode()


def _upload(
    web: TestClient,
    content: bytes,
    name: str = "顧客.csv",
    profile: str = "shopify_customers",
    profile_yaml: str = "",
    token: str | None = None,
) -> httpx.Response:
    token = token or csrf_from(web.get("/import").text)
    return web.post(
        "/import",
        data={"csrf_token": token, "profile": profile, "profile_yaml": profile_yaml},
        files={"file": (name, content, "text/csv")},
        follow_redirects=False,
    )


def _stored(ws: Workspace) -> list[str]:
    folder = ws.home / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _wait(web: TestClient, token: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = web.get(f"/import/jobs/{token}/status").json()
        if status["state"] != "running":
            return dict(status)
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


@pytest.mark.parametrize("role", [Role.viewer, Role.analyst])
def test_readers_see_history_but_cannot_upload(web: TestClient, role: Role) -> None:
    sign_in(web, role)
    page = web.get("/import")
    assert page.status_code == 200
    assert 'id="upload-form"' not in page.text
    assert "まだ取込はありません。" in page.text
    r = _upload(web, CUSTOMERS_CSV, token=csrf_from(page.text))
    assert r.status_code == 403


def test_upload_needs_the_csrf_token(web: TestClient, people_ws: Workspace) -> None:
    sign_in(web, Role.marketer)
    r = _upload(web, CUSTOMERS_CSV, token="forged")
    assert r.status_code == 403
    r = web.post(
        "/import",
        data={"profile": "shopify_customers"},
        files={"file": ("a.csv", CUSTOMERS_CSV, "text/csv")},
    )
    assert r.status_code == 403
    assert _stored(people_ws) == []


def test_upload_preview_confirm_and_history(web: TestClient, people_ws: Workspace) -> None:
    # "d" was deleted on request: a file bringing them back is flagged.
    delete_customer(
        people_ws.warehouse,
        people_ws.sessions,
        SECRET,
        "d",
        "依頼",
        actor_id=1,
        at=datetime(2025, 12, 30),
        via="test",
    )
    sign_in(web, Role.marketer)
    r = _upload(web, CUSTOMERS_CSV, name="../../顧客.csv")
    assert r.status_code == 303
    location = r.headers["location"]
    token = location.rsplit("/", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    # Stored under the random token, never under the name the browser sent.
    assert _stored(people_ws) == [f"{token}.csv", f"{token}.json"]

    page = web.get(location)
    assert page.status_code == 200
    html = page.text
    assert '<dd id="upload-name">顧客.csv</dd>' in html
    assert '<dd id="rows-read">3</dd>' in html
    assert "エラーはありません" in html
    # The first rows, mapped to canonical columns, escaped.
    assert "<td>hanako.y@example.com</td>" in html
    assert "<td>山本 花子</td>" in html
    assert "&lt;script&gt; alert(1)&lt;/script&gt;" in html
    assert "<script> alert(1)</script>" not in html
    # The deleted person, matched by the keyed hash of their email.
    flagged = html.split('id="flagged"', 1)[1]
    assert "削除済みの人が 1 行含まれています" in flagged
    assert "行 4: taro.delete@example.com (email)" in flagged

    r = web.post(
        f"/import/uploads/{token}/run", data={"csrf_token": csrf_from(html)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/import/jobs/{token}"
    status = _wait(web, token)
    assert status["state"] == "done" and status["status"] == "ok"
    job = web.get(f"/import/jobs/{token}").text
    assert "取込が完了しました。" in job
    counts = job.split('data-table="customers"', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<td class="num">([0-9,]+)</td>', counts) == ["3", "0", "0", "0"]
    # The file is gone once imported; the history names it as the user did.
    assert _stored(people_ws) == []
    history = web.get("/import").text.split('id="import-history"', 1)[1]
    assert "<td>顧客.csv</td>" in history
    assert "<td>shopify_customers</td>" in history
    cells = re.findall(r'<td class="num">([0-9,]+)</td>', history.split("</tr>", 2)[1])
    assert cells == ["3", "0", "0", "0", "0"]
    t = people_ws.warehouse.table("customers")
    names = t.filter(t.customer_id.isin(["hanako.y@example.com", "xss2@example.com"]))
    assert sorted(names.name.to_list()) == ["<script> alert(1)</script>", "山本 花子"]
    # Importing the same file again changes nothing.
    r = _upload(web, CUSTOMERS_CSV)
    token2 = r.headers["location"].rsplit("/", 1)[1]
    web.post(f"/import/uploads/{token2}/run", data={"csrf_token": csrf_from(html)})
    assert _wait(web, token2)["status"] == "ok"
    job = web.get(f"/import/jobs/{token2}").text
    counts = job.split('data-table="customers"', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<td class="num">([0-9,]+)</td>', counts) == ["0", "0", "3", "0"]


def test_errors_are_listed_and_nothing_can_be_confirmed(
    web: TestClient, people_ws: Workspace
) -> None:
    sign_in(web, Role.marketer)
    bad = b"Customer ID,Phone\n1,090\n"
    r = _upload(web, bad, name="bad.csv")
    html = web.get(r.headers["location"]).text
    assert "1 件のエラーがあります" in html
    errors = html.split('id="import-errors"', 1)[1]
    assert "<td>bad.csv</td>" in errors
    assert '<td class="num">1</td>' in errors
    assert "<td>Email</td>" in errors
    assert "<code>required_column</code>" in errors
    assert 'id="confirm-import"' not in html
    # Bad values are named row by row.
    rows = (
        "Customer ID,Email,Accepts Email Marketing\n"
        "1,a@example.com,perhaps\n"
        "2,b@example.com,yes\n"
        "3,c@example.com,かもしれない\n"
    ).encode()
    r = _upload(web, rows, name="rows.csv")
    html = web.get(r.headers["location"]).text
    errors = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    assert errors.count("<tr>") == 3  # the header row and two errors
    assert '<td class="num">2</td>' in errors and '<td class="num">4</td>' in errors
    assert "<code>perhaps</code>" in errors and "<code>かもしれない</code>" in errors


def test_bad_uploads_are_refused(
    web: TestClient, people_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(web, Role.marketer)
    r = _upload(web, b"MZ\x90\x00", name="tool.exe")
    assert r.status_code == 400
    assert "対応していないファイル形式です" in r.text
    r = _upload(web, b"", name="empty.csv")
    assert "ファイルが空です。" in r.text
    r = _upload(web, CUSTOMERS_CSV, profile="")
    assert "プロファイルを選ぶか、YAML を入力してください。" in r.text
    r = _upload(
        web,
        CUSTOMERS_CSV,
        profile="",
        profile_yaml="name: x\ntargets: [{table: nope, columns: {}}]",
    )
    assert r.status_code == 400
    assert "プロファイルに誤りがあります。" in r.text
    assert "unknown table &#39;nope&#39;" in r.text
    monkeypatch.setattr(import_routes, "UPLOAD_MAX_BYTES", 64)
    r = _upload(web, CUSTOMERS_CSV)
    assert "ファイルが大きすぎます" in r.text
    assert _stored(people_ws) == []


def test_a_pasted_profile_is_used(web: TestClient, people_ws: Workspace) -> None:
    sign_in(web, Role.marketer)
    yaml_text = (
        "name: my_customers\n"
        "required_columns: [id]\n"
        "targets:\n"
        "  - table: customers\n"
        "    columns:\n"
        "      customer_id: {source: id}\n"
        "      name: {source: 氏名}\n"
        "      registered_at: {source: 登録日, transform: parse_datetime}\n"
        "      email_opt_in: {transform: constant, value: false}\n"
        "      line_opt_in: {transform: constant, value: false}\n"
        "      dm_opt_in: {transform: constant, value: false}\n"
        "      push_opt_in: {transform: constant, value: false}\n"
        "      time_zone: {transform: constant, value: Asia/Tokyo}\n"
    )
    data = "id,氏名,登録日\nm1,松本 次郎,2025年1月5日\n".encode("cp932")
    r = _upload(web, data, name="sjis.csv", profile="", profile_yaml=yaml_text)
    assert r.status_code == 303, r.text
    html = web.get(r.headers["location"]).text
    assert "<dd>my_customers</dd>" in html and "<dd>cp932</dd>" in html
    assert "<td>松本 次郎</td>" in html
    assert "<td>2025-01-04 15:00:00</td>" in html  # 2025年1月5日 00:00 JST, stored in UTC


def test_the_edit_link_fills_in_a_built_in_profile(web: TestClient) -> None:
    sign_in(web, Role.marketer)
    html = web.get("/import", params={"edit": "generic_transactions"}).text
    assert "name: generic_transactions" in html
    html = web.get("/import", params={"edit": "../../etc/passwd"}).text
    assert "root:" not in html


def test_uploads_of_others_and_unknown_tokens_are_404(web: TestClient, tmp_path: Path) -> None:
    sign_in(web, Role.marketer)
    assert web.get("/import/uploads/" + "a" * 32).status_code == 404
    assert web.get("/import/uploads/..%2F..%2Ftokui.toml").status_code == 404
    assert web.get("/import/jobs/" + "a" * 32).status_code == 404
    assert web.get("/import/jobs/" + "a" * 32 + "/status").json() == {"state": "unknown"}
