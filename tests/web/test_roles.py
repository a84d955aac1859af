from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import VIEWER_EMAIL, VIEWER_PASSWORD, csrf_from, login
from tokui.state.db import session_scope
from tokui.state.models import AuditLog, Role, User
from tokui.workspace import Workspace


def _create(client: TestClient, **fields: str) -> httpx.Response:
    token = csrf_from(client.get("/").text)
    return client.post(
        "/settings/users", data={**fields, "csrf_token": token}, follow_redirects=False
    )


def test_viewer_sees_dashboard_but_not_user_admin(client: TestClient, ws: Workspace) -> None:
    login(client, VIEWER_EMAIL, VIEWER_PASSWORD)
    assert client.get("/").status_code == 200
    page = client.get("/settings/users")
    assert page.status_code == 403
    assert "権限がありません" in page.text
    r = _create(client, email="x@example.com", display_name="x", role="admin", password="p" * 20)
    assert r.status_code == 403
    with session_scope(ws.sessions) as s:
        assert s.scalar(select(User).where(User.email == "x@example.com")) is None
    # The settings page hides the link to what the viewer may not open.
    assert "/settings/users" not in client.get("/settings").text


def test_every_role_below_admin_is_refused(client: TestClient, ws: Workspace) -> None:
    from tokui.state.users import create_user

    with session_scope(ws.sessions) as s:
        create_user(s, "m@example.com", "marketer-password", Role.marketer)
        create_user(s, "an@example.com", "analyst-password", Role.analyst)
    for email, pw in [
        ("m@example.com", "marketer-password"),
        ("an@example.com", "analyst-password"),
    ]:
        client.cookies.clear()
        login(client, email, pw)
        assert client.get("/settings/users").status_code == 403


def test_admin_creates_a_user(client: TestClient, ws: Workspace) -> None:
    login(client)
    assert 'href="/settings/users"' in client.get("/settings").text
    r = _create(
        client,
        email="Marketer@Example.com",
        display_name="販促 太郎",
        role="marketer",
        password="twelve-chars",
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "ユーザー marketer@example.com を追加しました。" in page.text
    assert "販促 太郎" in page.text
    with session_scope(ws.sessions) as s:
        user = s.scalar(select(User).where(User.email == "marketer@example.com"))
        assert user is not None and user.role == "marketer" and user.is_active
        entry = s.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
        assert entry is not None
        assert (entry.action, entry.user_id, entry.target) == (
            "user.create",
            1,
            "marketer@example.com",
        )
    # The new user can sign in.
    client.cookies.clear()
    assert login(client, "marketer@example.com", "twelve-chars").status_code == 303


def test_user_form_validation(client: TestClient, ws: Workspace) -> None:
    login(client)
    short = _create(
        client, email="s@example.com", display_name="", role="viewer", password="elevenchars"
    )
    assert short.status_code == 400
    assert "12 文字以上" in short.text
    bad_role = _create(
        client, email="s@example.com", display_name="", role="root", password="p" * 12
    )
    assert bad_role.status_code == 400
    dup = _create(client, email=VIEWER_EMAIL, display_name="", role="viewer", password="p" * 12)
    assert dup.status_code == 400
    assert "exists already" in dup.text
    with session_scope(ws.sessions) as s:
        assert s.scalar(select(User).where(User.email == "s@example.com")) is None


def test_display_name_is_escaped(client: TestClient, ws: Workspace) -> None:
    login(client)
    payload = "<script>alert(1)</script>"
    r = _create(
        client, email="xss@example.com", display_name=payload, role="viewer", password="p" * 12
    )
    assert r.status_code == 303
    page = client.get("/settings/users")
    assert payload not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    # And in the header, once that user signs in.
    client.cookies.clear()
    login(client, "xss@example.com", "p" * 12)
    home = client.get("/")
    assert payload not in home.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home.text


def test_error_message_with_markup_is_escaped(client: TestClient) -> None:
    login(client)
    r = _create(client, email="<b>x", display_name="", role="viewer", password="p" * 12)
    assert "<b>x" not in r.text
    assert "&lt;b&gt;x" in r.text
