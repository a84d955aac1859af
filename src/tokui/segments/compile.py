"""Compiling a segment definition to an Ibis predicate over customer_features.

Every leaf is checked against the features schema first: an unknown field, an operator
that does not fit the field's type, or a value of the wrong type is a SegmentError that
names the place in the tree (e.g. `condition.conditions[1].value`). Values only ever
become Ibis literals, so no input can turn into SQL text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt
from ibis.backends import BaseBackend

from tokui.analytics.base import local_date
from tokui.features.hashing import HASH_SPACE
from tokui.segments.dsl import (
    And,
    Bought,
    CartNoOrder,
    Compare,
    Condition,
    DaysAgo,
    InSegment,
    Not,
    Or,
    RandomBucket,
    SegmentDefinition,
    Subscription,
    ViewedNotBought,
)

ORDER_OPS = {"lt", "le", "gt", "ge", "between"}

# The shift local_date (tokui.analytics.base.JST) applies to the stored UTC times.
JST_OFFSET = timedelta(hours=9)


class SegmentError(ValueError):
    """A definition that cannot be compiled; the message names the place."""


Resolver = Callable[[str], SegmentDefinition | None]


@dataclass
class Context:
    con: BaseBackend
    features: ibis.Table
    as_of: date
    resolve: Resolver = lambda _key: None
    _stack: list[str] = field(default_factory=list)


def _kind(dtype: dt.DataType) -> str:
    if dtype.is_boolean():
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_date() or dtype.is_timestamp():
        return "date"
    if dtype.is_string():
        return "string"
    return "other"


def _coerce(value: Any, kind: str, where: str) -> Any:
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SegmentError(f"{where}: {value!r} is not a number")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise SegmentError(f"{where}: {value!r} is not true or false")
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise SegmentError(f"{where}: {value!r} is not text")
        return value
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise SegmentError(f"{where}: {value!r} is not a date (YYYY-MM-DD)")
    raise SegmentError(f"{where}: this field cannot be compared")


def _column(ctx: Context, name: str, where: str) -> tuple[ibis.Column, str]:
    schema = ctx.features.schema()
    if name not in schema:
        raise SegmentError(f"{where}: unknown field {name!r}")
    col = ctx.features[name]
    kind = _kind(schema[name])
    if kind == "date" and schema[name].is_timestamp():
        col = local_date(col)
    return col, kind


def _compare(node: Compare, ctx: Context, where: str) -> ibis.Value:
    col, kind = _column(ctx, node.field, f"{where}.field")
    if node.op == "is_null":
        return col.isnull()
    if node.op == "not_null":
        return col.notnull()
    if node.op in ORDER_OPS and kind not in ("number", "date"):
        raise SegmentError(f"{where}.op: {node.op} does not apply to {kind} field {node.field}")
    if node.op in ("in", "not_in"):
        assert isinstance(node.value, list)
        values = [_coerce(v, kind, f"{where}.value[{i}]") for i, v in enumerate(node.value)]
        return col.isin(values) if node.op == "in" else ~col.isin(values)
    if node.op == "between":
        assert isinstance(node.value, list)
        low = _coerce(node.value[0], kind, f"{where}.value[0]")
        high = _coerce(node.value[1], kind, f"{where}.value[1]")
        return col.between(low, high)
    value = _coerce(node.value, kind, f"{where}.value")
    ops: dict[str, Callable[[Any, Any], ibis.Value]] = {
        "eq": lambda a, b: a == b,
        "ne": lambda a, b: a != b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
    }
    return ops[node.op](col, value)


def _days_ago(node: DaysAgo, ctx: Context, where: str) -> ibis.Value:
    col, kind = _column(ctx, node.field, f"{where}.field")
    if kind != "date":
        raise SegmentError(f"{where}.field: {node.field} is not a date field")
    preds = []
    if node.within is not None:
        preds.append(col >= ctx.as_of - timedelta(days=node.within))
        preds.append(col <= ctx.as_of)
    if node.more_than is not None:
        preds.append(col < ctx.as_of - timedelta(days=node.more_than))
    return ibis.and_(*preds)


def _period(ts: ibis.Value, ctx: Context, days: int | None) -> ibis.Value:
    """Shop-local days (as_of - days, as_of] of a UTC timestamp column.

    Bounds on the raw column, not on local_date(ts): the same rows, but the engine can skip
    blocks by their min/max and need not convert 22M event times before filtering.
    """
    end = datetime.combine(ctx.as_of + timedelta(days=1), time()) - JST_OFFSET
    pred = ts < end
    if days is not None:
        pred = pred & (ts >= end - timedelta(days=days))
    return pred


def _bought_ids(ctx: Context, node: Bought | ViewedNotBought, days: int | None) -> ibis.Table:
    o = ctx.con.table("orders")
    p = o.filter(
        (o.status == "completed") & o.customer_id.notnull() & _period(o.ordered_at, ctx, days)
    ).select("order_id", "customer_id")
    # Items are filtered before the join to orders: a year of orders has millions of lines,
    # one product or category a small share of them.
    items = ctx.con.table("order_items")
    if node.product_id is not None:
        items = items.filter(items.product_id == node.product_id)
    else:
        # The catalogue's category wins; the line's own only for products it does not
        # categorise (the same as coalescing a left join to products, without the join).
        products = ctx.con.table("products")
        listed = products.filter(products.category.notnull())
        in_category = listed.filter(listed.category == node.category)
        items = items.filter(
            items.product_id.isin(in_category.product_id)
            | ((items.category == node.category) & ~items.product_id.isin(listed.product_id))
        )
    items = items.select("order_id").join(p, "order_id")
    per = items.select("customer_id", "order_id").distinct()
    return per.group_by("customer_id").aggregate(n=per.order_id.count())


def _bought(node: Bought, ctx: Context) -> ibis.Value:
    ids = _bought_ids(ctx, node, node.days)
    ids = ids.filter(ids.n >= node.min_count)
    return ctx.features.customer_id.isin(ids.customer_id)


def _viewed_not_bought(node: ViewedNotBought, ctx: Context) -> ibis.Value:
    days = node.days or 30
    e = ctx.con.table("web_events")
    e = e.filter(e.customer_id.notnull() & _period(e.occurred_at, ctx, days))
    if node.product_id is not None:
        e = e.filter((e.event_type == "product_view") & (e.product_id == node.product_id))
    else:
        e = e.filter(
            e.event_type.isin(["product_view", "category_view"]) & (e.category == node.category)
        )
    bought = _bought_ids(ctx, node, days)
    return ctx.features.customer_id.isin(e.customer_id) & ~ctx.features.customer_id.isin(
        bought.customer_id
    )


def _cart_no_order(node: CartNoOrder, ctx: Context) -> ibis.Value:
    e = ctx.con.table("web_events")
    e = e.filter(
        (e.event_type == "cart_add")
        & e.customer_id.notnull()
        & _period(e.occurred_at, ctx, node.days)
    )
    carts = e.group_by("customer_id").aggregate(last_cart=e.occurred_at.max())
    o = ctx.con.table("orders")
    # Only the cart customers' orders: a few thousand groups instead of every buyer.
    o = o.filter(
        o.customer_id.notnull() & (o.status != "cancelled") & o.customer_id.isin(carts.customer_id)
    )
    last = o.group_by("customer_id").aggregate(last_order=o.ordered_at.max())
    j = carts.left_join(last, "customer_id")
    waiting = j.filter(j.last_order.isnull() | (j.last_order < j.last_cart))
    return ctx.features.customer_id.isin(waiting.customer_id)


def _subscription(node: Subscription, ctx: Context) -> ibis.Value:
    s = ctx.con.table("subscriptions")
    s = s.filter(local_date(s.started_at) <= ctx.as_of)
    if node.product_id is not None:
        s = s.filter(s.product_id == node.product_id)
    active = s.filter(s.cancelled_at.isnull() | (local_date(s.cancelled_at) > ctx.as_of))
    cid = ctx.features.customer_id
    if node.state == "ever":
        return cid.isin(s.customer_id)
    if node.state == "never":
        return ~cid.isin(s.customer_id)
    if node.state == "active":
        return cid.isin(active.customer_id)
    return cid.isin(s.customer_id) & ~cid.isin(active.customer_id)


def _salt_numbers(salt: str) -> tuple[int, int]:
    digest = hashlib.sha256(salt.encode("utf-8")).digest()
    a = int.from_bytes(digest[:4], "big") % HASH_SPACE | 1  # odd: a permutation mod 2^k
    c = int.from_bytes(digest[4:8], "big") % HASH_SPACE
    return a, c


def _random_bucket(node: RandomBucket, ctx: Context, where: str) -> ibis.Value:
    if "customer_hash" not in ctx.features.schema():
        raise SegmentError(f"{where}: random buckets need customer hashes; run `tokui refresh`")
    a, c = _salt_numbers(node.salt)
    # Products stay below 2^40, so int64 arithmetic is exact on every engine.
    mixed = (ctx.features.customer_hash * a + c) % HASH_SPACE
    percent = (mixed * 100) // HASH_SPACE
    return (percent >= node.percent_from) & (percent < node.percent_to)


def _in_segment(node: InSegment, ctx: Context, where: str) -> ibis.Value:
    if node.segment in ctx._stack:
        chain = " → ".join([*ctx._stack, node.segment])
        raise SegmentError(f"{where}: segments refer to each other in a cycle: {chain}")
    other = ctx.resolve(node.segment)
    if other is None:
        raise SegmentError(f"{where}: no segment {node.segment!r}")
    ctx._stack.append(node.segment)
    try:
        return compile_condition(other.condition, ctx, f"{where}<{node.segment}>")
    finally:
        ctx._stack.pop()


def compile_condition(node: Condition, ctx: Context, where: str = "condition") -> ibis.Value:
    if isinstance(node, And):
        return ibis.and_(
            *[
                compile_condition(c, ctx, f"{where}.conditions[{i}]")
                for i, c in enumerate(node.conditions)
            ]
        )
    if isinstance(node, Or):
        return ibis.or_(
            *[
                compile_condition(c, ctx, f"{where}.conditions[{i}]")
                for i, c in enumerate(node.conditions)
            ]
        )
    if isinstance(node, Not):
        # Comparisons with NULL are unknown; NOT of unknown must count as "not a member".
        return ~compile_condition(node.condition, ctx, f"{where}.condition").fill_null(False)
    if isinstance(node, Compare):
        return _compare(node, ctx, where).fill_null(False)
    if isinstance(node, DaysAgo):
        return _days_ago(node, ctx, where).fill_null(False)
    if isinstance(node, Bought):
        return _bought(node, ctx)
    if isinstance(node, ViewedNotBought):
        return _viewed_not_bought(node, ctx)
    if isinstance(node, CartNoOrder):
        return _cart_no_order(node, ctx)
    if isinstance(node, Subscription):
        return _subscription(node, ctx)
    if isinstance(node, RandomBucket):
        return _random_bucket(node, ctx, where)
    if isinstance(node, InSegment):
        return _in_segment(node, ctx, where)
    raise SegmentError(f"{where}: unknown condition")  # pragma: no cover - pydantic guards


def members(ctx: Context, definition: SegmentDefinition) -> ibis.Table:
    """The features rows of the segment's members."""
    ctx._stack = [definition.key]
    return ctx.features.filter(compile_condition(definition.condition, ctx))
