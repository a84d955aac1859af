"""Signing in as each role on the people-shop app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_from
from tokui.state.models import Role

PASSWORD = "people-password-123"
ADMIN_PASSWORD = "admin-password-123"
EMAILS = {
    Role.admin: "admin@example.com",
    Role.marketer: "marketer@example.com",
    Role.analyst: "analyst@example.com",
    Role.viewer: "viewer@example.com",
}


def sign_in(client: TestClient, role: Role) -> None:
    password = PASSWORD if role is not Role.admin else ADMIN_PASSWORD
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "email": EMAILS[role],
            "password": password,
            "next": "/",
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def token_of(client: TestClient, path: str = "/customers") -> str:
    return csrf_from(client.get(path).text)
