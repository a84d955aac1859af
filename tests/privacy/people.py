"""The hand-made shop of tests/features/shop.py, with names and contact data, plus two
customers made for these tests:

- "d" (削除 太郎), to be deleted on request: 2 orders with 3 lines, a subscription with
  3 deliveries (shipped, skipped, scheduled) and 2 change events, 4 web events of their
  own or stitched to them (one logged in, two anonymous before login on their device),
  2 point transactions, 1 coupon grant. One more event on their device belongs to "n"
  (logged in there later) and must stay.
- "x", whose name is `<script>alert(1)</script>`: the escaping witness.

Reference date 2025-12-31 (JST); times are UTC at 03:00 like the base shop.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend

from tests.features.shop import load_shop
from tokui.clock import FixedClock
from tokui.refresh import run_refresh
from tokui.warehouse import bulk_load, upsert
from tokui.warehouse.schema import CUSTOMERS
from tokui.workspace import Workspace, init_workspace

NOW = datetime(2025, 12, 31, 3, tzinfo=UTC)
XSS_NAME = "<script>alert(1)</script>"
DELETED = "d"
DELETED_EMAIL = "Taro.Delete@Example.com"
DELETED_PHONE = "090-5555-6666"
DELETED_LINE = "Udel0001"
SECRET = "test-secret-key-for-hmac-0123456789"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"


def _ts(day: str, hour: str = "03:00") -> datetime:
    return datetime.fromisoformat(f"{day} {hour}")


CONTACTS = {
    # id: name, kana, email, phone, rank, line_user_id
    "g": ("山田 花子", "ヤマダ ハナコ", "hanako@example.com", "090-1111-2222", "gold", None),
    "n": ("佐藤 直樹", "サトウ ナオキ", "naoki@example.jp", "080-3333-4444", "regular", "U1"),
    "i": ("伊藤 一郎", "イトウ イチロウ", "ichiro@example.com", "03-1234-5678", "silver", None),
    "s": ("鈴木 誠", "スズキ マコト", None, None, None, None),
    "r": (None, None, None, None, None, None),
}


def load_people(con: BaseBackend) -> None:
    load_shop(con)
    rows = con.table("customers").order_by("customer_id").to_pyarrow().to_pylist()
    for row in rows:
        name, kana, email, phone, rank, line = CONTACTS[row["customer_id"]]
        row.update(
            name=name, name_kana=kana, email=email, phone=phone, rank=rank, line_user_id=line
        )
    common = {
        "email_opt_in": False,
        "dm_opt_in": False,
        "push_opt_in": False,
        "time_zone": "Asia/Tokyo",
        "acquisition_channel": None,
        "updated_at": None,
    }
    rows.append(
        common
        | {
            "customer_id": DELETED,
            "email": DELETED_EMAIL,
            "name": "削除 太郎",
            "name_kana": "サクジョ タロウ",
            "gender": "male",
            "birth_date": date(1990, 4, 1),
            "prefecture": "京都府",
            "postal_code": "6008001",
            "phone": DELETED_PHONE,
            "registered_at": _ts("2025-03-01"),
            "rank": "regular",
            "email_opt_in": True,
            "line_opt_in": True,
            "line_user_id": DELETED_LINE,
        }
    )
    rows.append(
        common
        | {
            "customer_id": "x",
            "email": "xss@example.com",
            "name": XSS_NAME,
            "name_kana": "スクリプト",
            "gender": None,
            "birth_date": None,
            "prefecture": None,
            "postal_code": None,
            "phone": None,
            "registered_at": _ts("2025-05-01"),
            "rank": None,
            "line_opt_in": False,
            "line_user_id": None,
        }
    )
    upsert(con, "customers", pa.Table.from_pylist(rows, schema=CUSTOMERS.schema.to_pyarrow()))
    bulk_load(
        con,
        "orders",
        pd.DataFrame(
            {
                "order_id": ["od1", "od2", "ox1"],
                "customer_id": [DELETED, DELETED, "x"],
                "ordered_at": [_ts("2025-03-02"), _ts("2025-04-02"), _ts("2025-05-02")],
                "status": ["completed", "completed", "completed"],
                "subtotal": [4300, 2000, 300],
                "discount": [300, 0, 0],
                "shipping_fee": [0, 0, 0],
                "points_used": [0, 0, 0],
                "total": [4000, 2000, 300],
                "points_earned": [40, 20, 0],
                "coupon_code": ["WELCOME300", None, None],
                "subscription_id": [None, "sd1", None],
                "is_gift": [False, False, False],
            }
        ),
    )
    bulk_load(
        con,
        "order_items",
        pd.DataFrame(
            {
                "order_id": ["od1", "od1", "od2", "ox1"],
                "line_no": [1, 2, 1, 1],
                "product_id": ["rice", "veg_new", "rice", "veg_new"],
                "product_name": ["米 5kg", "新じゃが", "米 5kg", XSS_NAME],
                "quantity": [2, 1, 1, 1],
                "unit_price": [2000, 300, 2000, 300],
                "amount": [4000, 300, 2000, 300],
            }
        ),
    )
    bulk_load(
        con,
        "subscriptions",
        pd.DataFrame(
            {
                "subscription_id": ["sd1"],
                "customer_id": [DELETED],
                "product_id": ["rice"],
                "quantity": [1],
                "unit_price": [2000],
                "cycle_unit": ["month"],
                "cycle_interval": [1],
                "status": ["cancelled"],
                "started_at": [_ts("2025-04-01")],
                "cancelled_at": [_ts("2025-06-20")],
                "cancel_reason": ["量が多い"],
            }
        ),
    )
    bulk_load(
        con,
        "subscription_deliveries",
        pd.DataFrame(
            {
                "subscription_id": ["sd1", "sd1", "sd1", "s1"],
                "delivery_number": [1, 2, 3, 1],
                "scheduled_on": [
                    date(2025, 4, 2),
                    date(2025, 5, 2),
                    date(2025, 6, 2),
                    date(2025, 1, 5),
                ],
                "status": ["shipped", "skipped", "cancelled", "shipped"],
                "shipped_at": [_ts("2025-04-02"), None, None, _ts("2025-01-05")],
                "order_id": ["od2", None, None, None],
                "amount": [2000, None, None, 2000],
            }
        ),
    )
    bulk_load(
        con,
        "subscription_events",
        pd.DataFrame(
            {
                "event_id": ["se1", "se2", "se3"],
                "subscription_id": ["sd1", "sd1", "s1"],
                "occurred_at": [_ts("2025-04-25"), _ts("2025-06-20"), _ts("2025-01-01")],
                "event_type": ["skip", "cancel", "start"],
                "reason": [None, "量が多い", None],
            }
        ),
    )
    bulk_load(
        con,
        "web_events",
        pd.DataFrame(
            {
                "event_id": ["wd1", "wd2", "wd3", "wd4", "wn9", "wz1"],
                "occurred_at": [
                    _ts("2025-12-01"),
                    _ts("2025-12-01", "02:00"),
                    _ts("2025-12-01", "02:30"),
                    _ts("2025-12-02"),
                    _ts("2025-12-05"),
                    _ts("2025-12-06"),
                ],
                "event_type": [
                    "login",
                    "page_view",
                    "product_view",
                    "cart_add",
                    "login",
                    "page_view",
                ],
                "anonymous_id": ["a-d", "a-d", "a-d", None, "a-d", "a-z"],
                "customer_id": [DELETED, None, None, DELETED, "n", None],
                "product_id": [None, None, "rice", "rice", None, None],
                "page_url": [None, "https://shop.example/", None, None, None, None],
            }
        ),
    )
    bulk_load(
        con,
        "point_transactions",
        pd.DataFrame(
            {
                "transaction_id": ["pd1", "pd2"],
                "customer_id": [DELETED, DELETED],
                "occurred_at": [_ts("2025-03-02"), _ts("2025-04-02")],
                "kind": ["earn", "earn"],
                "points": [40, 20],
                "expires_on": [date(2026, 3, 2), date(2026, 4, 2)],
                "order_id": ["od1", "od2"],
            }
        ),
    )
    bulk_load(
        con,
        "coupons",
        pd.DataFrame(
            {
                "coupon_id": ["c1"],
                "name": ["初回300円引き"],
                "discount_type": ["amount"],
                "discount_value": [300],
                "created_at": [_ts("2025-01-01")],
            }
        ),
    )
    bulk_load(
        con,
        "coupon_grants",
        pd.DataFrame(
            {
                "grant_id": ["gd1", "gg1"],
                "coupon_id": ["c1", "c1"],
                "customer_id": [DELETED, "g"],
                "code": ["WELCOME300", "WELCOME-G"],
                "granted_at": [_ts("2025-03-01"), _ts("2025-01-02")],
                "expires_at": [_ts("2025-04-01"), _ts("2026-01-31")],
                "used_at": [_ts("2025-03-02"), None],
                "order_id": ["od1", None],
                "source": ["welcome", "welcome"],
            }
        ),
    )


def people_workspace(home: Path, warehouse_url: str | None = None) -> Workspace:
    """A workspace with the people shop loaded and refreshed (features, segments)."""
    home.mkdir(parents=True, exist_ok=True)
    lines = [f'secret_key = "{SECRET}"', 'shop_name = "とくい食品"']
    if warehouse_url:
        lines.append(f'warehouse_url = "{warehouse_url}"')
    (home / "tokui.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = init_workspace(home, ADMIN_EMAIL, ADMIN_PASSWORD)
    load_people(ws.warehouse)
    run_refresh(ws, FixedClock(NOW))
    return ws
