"""A workspace for the segments pages: the hand-made shop with contact details.

tests/features/shop.py plus names, emails, addresses and DM consent, then only the
refresh steps the segments pages read (customer_features and the segment snapshot), so
these tests do not depend on every other step of the pipeline. One extra, earlier size
row per segment gives the list a two-point trend.

Contacts (dm_opt_in / email_opt_in):
  g  山田 花子     no DM  / email   gift giver, 3 orders
  n  佐藤 次郎     no DM  / email   1 order
  i  髙橋 一郎     DM     / no      4 orders, active subscription (髙 is cp932 only)
  s  =1+2 (a formula-looking name)  DM / email   cancelled subscription
  r  田中 🍙      DM     / no      never bought (the emoji has no Shift_JIS code)
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import ibis

from tests.features.shop import load_shop
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, VIEWER_EMAIL, VIEWER_PASSWORD
from tokui.clock import FixedClock
from tokui.refresh.features import refresh_customer_features
from tokui.refresh.pipeline import RefreshContext
from tokui.refresh.segments import refresh_segments
from tokui.segments.snapshot import SIZE_SCHEMA, SIZES
from tokui.state.db import session_scope
from tokui.state.models import Role
from tokui.state.users import create_user
from tokui.warehouse.load import upsert
from tokui.workspace import Workspace, init_workspace

NOW = datetime(2025, 12, 31, 3, tzinfo=UTC)
EARLIER = date(2025, 12, 1)
ANALYST_EMAIL = "analyst@example.com"
ANALYST_PASSWORD = "analyst-password-123"
MARKETER_EMAIL = "marketer@example.com"
MARKETER_PASSWORD = "marketer-password-123"

CONTACTS = {
    "g": ("山田 花子", "ヤマダ ハナコ", "hanako@example.com", "100-0001", "03-0000-0001", False),
    "n": ("佐藤 次郎", "サトウ ジロウ", "jiro@example.com", "530-0001", "06-0000-0002", False),
    "i": ("髙橋 一郎", "タカハシ イチロウ", "ichiro@example.com", "060-0001", "011-000-0003", True),
    "s": ("=1+2", "イコール", "@s@example.com", "810-0001", "+81-92-000-0004", True),
    "r": ("田中 🍙", "タナカ", "r@example.com", "900-0001", "098-000-0005", True),
}
# Sizes recorded at the earlier refresh (made up; the list shows them as the trend's start).
EARLIER_SIZES = {"never-subscribed": 4, "one-time-buyers": 3}


def add_contacts(ws: Workspace) -> None:
    con = ws.warehouse
    df = con.table("customers").execute()
    for column, position in (
        ("name", 0),
        ("name_kana", 1),
        ("email", 2),
        ("postal_code", 3),
        ("phone", 4),
        ("dm_opt_in", 5),
    ):
        df[column] = df["customer_id"].map(lambda cid, p=position: CONTACTS[cid][p])
    upsert(con, "customers", df)


def build(home: Path) -> None:
    ws = init_workspace(home, ADMIN_EMAIL, ADMIN_PASSWORD, shop_name="とくい食品")
    with session_scope(ws.sessions) as s:
        create_user(s, VIEWER_EMAIL, VIEWER_PASSWORD, Role.viewer, "閲覧 花子")
        create_user(s, ANALYST_EMAIL, ANALYST_PASSWORD, Role.analyst, "分析 太郎")
        create_user(s, MARKETER_EMAIL, MARKETER_PASSWORD, Role.marketer, "販促 三郎")
    load_shop(ws.warehouse)
    add_contacts(ws)
    refresh(ws)
    con = ws.warehouse
    con.insert(
        SIZES,
        ibis.memtable(
            {
                "segment_key": list(EARLIER_SIZES),
                "as_of": [EARLIER] * len(EARLIER_SIZES),
                "members": list(EARLIER_SIZES.values()),
            },
            schema=SIZE_SCHEMA,
        ),
    )
    ws.close()


def refresh(ws: Workspace) -> None:
    ctx = RefreshContext(ws.warehouse, ws.sessions, FixedClock(NOW), ws.home)
    refresh_customer_features(ctx)
    refresh_segments(ctx)


def open_copy(template: Path, dest: Path) -> Workspace:
    shutil.copytree(template, dest)
    return Workspace.open(dest)
