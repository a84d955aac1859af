from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import VIEWER_EMAIL, VIEWER_PASSWORD, login
from tokui.state.db import session_scope
from tokui.state.models import User
from tokui.web.i18n import (
    LANG_COOKIE,
    catalog,
    catalog_files,
    from_accept_language,
    resolve_language,
)
from tokui.workspace import Workspace


def test_catalogs_have_the_same_keys() -> None:
    assert set(catalog("ja")) == set(catalog("en"))
    assert all(catalog("ja").values()) and all(catalog("en").values())


def test_area_files_come_in_pairs() -> None:
    ja = [name.removesuffix(".ja.json") for name in catalog_files("ja")[1:]]
    en = [name.removesuffix(".en.json") for name in catalog_files("en")[1:]]
    assert ja == en


def test_default_is_japanese(client: TestClient) -> None:
    page = client.get("/login")
    assert '<html lang="ja">' in page.text
    assert "ログイン" in page.text


def test_accept_language_picks_english(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,ja;q=0.5"})
    assert '<html lang="en">' in page.text
    assert "Sign in" in page.text
    page = client.get("/login", headers={"Accept-Language": "fr, ja;q=0.8, en;q=0.7"})
    assert '<html lang="ja">' in page.text


def test_accept_language_parsing() -> None:
    assert from_accept_language("en-US,en;q=0.9") == "en"
    assert from_accept_language("ja;q=0.2, en;q=0.8") == "en"
    assert from_accept_language("fr, de") is None
    assert from_accept_language("en;q=0, ja") == "ja"
    assert from_accept_language("en;q=abc") is None
    assert from_accept_language("") is None


def test_resolution_order() -> None:
    def pick(**kw: str | None) -> str:
        args: dict[str, str | None] = {
            "cookie": None,
            "user_language": None,
            "accept_language": None,
            "default": "ja",
        }
        args.update(kw)
        return resolve_language(**args)  # type: ignore[arg-type]

    assert pick() == "ja"
    assert pick(default="en") == "en"
    assert pick(accept_language="en", default="ja") == "en"
    assert pick(user_language="ja", accept_language="en") == "ja"
    assert pick(cookie="en", user_language="ja", accept_language="ja") == "en"
    assert pick(cookie="xx", user_language="en") == "en"


def test_switch_sets_cookie_and_strips_the_parameter(client: TestClient) -> None:
    r = client.get("/login?next=%2Fsegments&lang=en", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fsegments"
    assert client.cookies.get(LANG_COOKIE) == "en"
    page = client.get(r.headers["location"])
    assert '<html lang="en">' in page.text
    assert 'name="next" value="/segments"' in page.text
    # The cookie beats the browser's preference.
    page = client.get("/login", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in page.text


def test_unknown_language_is_ignored(client: TestClient) -> None:
    r = client.get("/login?lang=xx", follow_redirects=False)
    assert r.status_code == 303
    assert LANG_COOKIE not in r.headers.get("set-cookie", "")


def test_switch_redirect_is_never_offsite(client: TestClient) -> None:
    r = client.get("http://testserver//evil.example/?lang=en", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"


def test_switch_saves_the_users_language(client: TestClient, ws: Workspace) -> None:
    login(client, VIEWER_EMAIL, VIEWER_PASSWORD)
    client.get("/?lang=en")
    with session_scope(ws.sessions) as s:
        user = s.scalar(select(User).where(User.email == VIEWER_EMAIL))
        assert user is not None and user.language == "en"
    # On another browser (no cookie), the saved choice wins over Accept-Language.
    client.cookies.delete(LANG_COOKIE)
    page = client.get("/", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in page.text
    assert "Monthly revenue" in page.text
    assert "Dashboard" in page.text


def test_switch_links_in_header(client: TestClient) -> None:
    login(client)
    page = client.get("/customers")
    assert 'href="/customers?lang=en"' in page.text
    assert "日本語" in page.text
    client.get("/customers?lang=en")
    page = client.get("/customers")
    assert 'href="/customers?lang=ja"' in page.text
    assert "Name, kana, email, phone or customer id" in page.text
