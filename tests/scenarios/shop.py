"""A hand-made shop for the scenario tests, reference time 2026-01-05 12:00 JST.

c1: registered 2025-12-20, one order 2025-12-21, birthday 01-06, email opt-in, LINE id.
c2: no email consent, LINE opt-in; cart add 2026-01-05 01:00 UTC, no order.
c3: email opt-in, two orders (2025-06-01, 2025-07-06), cart add 2026-01-05 00:00 UTC
    followed by an order at 01:00 UTC (not an abandoned cart).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tokui.clock import FixedClock, utc_naive
from tokui.messaging.service import Messaging
from tokui.messaging.store import TemplateDraft, create_template
from tokui.refresh.features import materialise_features
from tokui.state.db import make_engine, migrate, session_scope
from tokui.warehouse import bulk_load
from tokui.warehouse.schema import create_schema
from tokui.workspace import Workspace, init_workspace

NOW = datetime(2026, 1, 5, 3, tzinfo=UTC)  # 12:00 JST

TOML = """
[messaging]
sandbox = true
tracking_base_url = "https://crm.tokui.example"
shop_url = "https://shop.tokui.example"
shop_domains = ["shop.tokui.example"]
sender_name = "株式会社とくい食品"
sender_address = "東京都千代田区丸の内1-1-1"
contact = "support@tokui.example"
unsubscribe_mailto = "unsubscribe@tokui.example"

[email]
from_address = "news@tokui.example"
from_name = "とくい食品"

[webhook]
url = "https://hooks.example.org/tokui"
"""


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def load_shop(ws: Workspace) -> None:
    con = ws.warehouse
    bulk_load(
        con,
        "customers",
        pd.DataFrame(
            {
                "customer_id": ["c1", "c2", "c3"],
                "email": ["c1@example.jp", "c2@example.jp", "c3@example.jp"],
                "name": ["山田 太郎", "佐藤 花子", "鈴木 一郎"],
                "birth_date": [date(1990, 1, 6), date(1985, 3, 1), None],
                "registered_at": [_ts("2025-12-20 01:00"), _ts("2024-01-05 01:00")] * 1
                + [_ts("2025-05-01 01:00")],
                "email_opt_in": [True, False, True],
                "line_opt_in": [True, True, False],
                "dm_opt_in": [False] * 3,
                "push_opt_in": [False] * 3,
                "line_user_id": ["U" + "1" * 32, "U" + "2" * 32, None],
                "time_zone": ["Asia/Tokyo"] * 3,
            }
        ),
    )
    bulk_load(
        con,
        "products",
        pd.DataFrame(
            {
                "product_id": ["rice", "tea"],
                "name": ["米 5kg", "緑茶"],
                "category": ["米", "茶"],
                "price": [2000, 1000],
                "is_subscription": [False, False],
                "is_gift": [False, False],
                "stock_status": ["in_stock", "in_stock"],
            }
        ),
    )
    orders = [
        ("o1", "c1", "2025-12-21 01:00", "rice"),
        ("o2", "c3", "2025-06-01 01:00", "rice"),
        ("o3", "c3", "2025-07-06 01:00", "tea"),
        ("o4", "c3", "2026-01-05 01:00", "tea"),
    ]
    add_orders(ws, orders)
    bulk_load(
        con,
        "web_events",
        pd.DataFrame(
            {
                "event_id": ["w1", "w2"],
                "occurred_at": [_ts("2026-01-05 01:00"), _ts("2026-01-05 00:00")],
                "event_type": ["cart_add", "cart_add"],
                "customer_id": ["c2", "c3"],
                "product_id": ["rice", "tea"],
            }
        ),
    )


def add_orders(ws: Workspace, orders: list[tuple[str, str, str, str]]) -> None:
    bulk_load(
        ws.warehouse,
        "orders",
        pd.DataFrame(
            {
                "order_id": [o[0] for o in orders],
                "customer_id": [o[1] for o in orders],
                "ordered_at": [_ts(o[2]) for o in orders],
                "status": ["completed"] * len(orders),
                "subtotal": [2000] * len(orders),
                "discount": 0,
                "shipping_fee": 0,
                "points_used": 0,
                "total": [2000] * len(orders),
                "points_earned": 0,
                "is_gift": False,
            }
        ),
    )
    bulk_load(
        ws.warehouse,
        "order_items",
        pd.DataFrame(
            {
                "order_id": [o[0] for o in orders],
                "line_no": [1] * len(orders),
                "product_id": [o[3] for o in orders],
                "product_name": [o[3] for o in orders],
                "category": ["米" if o[3] == "rice" else "茶" for o in orders],
                "quantity": [1] * len(orders),
                "unit_price": [2000] * len(orders),
                "amount": [2000] * len(orders),
            }
        ),
    )


TEMPLATES: list[tuple[str, str, bool, TemplateDraft]] = [
    (
        "sc-mail",
        "email",
        True,
        TemplateDraft(name="メール", subject="{{ customer.name }}様へ", html="<p>こんにちは</p>"),
    ),
    ("sc-line", "line", True, TemplateDraft(name="LINE", line_text="{{ customer.name }}様")),
    ("sc-call", "call_center", False, TemplateDraft(name="架電", subject="継続のお願い")),
    (
        "sc-hook",
        "webhook",
        False,
        TemplateDraft(name="通知", text='{"customer": "{{ customer.customer_id }}"}'),
    ),
    ("sc-mail2", "email", True, TemplateDraft(name="メール2", subject="第2弾", html="<p>2</p>")),
]


def build(home: Path, state_url: str | None = None, warehouse_url: str | None = None) -> Workspace:
    ws = init_workspace(home, "admin@example.com", "admin-password-123", shop_name="とくい")
    with (home / "tokui.toml").open("a", encoding="utf-8") as fh:
        fh.write(TOML)
    ws.close()
    ws = Workspace.open(home)
    if state_url is not None:
        ws.settings.state_url = state_url
        migrate(make_engine(state_url))
    if warehouse_url is not None:
        ws.settings.warehouse_url = warehouse_url
        create_schema(ws.warehouse)
    load_shop(ws)
    materialise_features(ws.warehouse, date(2026, 1, 5))
    m = Messaging(ws, FixedClock(NOW))
    with session_scope(ws.sessions) as db:
        for key, channel, marketing, draft in TEMPLATES:
            create_template(
                db,
                key=key,
                channel=channel,
                draft=draft,
                is_marketing=marketing,
                at=utc_naive(NOW),
                user_id=None,
                check_context=m.sample_context(),
            )
    return ws


def scenario(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "key": "cart",
        "name_ja": "カゴ落ち",
        "name_en": "Cart abandonment",
        "trigger": {"type": "cart_abandoned", "hours": 1},
        "steps": [{"id": "mail", "type": "send", "channel": "email", "template": "sc-mail"}],
    }
    base.update(overrides)
    return base
