"""Workspaces and clients for the web tests.

Building a workspace (migrations, schema, the hand-made shop, a refresh) takes a few
seconds, so it is built once per session and copied for each test.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.features.shop import load_shop
from tokui.clock import FixedClock
from tokui.refresh import run_refresh
from tokui.state.db import session_scope
from tokui.state.models import Role
from tokui.state.users import create_user
from tokui.web.app import create_app
from tokui.workspace import Workspace, init_workspace

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"
VIEWER_EMAIL = "viewer@example.com"
VIEWER_PASSWORD = "viewer-password-123"
NOW = datetime(2025, 12, 31, 3, tzinfo=UTC)

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _build(home: Path, shop: bool) -> None:
    ws = init_workspace(home, ADMIN_EMAIL, ADMIN_PASSWORD, shop_name="とくい食品")
    with session_scope(ws.sessions) as s:
        create_user(s, VIEWER_EMAIL, VIEWER_PASSWORD, Role.viewer, "閲覧 花子")
    if shop:
        load_shop(ws.warehouse)
        run_refresh(ws, FixedClock(NOW))
    ws.close()


@pytest.fixture(scope="session")
def shop_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("template") / "shop"
    _build(home, shop=True)
    return home


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("template") / "empty"
    _build(home, shop=False)
    return home


def _open_copy(template: Path, dest: Path) -> Workspace:
    shutil.copytree(template, dest)
    return Workspace.open(dest)


@pytest.fixture
def ws(shop_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    workspace = _open_copy(shop_template, tmp_path / "ws")
    yield workspace
    workspace.close()


@pytest.fixture
def empty_ws(empty_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    workspace = _open_copy(empty_template, tmp_path / "ws")
    yield workspace
    workspace.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def app(ws: Workspace, clock: FixedClock) -> FastAPI:
    return create_app(ws, clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def csrf_from(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def login(
    client: TestClient, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD, next: str = "/"
) -> httpx.Response:
    page = client.get("/login")
    token = csrf_from(page.text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "next": next, "csrf_token": token},
        follow_redirects=False,
    )
