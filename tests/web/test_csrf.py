from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, csrf_from, login
from tokui.state.db import session_scope
from tokui.state.models import AuditLog, User
from tokui.web.csrf import tokens_match
from tokui.workspace import Workspace

NEW_USER = {
    "email": "new@example.com",
    "display_name": "新人",
    "role": "viewer",
    "password": "a-long-enough-password",
}


def _users(ws: Workspace) -> int:
    with session_scope(ws.sessions) as s:
        return int(s.scalar(select(func.count()).select_from(User)) or 0)


def test_user_creation_needs_the_session_token(client: TestClient, ws: Workspace) -> None:
    login(client)
    before = _users(ws)
    missing = client.post("/settings/users", data=NEW_USER, follow_redirects=False)
    assert missing.status_code == 403
    wrong = client.post(
        "/settings/users", data={**NEW_USER, "csrf_token": "x" * 43}, follow_redirects=False
    )
    assert wrong.status_code == 403
    empty = client.post(
        "/settings/users", data={**NEW_USER, "csrf_token": ""}, follow_redirects=False
    )
    assert empty.status_code == 403
    assert _users(ws) == before
    token = csrf_from(client.get("/settings/users").text)
    ok = client.post(
        "/settings/users", data={**NEW_USER, "csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303
    assert _users(ws) == before + 1


def test_token_from_another_session_is_refused(
    client: TestClient, app: FastAPI, ws: Workspace
) -> None:
    with TestClient(app) as attacker:
        login(attacker)
        foreign = csrf_from(attacker.get("/settings/users").text)
    login(client)
    r = client.post(
        "/settings/users", data={**NEW_USER, "csrf_token": foreign}, follow_redirects=False
    )
    assert r.status_code == 403
    assert _users(ws) == 2


def test_header_token_is_accepted(client: TestClient, ws: Workspace) -> None:
    login(client)
    token = csrf_from(client.get("/").text)
    r = client.post(
        "/settings/users",
        data=NEW_USER,
        headers={"X-CSRF-Token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_multipart_forms_are_checked_too(client: TestClient, ws: Workspace) -> None:
    login(client)
    token = csrf_from(client.get("/").text)
    bad = client.post(
        "/settings/users", files={"email": (None, "m@example.com")}, follow_redirects=False
    )
    assert bad.status_code == 403
    fields = {k: (None, v) for k, v in {**NEW_USER, "csrf_token": token}.items()}
    good = client.post("/settings/users", files=fields, follow_redirects=False)
    assert good.status_code == 303


def test_login_form_needs_the_pre_session_token(client: TestClient, ws: Workspace) -> None:
    r = client.post(
        "/login",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303
    with session_scope(ws.sessions) as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_logout_needs_the_token(client: TestClient) -> None:
    login(client)
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200


def test_tokens_match() -> None:
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match(None, None)
    assert not tokens_match("", "")
    assert not tokens_match("abc", None)
