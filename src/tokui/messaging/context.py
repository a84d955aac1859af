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
import pyarrow as pa
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


def _plain_column(column: pa.ChunkedArray, tz: ZoneInfo) -> list[Any]:
    """plain() over a whole column, by its Arrow type: a bulk send loads a few hundred
    thousand customers, and converting value by value was most of that load. Strings,
    integers, booleans and dates come out of Arrow as the Python values plain() keeps."""
    kind = column.type
    values: list[Any] = column.to_pylist()
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_date(kind)
        or pa.types.is_null(kind)
    ):
        return values
    if pa.types.is_floating(kind):
        return [None if v is None or math.isnan(v) else v for v in values]
    if pa.types.is_timestamp(kind):
        utc = ZoneInfo("UTC")
        return [
            None
            if v is None
            else (v if v.tzinfo is not None else v.replace(tzinfo=utc)).astimezone(tz)
            for v in values
        ]
    return [plain(v, tz) for v in values]


def _records(expr: ibis.Table, tz: ZoneInfo) -> list[dict[str, Any]]:
    # Arrow's to_pylist gives Python dates, datetimes and None (no NaT, no NaN).
    table = expr.to_pyarrow()
    names = table.column_names
    columns = [_plain_column(table.column(name), tz) for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def customers_expr(
    con: BaseBackend, ids: Sequence[str], tables: set[str]
) -> tuple[ibis.Table, list[str]]:
    """The query of load_customers' customer fields (CUSTOMER_FIELDS, then the
    FEATURE_FIELDS the features table has), and the feature fields it lacks."""
    c = con.table("customers")
    expr = only(c, "customer_id", ids).select(*CUSTOMER_FIELDS)
    if "customer_features" in tables:
        f = con.table("customer_features")
        present = [name for name in FEATURE_FIELDS if name in f.columns]
        feats = f.select("customer_id", *present).rename(cid="customer_id")
        expr = expr.left_join(feats, expr.customer_id == feats.cid).drop("cid")
    return expr, [name for name in FEATURE_FIELDS if name not in expr.columns]


def load_customers(
    con: BaseBackend, customer_ids: Sequence[str], now: datetime, tz: ZoneInfo
) -> dict[str, CustomerData]:
    """The whitelisted fields of these customers, with their usable coupons."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return {}
    tables = set(con.list_tables())
    expr, absent = customers_expr(con, ids, tables)
    out: dict[str, CustomerData] = {}
    missing = dict.fromkeys(absent)
    for row in _records(expr, tz):
        if missing:
            row.update(missing)
        out[row["customer_id"]] = CustomerData(customer=row)
    if out and {"coupons", "coupon_grants"} <= tables:
        for cid, coupons in _coupons(con, list(out), now, tz).items():
            out[cid].coupons = coupons
    if out and {"recommendations", "products"} <= tables:
        for cid, items in _recommended(con, list(out), tz).items():
            out[cid].recommendations = items
    return out


def recommended_expr(con: BaseBackend, customer_ids: Sequence[str]) -> ibis.Table:
    """The top RECOMMENDED products of each customer's last recommendations, with the
    catalogue's name and price, by customer and rank."""
    r = only(con.table("recommendations"), "customer_id", customer_ids)
    r = r.filter(r["rank"] <= RECOMMENDED)
    p = con.table("products").select("product_id", "name", "price")
    joined = r.join(p, "product_id").select("customer_id", "rank", "product_id", "name", "price")
    return joined.order_by([joined.customer_id, joined["rank"], joined.product_id])


def _recommended(
    con: BaseBackend, customer_ids: list[str], tz: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    """recommended_expr's products by customer (url and image_url are not in the
    catalogue: None)."""
    joined = recommended_expr(con, customer_ids)
    table = joined.to_pyarrow()
    owners = table.column("customer_id").to_pylist()
    # Column by column (a bulk send loads hundreds of thousands); fields the query does
    # not have are None.
    values = [
        _plain_column(table.column(name), tz) if name in joined.columns else [None] * len(owners)
        for name in RECOMMENDATION_FIELDS
    ]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for cid, item in zip(owners, zip(*values, strict=True), strict=True):
        grouped.setdefault(cid, []).append(dict(zip(RECOMMENDATION_FIELDS, item, strict=True)))
    return grouped


def coupons_expr(con: BaseBackend, customer_ids: Sequence[str], now: datetime) -> ibis.Table:
    """The customers' usable coupons (COUPON_FIELDS), by customer, expiry and grant."""
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
    return joined.order_by([joined.customer_id, joined.expires_at, joined.grant_id])


def _coupons(
    con: BaseBackend, customer_ids: list[str], now: datetime, tz: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in _records(coupons_expr(con, customer_ids, now), tz):
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
