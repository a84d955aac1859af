"""Web fixtures over the people shop (tests/privacy/people.py): one admin, one marketer,
one analyst, one viewer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.privacy.people import NOW, people_workspace
from tests.web.people.helpers import EMAILS, PASSWORD
from tokui.clock import FixedClock
from tokui.state.db import session_scope
from tokui.state.models import Role
from tokui.state.users import create_user
from tokui.web.app import create_app
from tokui.workspace import Workspace


@pytest.fixture(scope="session")
def people_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("people") / "ws"
    ws = people_workspace(home)
    with session_scope(ws.sessions) as db:
        for role in (Role.marketer, Role.analyst, Role.viewer):
            create_user(db, EMAILS[role], PASSWORD, role, f"{role.value} 太郎")
    ws.close()
    return home


@pytest.fixture
def people_ws(people_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    shutil.copytree(people_template, tmp_path / "ws")
    ws = Workspace.open(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def people_app(people_ws: Workspace) -> FastAPI:
    return create_app(people_ws, FixedClock(NOW))


@pytest.fixture
def web(people_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(people_app) as client:
        yield client
