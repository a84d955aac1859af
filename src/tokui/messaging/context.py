"""The variables a template sees: a whitelist, as plain values.

Only the fields named here reach a template, converted to str, int, float, bool, date,
datetime or None (and lists and dicts of those): no ORM objects, no connections, no
callables, so the sandbox has nothing dangerous to reach for even through a public
attribute. Contact data a marketer has no use for in a message (phone, birth date,
LINE id) is left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis
from ibis.backends import BaseBackend

from tokui.warehouse.subset import only

# Keys of `customer` in templates, and the table each comes from.
CUSTOMER_FIELDS: tuple[str, ...] = (
    "customer_id",
    "name",
    "name_kana",
    "email",
    "prefecture",
    "rank",
    "registered_at",
)
FEATURE_FIELDS: tuple[str, ...] = (
    "computed_rank",
    "lifecycle_stage",
    "frequency",
    "monetary",
    "first_order",
    "last_order",
    "recency_days",
    "orders_365d",
    "revenue_365d",
    "average_order_value",
    "main_category",
    "main_product",
    "persona",
    "subscription_status",
    "active_subscriptions",
    "point_balance",
    "next_point_expiry_on",
    "most_viewed_category",
)
COUPON_FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "discount_type",
    "discount_value",
    "min_order_amount",
    "expires_at",
)
RECOMMENDATION_FIELDS: tuple[str, ...] = ("product_id", "name", "price", "url", "image_url")
# Products of the customer's latest recommendations (tokui.models.recommend) a message
# sees, best first, when the caller gives none of its own.
RECOMMENDED = 3


@dataclass(frozen=True)
class ShopInfo:
    """The shop as templates and the legal footer see it."""

    name: str
    url: str = ""
    sender_name: str = ""  # 送信者の氏名又は名称
    postal_address: str = ""  # 住所
    contact: str = ""  # 苦情・問合せ先 (email, phone or URL)

    def as_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "url": self.url,
            "sender_name": self.sender_name or self.name,
            "address": self.postal_address,
            "contact": self.contact,
        }


@dataclass
class CustomerData:
    """Everything known about one customer that templates may use."""

    customer: dict[str, Any]
    coupons: list[dict[str, Any]] = field(default_factory=list)
    recommendations: list[dict[str, Any]] = field(default_factory=list)


def plain(value: Any, tz: ZoneInfo) -> Any:
    """A value templates may hold: datetimes move to the shop's zone, NaN becomes None."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo("UTC"))
        return value.astimezone(tz)
    if isinstance(value, bool | int | str | date):
        return value
    if isinstance(value, float):
        return float(value)
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item(), tz)
    return str(value)


def _records(expr: ibis.Table, tz: ZoneInfo) -> list[dict[str, Any]]:
    # Arrow's to_pylist gives Python dates, datetimes and None (no NaT, no NaN).
    return [{c: plain(v, tz) for c, v in row.items()} for row in expr.to_pyarrow().to_pylist()]


def load_customers(
    con: BaseBackend, customer_ids: Sequence[str], now: datetime, tz: ZoneInfo
) -> dict[str, CustomerData]:
    """The whitelisted fields of these customers, with their usable coupons."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return {}
    tables = set(con.list_tables())
    c = con.table("customers")
    expr = only(c, "customer_id", ids).select(*CUSTOMER_FIELDS)
    if "customer_features" in tables:
        f = con.table("customer_features")
        present = [name for name in FEATURE_FIELDS if name in f.columns]
        feats = f.select("customer_id", *present).rename(cid="customer_id")
        expr = expr.left_join(feats, expr.customer_id == feats.cid).drop("cid")
    out: dict[str, CustomerData] = {}
    for row in _records(expr, tz):
        for name in FEATURE_FIELDS:
            row.setdefault(name, None)
        out[row["customer_id"]] = CustomerData(customer=row)
    if out and {"coupons", "coupon_grants"} <= tables:
        for cid, coupons in _coupons(con, list(out), now, tz).items():
            out[cid].coupons = coupons
    if out and {"recommendations", "products"} <= tables:
        for cid, items in _recommended(con, list(out), tz).items():
            out[cid].recommendations = items
    return out


def _recommended(
    con: BaseBackend, customer_ids: list[str], tz: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    """The top RECOMMENDED products of each customer's last recommendations, with the
    catalogue's name and price (url and image_url are not in the catalogue: None)."""
    r = only(con.table("recommendations"), "customer_id", customer_ids)
    r = r.filter(r["rank"] <= RECOMMENDED)
    p = con.table("products").select("product_id", "name", "price")
    joined = r.join(p, "product_id").select("customer_id", "rank", "product_id", "name", "price")
    joined = joined.order_by([joined.customer_id, joined["rank"], joined.product_id])
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in _records(joined, tz):
        item = {name: row.get(name) for name in RECOMMENDATION_FIELDS}
        grouped.setdefault(row["customer_id"], []).append(item)
    return grouped


def _coupons(
    con: BaseBackend, customer_ids: list[str], now: datetime, tz: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    g = con.table("coupon_grants")
    k = con.table("coupons")
    at = ibis.literal(now.astimezone(ZoneInfo("UTC")).replace(tzinfo=None), type="timestamp")
    g = only(g, "customer_id", customer_ids)
    usable = g.filter(
        g.used_at.isnull(),
        g.expires_at.isnull() | (g.expires_at > at),
    )
    joined = usable.join(k, usable.coupon_id == k.coupon_id).select(
        usable.customer_id,
        usable.grant_id,
        usable.code,
        k.name,
        k.discount_type,
        k.discount_value,
        k.min_order_amount,
        usable.expires_at,
    )
    joined = joined.order_by([joined.customer_id, joined.expires_at, joined.grant_id])
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in _records(joined, tz):
        grouped.setdefault(row["customer_id"], []).append(
            {name: row[name] for name in COUPON_FIELDS}
        )
    return grouped


def _recommendations(items: Iterable[Mapping[str, Any]] | None, tz: ZoneInfo) -> list[Any]:
    if not items:
        return []
    return [{name: plain(item.get(name), tz) for name in RECOMMENDATION_FIELDS} for item in items]


def template_context(
    data: CustomerData,
    shop: ShopInfo,
    tz: ZoneInfo,
    recommendations: Iterable[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The context of one message: customer, shop, coupons, points, recommendations."""
    customer = dict(data.customer)
    return {
        "customer": customer,
        "shop": shop.as_dict(),
        "coupons": [dict(c) for c in data.coupons],
        "points": {
            "balance": customer.get("point_balance") or 0,
            "next_expiry": customer.get("next_point_expiry_on"),
        },
        "recommendations": _recommendations(
            recommendations if recommendations is not None else data.recommendations, tz
        ),
        **({k: plain(v, tz) for k, v in extra.items()} if extra else {}),
    }


def sample_context(shop: ShopInfo) -> dict[str, Any]:
    """A made-up customer, for checking a template before any real data is at hand."""
    customer: dict[str, Any] = dict.fromkeys((*CUSTOMER_FIELDS, *FEATURE_FIELDS))
    customer.update(
        customer_id="SAMPLE-0001",
        name="得意 花子",
        name_kana="トクイ ハナコ",
        email="hanako@example.com",
        prefecture="東京都",
        rank="ゴールド",
        frequency=3,
        monetary=24800,
        lifecycle_stage="repeat",
        point_balance=1200,
    )
    return template_context(CustomerData(customer=customer), shop, ZoneInfo("Asia/Tokyo"))
