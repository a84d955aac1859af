"""Everything known about one customer, read from the warehouse through Ibis.

One small query per section, each filtered on the customer id first, so the page stays
quick on a warehouse of millions of orders. Timestamps come back in the shop's zone.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ibis.backends import BaseBackend

from tokui.features.customer_features import FEATURES

ORDERS_LIMIT = 50
WEB_LIMIT = 30
EXPIRY_LIMIT = 5
FEATURE_FIELDS = (
    "lifecycle_stage",
    "computed_rank",
    "persona",
    "frequency",
    "monetary",
    "recency_days",
    "average_order_value",
    "main_category",
    "as_of",
)
# Model outputs (tokui.models); read only when the refresh has written them.
SCORES = "customer_scores"
SCORE_FIELDS = ("model", "as_of", "p_alive", "clv_12m", "expected_avg_spend", "next_purchase_date")


@dataclass
class Customer360:
    customer: dict[str, Any]
    features: dict[str, Any] | None
    orders: list[dict[str, Any]] = field(default_factory=list)
    orders_total: int = 0
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    point_balance: int = 0
    expiring_points: list[dict[str, Any]] = field(default_factory=list)
    coupons: list[dict[str, Any]] = field(default_factory=list)
    web_events: list[dict[str, Any]] = field(default_factory=list)
    web_total: int = 0
    scores: list[dict[str, Any]] | None = None  # None: no model has scored anyone yet


def _local(rows: list[dict[str, Any]], tz: ZoneInfo) -> list[dict[str, Any]]:
    """Naive UTC timestamps become aware datetimes in the shop's zone."""
    for row in rows:
        for key, value in row.items():
            if isinstance(value, datetime):
                row[key] = value.replace(tzinfo=UTC).astimezone(tz)
    return rows


def customer_360(
    con: BaseBackend, customer_id: str, today: date, tz: ZoneInfo
) -> Customer360 | None:
    """The customer's page data, or None when there is no such customer."""
    customers = con.table("customers")
    found = customers.filter(customers.customer_id == customer_id).to_pyarrow().to_pylist()
    if not found:
        return None
    view = Customer360(customer=_local(found, tz)[0], features=_features(con, customer_id))
    _orders(con, customer_id, tz, view)
    view.subscriptions = _subscriptions(con, customer_id, tz)
    view.point_balance, view.expiring_points = _points(con, customer_id, today)
    view.coupons = _coupons(con, customer_id, tz)
    view.scores = _scores(con, customer_id)
    events = con.table("web_events")
    mine = events.filter(events.customer_id == customer_id)
    view.web_total = int(mine.count().execute())
    view.web_events = _local(
        mine.order_by([mine.occurred_at.desc(), mine.event_id.desc()])
        .limit(WEB_LIMIT)
        .select("occurred_at", "event_type", "product_id", "category", "search_query", "page_url")
        .to_pyarrow()
        .to_pylist(),
        tz,
    )
    return view


def _features(con: BaseBackend, customer_id: str) -> dict[str, Any] | None:
    if FEATURES not in con.list_tables():
        return None
    f = con.table(FEATURES)
    names = [c for c in FEATURE_FIELDS if c in f.columns]
    rows = f.filter(f.customer_id == customer_id).select(*names).to_pyarrow().to_pylist()
    return rows[0] if rows else None


def _scores(con: BaseBackend, customer_id: str) -> list[dict[str, Any]] | None:
    if SCORES not in con.list_tables():
        return None
    s = con.table(SCORES)
    names = [c for c in SCORE_FIELDS if c in s.columns]
    mine = s.filter(s.customer_id == customer_id).select(*names)
    rows: list[dict[str, Any]] = mine.order_by(names[:1]).to_pyarrow().to_pylist()
    return rows


def _orders(con: BaseBackend, customer_id: str, tz: ZoneInfo, view: Customer360) -> None:
    o = con.table("orders")
    mine = o.filter(o.customer_id == customer_id)
    view.orders_total = int(mine.count().execute())
    recent = mine.order_by([mine.ordered_at.desc(), mine.order_id.desc()]).limit(ORDERS_LIMIT)
    orders = _local(recent.to_pyarrow().to_pylist(), tz)
    items = con.table("order_items")
    lines = (
        items.semi_join(recent.select("order_id"), "order_id")
        .order_by(["order_id", "line_no"])
        .to_pyarrow()
        .to_pylist()
    )
    by_order: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_order.setdefault(line["order_id"], []).append(line)
    for order in orders:
        order["lines"] = by_order.get(order["order_id"], [])
    view.orders = orders


def _subscriptions(con: BaseBackend, customer_id: str, tz: ZoneInfo) -> list[dict[str, Any]]:
    s = con.table("subscriptions")
    p = con.table("products").select("product_id", product_name="name")
    mine = s.filter(s.customer_id == customer_id)
    subs = _local(
        mine.left_join(p, "product_id")
        .select(*s.columns, "product_name")
        .order_by([s.started_at.desc(), s.subscription_id])
        .to_pyarrow()
        .to_pylist(),
        tz,
    )
    d = con.table("subscription_deliveries")
    deliveries = _local(
        d.semi_join(mine.select("subscription_id"), "subscription_id")
        .order_by(["subscription_id", "delivery_number"])
        .to_pyarrow()
        .to_pylist(),
        tz,
    )
    by_sub: dict[str, list[dict[str, Any]]] = {}
    for row in deliveries:
        by_sub.setdefault(row["subscription_id"], []).append(row)
    for sub in subs:
        sub["deliveries"] = by_sub.get(sub["subscription_id"], [])
        sub["skips"] = sum(1 for x in sub["deliveries"] if x["status"] == "skipped")
        sub["shipped"] = sum(1 for x in sub["deliveries"] if x["status"] == "shipped")
    return subs


def _points(con: BaseBackend, customer_id: str, today: date) -> tuple[int, list[dict[str, Any]]]:
    t = con.table("point_transactions")
    rows = (
        t.filter(t.customer_id == customer_id)
        .order_by(["occurred_at", "transaction_id"])
        .select("kind", "points", "expires_on")
        .to_pyarrow()
        .to_pylist()
    )
    return remaining_points(rows, today)


def remaining_points(rows: list[dict[str, Any]], today: date) -> tuple[int, list[dict[str, Any]]]:
    """Balance, and the points still unspent per expiry date from today on.

    Spending and expiry take the oldest earned points first (first in, first out), as
    Japanese carts do, so what remains of each grant is known and its expiry can be shown.
    """
    lots: deque[list[Any]] = deque()  # [expires_on, points left]
    balance = 0
    for row in rows:
        points = int(row["points"])
        balance += points
        if points > 0:
            lots.append([row["expires_on"], points])
            continue
        owed = -points
        while owed and lots:
            take = min(owed, lots[0][1])
            lots[0][1] -= take
            owed -= take
            if lots[0][1] == 0:
                lots.popleft()
    by_day: dict[date, int] = {}
    for expires_on, left in lots:
        if expires_on is not None and expires_on >= today and left > 0:
            by_day[expires_on] = by_day.get(expires_on, 0) + left
    expiring = [{"expires_on": d, "points": n} for d, n in sorted(by_day.items())]
    return balance, expiring[:EXPIRY_LIMIT]


def _coupons(con: BaseBackend, customer_id: str, tz: ZoneInfo) -> list[dict[str, Any]]:
    g = con.table("coupon_grants")
    c = con.table("coupons").select(
        "coupon_id", coupon_name="name", discount_type="discount_type", value="discount_value"
    )
    mine = g.filter(g.customer_id == customer_id)
    return _local(
        mine.left_join(c, "coupon_id")
        .select(*g.columns, "coupon_name", "discount_type", "value")
        .order_by([g.granted_at.desc(), g.grant_id])
        .to_pyarrow()
        .to_pylist(),
        tz,
    )
