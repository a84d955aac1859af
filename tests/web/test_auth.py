from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    VIEWER_EMAIL,
    csrf_from,
    login,
)
from tokui.clock import FixedClock
from tokui.state.db import session_scope
from tokui.state.models import AuditLog, User
from tokui.web.auth import SESSION_COOKIE, safe_next
from tokui.workspace import Workspace


def _audit(ws: Workspace) -> list[tuple[str, int | None, str | None]]:
    with session_scope(ws.sessions) as s:
        rows = s.scalars(select(AuditLog).order_by(AuditLog.id))
        return [(r.action, r.user_id, r.target) for r in rows]


def test_healthz_needs_no_login(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_protected_page_redirects_to_login_with_next(client: TestClient) -> None:
    r = client.get("/customers?page=2", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/customers%3Fpage%3D2"


def test_login_success_sets_hardened_cookie_and_audits(client: TestClient, ws: Workspace) -> None:
    r = login(client, next="/segments")
    assert r.status_code == 303
    assert r.headers["location"] == "/segments"
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE + "=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie
    page = client.get("/")
    assert page.status_code == 200
    assert "ログイン中: Admin" in page.text
    assert _audit(ws)[-1] == ("login.success", 1, ADMIN_EMAIL)
    with session_scope(ws.sessions) as s:
        admin = s.scalar(select(User).where(User.email == ADMIN_EMAIL))
        assert admin is not None and admin.last_login_at is not None


def test_secure_flag_when_configured(ws: Workspace, clock: FixedClock) -> None:
    from tokui.web.app import create_app

    ws.settings.secure_cookies = True
    with TestClient(create_app(ws, clock), base_url="https://testserver") as c:
        r = login(c)
        assert r.status_code == 303
        assert "secure" in r.headers["set-cookie"].lower()


def test_login_failure_is_generic_and_audited(client: TestClient, ws: Workspace) -> None:
    wrong_pw = login(client, ADMIN_EMAIL, "not-the-password")
    unknown = login(client, "nobody@example.com", "whatever-password")
    assert wrong_pw.status_code == unknown.status_code == 400
    message = "メールアドレスまたはパスワードが正しくありません。"
    assert message in wrong_pw.text and message in unknown.text
    # Nothing on the page tells whether the account exists.
    assert wrong_pw.text.replace(ADMIN_EMAIL, "X") == unknown.text.replace(
        "nobody@example.com", "X"
    ).replace(csrf_from(unknown.text), csrf_from(wrong_pw.text))
    assert _audit(ws)[-2:] == [
        ("login.failure", None, ADMIN_EMAIL),
        ("login.failure", None, "nobody@example.com"),
    ]
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logout_ends_session_even_for_a_replayed_cookie(client: TestClient, ws: Workspace) -> None:
    login(client)
    old_cookie = client.cookies.get(SESSION_COOKIE)
    assert old_cookie
    token = csrf_from(client.get("/").text)
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303
    assert _audit(ws)[-1] == ("logout", 1, ADMIN_EMAIL)
    # A copy of the cookie taken before logout no longer works.
    client.cookies.set(SESSION_COOKIE, old_cookie)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_session_fixation_new_session_on_login(client: TestClient) -> None:
    client.get("/login")
    before = client.cookies.get(SESSION_COOKIE)
    login(client)
    assert client.cookies.get(SESSION_COOKIE) != before


def test_deactivated_user_is_signed_out_on_next_request(client: TestClient, ws: Workspace) -> None:
    login(client, VIEWER_EMAIL, "viewer-password-123")
    assert client.get("/", follow_redirects=False).status_code == 200
    with session_scope(ws.sessions) as s:
        viewer = s.scalar(select(User).where(User.email == VIEWER_EMAIL))
        assert viewer is not None
        viewer.is_active = False
    assert client.get("/", follow_redirects=False).status_code == 303


def test_tampered_cookie_is_ignored(client: TestClient) -> None:
    login(client)
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    client.cookies.set(SESSION_COOKIE, cookie[:-3] + ("AAA" if cookie[-3:] != "AAA" else "BBB"))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_open_redirects_are_rejected(client: TestClient) -> None:
    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x=1",
    ]:
        client.cookies.clear()
        r = login(client, next=evil)
        assert r.status_code == 303
        location = r.headers["location"]
        assert location == "/" or (location.startswith("/") and not location.startswith("//"))
        assert "evil.example" not in location
    assert safe_next("//evil.example") == "/"
    assert safe_next("/\\evil.example") == "/"
    assert safe_next("/\tx") == "/"
    assert safe_next("/segments?x=1") == "/segments?x=1"
    # The login page also refuses to carry an outside target in its form.
    client.cookies.clear()
    page = client.get("/login?next=//evil.example")
    assert 'name="next" value="/"' in page.text


def test_login_page_redirects_when_already_signed_in(client: TestClient) -> None:
    login(client)
    r = client.get("/login?next=/segments", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/segments"


def test_throttle_locks_an_email_after_repeated_failures(
    client: TestClient, ws: Workspace, clock: FixedClock
) -> None:
    for _ in range(5):
        assert login(client, ADMIN_EMAIL, "wrong-password").status_code == 400
    # Even the right password is refused while locked, with a distinct status.
    locked = login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert locked.status_code == 429
    assert "しばらくログインできません" in locked.text
    assert _audit(ws)[-1][0] == "login.locked"
    # Another account from the same address is not locked yet.
    assert login(client, VIEWER_EMAIL, "viewer-password-123").status_code == 303
    clock.advance(timedelta(minutes=15, seconds=1))
    client.cookies.clear()
    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303


def test_throttle_locks_an_address_spraying_accounts(client: TestClient) -> None:
    for i in range(20):
        assert login(client, f"user{i}@example.com", "wrong-password").status_code == 400
    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 429


def test_success_resets_the_email_counter(client: TestClient) -> None:
    for _ in range(4):
        login(client, ADMIN_EMAIL, "wrong-password")
    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
    client.cookies.clear()
    for _ in range(4):
        assert login(client, ADMIN_EMAIL, "wrong-password").status_code == 400
    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
