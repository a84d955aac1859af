"""A workspace for the measurement pages: the hand-made measurement shop of
tests/measure/shop.py (scenarios s1 with a holdout, s2 with a goal, ab and ab3 splits;
T0 = 2026-01-05 12:00 JST, measured at AS_OF = T0 + 10 days) plus one user per role.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.measure.shop import load_state, load_warehouse
from tokui.state.db import session_scope
from tokui.state.models import Role
from tokui.state.users import create_user
from tokui.workspace import Workspace, init_workspace

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"
MARKETER_EMAIL = "marketer@example.com"
MARKETER_PASSWORD = "marketer-password-123"
VIEWER_EMAIL = "viewer@example.com"
VIEWER_PASSWORD = "viewer-password-123"
CALLER_EMAIL = "caller@example.com"
CALLER_PASSWORD = "caller-password-123"


def build(home: Path) -> None:
    ws = init_workspace(home, ADMIN_EMAIL, ADMIN_PASSWORD, shop_name="とくい")
    with session_scope(ws.sessions) as s:
        create_user(s, MARKETER_EMAIL, MARKETER_PASSWORD, Role.marketer, "販促 三郎")
        create_user(s, VIEWER_EMAIL, VIEWER_PASSWORD, Role.viewer, "閲覧 花子")
        create_user(s, CALLER_EMAIL, CALLER_PASSWORD, Role.call_center, "架電 次郎")
    load_warehouse(ws.warehouse)
    load_state(ws.sessions)
    ws.close()


def open_copy(template: Path, dest: Path) -> Workspace:
    shutil.copytree(template, dest)
    return Workspace.open(dest)
