"""A workspace for the scenario pages: the hand-made scenario shop of
tests/scenarios/shop.py (customers c1, c2, c3 on 2026-01-05 12:00 JST; templates sc-mail,
sc-mail2, sc-line, sc-call, sc-hook; messaging in sandbox mode) plus one user per role.

c1: email and LINE opt-in; c2: LINE only (no email consent), cart add at 01:00 UTC with
no order; c3: email opt-in, no LINE id.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.scenarios.shop import build as build_shop
from tokui.state.db import session_scope
from tokui.state.models import Role
from tokui.state.users import create_user
from tokui.workspace import Workspace

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"
MARKETER_EMAIL = "marketer@example.com"
MARKETER_PASSWORD = "marketer-password-123"
ANALYST_EMAIL = "analyst@example.com"
ANALYST_PASSWORD = "analyst-password-123"
VIEWER_EMAIL = "viewer@example.com"
VIEWER_PASSWORD = "viewer-password-123"
CALLER_EMAIL = "caller@example.com"
CALLER_PASSWORD = "caller-password-123"


def build(home: Path) -> None:
    ws = build_shop(home)
    with session_scope(ws.sessions) as s:
        create_user(s, MARKETER_EMAIL, MARKETER_PASSWORD, Role.marketer, "販促 三郎")
        create_user(s, ANALYST_EMAIL, ANALYST_PASSWORD, Role.analyst, "分析 太郎")
        create_user(s, VIEWER_EMAIL, VIEWER_PASSWORD, Role.viewer, "閲覧 花子")
        create_user(s, CALLER_EMAIL, CALLER_PASSWORD, Role.call_center, "架電 次郎")
    ws.close()


def open_copy(template: Path, dest: Path) -> Workspace:
    shutil.copytree(template, dest)
    return Workspace.open(dest)
