"""The customer_features columns a segment builder offers, with their kinds and values.

The builder (web form, or anything posting JSON to it) may only name these columns; the
compiler checks the schema again, so a column missing from the warehouse (say, model
scores before the models ran) is neither offered nor accepted. Identifiers and hashes
(customer_id, customer_hash) and the reference date are left out on purpose: filtering
on them is either meaningless or a way to pick out single people.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dt
from ibis.backends import BaseBackend

from tokui.segments.preview import features_table

Kind = Literal["number", "date", "category", "boolean"]

# Grouped as docs/features.md groups them; the order is the order of the field menu.
BUILDER_FIELDS: tuple[str, ...] = (
    # demographics
    "gender",
    "age",
    "age_band",
    "prefecture",
    "registered_on",
    "days_since_registration",
    "email_opt_in",
    "line_opt_in",
    "dm_opt_in",
    "push_opt_in",
    "has_line",
    # RFM and CPM
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "first_order",
    "last_order",
    "tenure_days",
    "cpm_group",
    "cpm_status",
    "orders_365d",
    "revenue_365d",
    # products and purpose
    "main_category",
    "main_product",
    "main_category_share",
    "gift_share",
    "novelty_share",
    "premium_share",
    "persona",
    # intervals and lifecycle
    "mean_interval_days",
    "average_order_value",
    "lifecycle_stage",
    # subscriptions, points
    "subscriptions_ever",
    "active_subscriptions",
    "subscription_status",
    "point_balance",
    "next_point_expiry_on",
    # web
    "last_access_at",
    "events_30d",
    "access_days_30d",
    "favorites",
    "cart_adds_30d",
    "most_viewed_category",
    # rank
    "rank",
    "computed_rank",
)

OPS_BY_KIND: dict[Kind, tuple[str, ...]] = {
    "number": ("ge", "gt", "le", "lt", "eq", "ne", "between", "is_null", "not_null"),
    "date": ("ge", "gt", "le", "lt", "eq", "between", "is_null", "not_null"),
    "category": ("eq", "ne", "in", "not_in", "is_null", "not_null"),
    "boolean": ("eq",),
}

# A menu longer than this is no menu; such columns (main_product) get a text box.
MAX_VALUES = 200


@dataclass(frozen=True)
class BuilderField:
    name: str
    kind: Kind
    integer: bool = False


def _kind(dtype: dt.DataType) -> tuple[Kind, bool] | None:
    if dtype.is_boolean():
        return "boolean", False
    if dtype.is_integer():
        return "number", True
    if dtype.is_numeric():
        return "number", False
    if dtype.is_date() or dtype.is_timestamp():
        return "date", False
    if dtype.is_string():
        return "category", False
    return None


def builder_fields(con: BaseBackend) -> dict[str, BuilderField]:
    """The whitelisted columns present in the warehouse, in menu order."""
    schema = features_table(con).schema()
    found: dict[str, BuilderField] = {}
    for name in BUILDER_FIELDS:
        if name in schema:
            kind = _kind(schema[name])
            if kind is not None:
                found[name] = BuilderField(name, kind[0], kind[1])
    return found


def category_values(con: BaseBackend, name: str, limit: int = MAX_VALUES) -> list[str] | None:
    """The values of a text column, most common first; None when there are too many."""
    f = features_table(con)
    col = f[name]
    counts = (
        f.filter(col.notnull())
        .group_by(value=col)
        .aggregate(n=col.count())
        .order_by([ibis.desc("n"), "value"])
        .limit(limit + 1)
        .execute()
    )
    if len(counts) > limit:
        return None
    return [str(v) for v in counts["value"]]


def product_categories(con: BaseBackend, limit: int = MAX_VALUES) -> list[str]:
    """Product categories, for the bought / viewed-not-bought conditions."""
    p = con.table("products")
    rows = (
        p.filter(p.category.notnull())
        .select("category")
        .distinct()
        .order_by("category")
        .limit(limit)
        .execute()
    )
    return [str(v) for v in rows["category"]]


@dataclass(frozen=True)
class Menus:
    """The builder's value menus: category columns' values and product categories."""

    values: dict[str, list[str] | None]
    categories: list[str]


_menus: weakref.WeakKeyDictionary[BaseBackend, tuple[tuple[Any, ...], Menus]] = (
    weakref.WeakKeyDictionary()
)
_menus_lock = threading.Lock()


def builder_menus(con: BaseBackend) -> Menus:
    """The menus, computed once per refresh of customer_features on this connection.

    A dozen group-bys over every customer would otherwise run on each builder request;
    the features change only when a refresh rewrites them, which moves as_of or the row
    count (the key, one cheap aggregate). Product categories change with an import, which
    is followed by a refresh.
    """
    f = features_table(con)
    row = f.aggregate(as_of=f.as_of.max(), n=f.count()).execute().iloc[0]
    stamp = (str(row["as_of"]), int(row["n"]), tuple(f.schema().names))
    with _menus_lock:
        cached = _menus.get(con)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    fields = builder_fields(con)
    menus = Menus(
        {f.name: category_values(con, f.name) for f in fields.values() if f.kind == "category"},
        product_categories(con),
    )
    with _menus_lock:
        _menus[con] = (stamp, menus)
    return menus
