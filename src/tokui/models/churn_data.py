"""Churn and dormancy features as of a cutoff date, and their labels, as Ibis expressions.

Everything is computed from what was known at the end of the cutoff day (shop-local):
deliveries scheduled up to it, events and orders before it. Nothing reads the current
state of a row where it may have changed after the cutoff (the next scheduled delivery
of a subscription that was cancelled later does not exist, so "days to next delivery"
is estimated from the delivery rhythm, the same way at every cutoff and when scoring).
Web features are missing (NaN), not zero, when the tracking tag had not yet started
90 days before the cutoff: a shop's tag is often younger than its order history.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from tokui.analytics.base import days_between, local_date, purchases

# The shop's zone is fixed at UTC+9 in the warehouse helpers (analytics.base.JST).
_UTC_OFFSET = timedelta(hours=9)

SUBSCRIPTION_FEATURES: tuple[str, ...] = (
    "delivery_number",
    "skips_total",
    "skip_rate",
    "skips_last_2",
    "days_since_last_skip",
    "cycle_days",
    "cycle_ratio",
    "cycle_changes_90d",
    "days_to_next",
    "tenure_days",
    "unit_price",
    "discount_rate",
    "monthly_amount",
    "points_balance",
    "visits_30d",
    "visits_prev_60d",
    "visit_trend",
    "one_off_orders_365d",
)

DORMANCY_FEATURES: tuple[str, ...] = (
    "days_since_last",
    "purchase_days_365d",
    "purchase_days_total",
    "tenure_days",
    "mean_interval",
    "overdue_ratio",
    "avg_order_value",
    "coupon_share",
    "gift_share",
    "points_balance",
    "visits_30d",
    "visits_prev_60d",
    "visit_trend",
    "cart_adds_30d",
    "has_subscription",
)


def day_end_utc(day: date) -> datetime:
    """The first UTC instant after the shop-local day (timestamps are naive UTC)."""
    return datetime.combine(day + timedelta(days=1), time()) - _UTC_OFFSET


def _ts(day: date) -> ibis.Value:
    return ibis.literal(day_end_utc(day), type="timestamp")


def _day(day: date) -> ibis.Value:
    return ibis.literal(day, type="date")


def web_started(con: BaseBackend) -> date | None:
    """The first shop-local day with a logged-in web event (None: no tracking)."""
    if "web_events" not in con.list_tables():
        return None
    w = con.table("web_events")
    first = w.filter(w.customer_id.notnull()).occurred_at.min().execute()
    if first is None or first != first:  # None or NaT
        return None
    day: date = (pd.Timestamp(first).to_pydatetime() + _UTC_OFFSET).date()
    return day


def _web(con: BaseBackend, cutoff: date, tracked: bool) -> ibis.Table:
    """Per customer: visit days in the last 30 and the previous 60 days, cart adds (30 d)."""
    w = con.table("web_events")
    lo, mid, hi = _ts(cutoff - timedelta(days=90)), _ts(cutoff - timedelta(days=30)), _ts(cutoff)
    w = w.filter(w.customer_id.notnull() & (w.occurred_at >= lo) & (w.occurred_at < hi))
    w = w.mutate(day=local_date(w.occurred_at), recent=w.occurred_at >= mid)
    days = w.group_by(["customer_id", "day"]).aggregate(
        recent=w.recent.ifelse(1, 0).max(), carts=(w.event_type == "cart_add").ifelse(1, 0).sum()
    )
    per = days.group_by("customer_id").aggregate(
        visits_30d=(days.recent == 1).ifelse(1, 0).sum(),
        visits_prev_60d=(days.recent == 1).ifelse(0, 1).sum(),
        cart_adds_30d=(days.recent == 1).ifelse(days.carts, 0).sum(),
    )
    if not tracked:
        # Before the tag existed a customer without events is unknown, not absent.
        return per.filter(ibis.literal(False))
    return per


def _web_columns(t: ibis.Table, tracked: bool) -> dict[str, ibis.Value]:
    if not tracked:
        nan = ibis.literal(None, type="float64")
        return {"visits_30d": nan, "visits_prev_60d": nan, "visit_trend": nan}
    v30 = t.visits_30d.fill_null(0).cast("float64")
    v60 = t.visits_prev_60d.fill_null(0).cast("float64")
    # last 30 days against the previous 60 at the same pace, +0.5 so "none and none" is 1
    return {"visits_30d": v30, "visits_prev_60d": v60, "visit_trend": (v30 + 0.5) / (v60 / 2 + 0.5)}


def _points(con: BaseBackend, cutoff: date) -> ibis.Table:
    p = con.table("point_transactions")
    p = p.filter(p.occurred_at < _ts(cutoff))
    return p.group_by("customer_id").aggregate(points_balance=p.points.sum())


def _has_web(con: BaseBackend, cutoff: date) -> bool:
    start = web_started(con)
    return start is not None and start <= cutoff - timedelta(days=90)


def subscription_frame(con: BaseBackend, cutoff: date, horizon: int | None) -> ibis.Table:
    """One row per subscription live at the end of `cutoff` with at least one delivery.

    With `horizon`, `label` is whether it was cancelled within `horizon` days after.
    """
    end = _ts(cutoff)
    s = con.table("subscriptions")
    s = s.filter((s.started_at < end) & (s.cancelled_at.isnull() | (s.cancelled_at >= end)))
    d = con.table("subscription_deliveries")
    d = d.filter(d.status.isin(["shipped", "skipped"]) & (d.scheduled_on <= _day(cutoff)))
    latest = ibis.window(
        group_by=d.subscription_id, order_by=[d.scheduled_on.desc(), d.delivery_number.desc()]
    )
    earliest = ibis.window(group_by=d.subscription_id, order_by=[d.scheduled_on, d.delivery_number])
    d = d.mutate(
        rn=ibis.row_number().over(latest),
        rn_first=ibis.row_number().over(earliest),
        skipped=(d.status == "skipped").ifelse(1, 0),
    )
    never = ibis.literal(None, type="date")
    per = d.group_by("subscription_id").aggregate(
        deliveries=d.count(),
        skips=d.skipped.sum(),
        skips_last_2=(d.rn < 2).ifelse(d.skipped, 0).sum(),
        last_on=d.scheduled_on.max(),
        prev_on=(d.rn == 1).ifelse(d.scheduled_on, never).max(),
        first_on=d.scheduled_on.min(),
        second_on=(d.rn_first == 1).ifelse(d.scheduled_on, never).max(),
        last_skip_on=(d.skipped == 1).ifelse(d.scheduled_on, never).max(),
    )
    e = con.table("subscription_events")
    e = e.filter(
        (e.event_type == "cycle_change")
        & (e.occurred_at < end)
        & (e.occurred_at >= _ts(cutoff - timedelta(days=90)))
    )
    changes = e.group_by("subscription_id").aggregate(cycle_changes_90d=e.count())
    products = con.table("products").select("product_id", list_price=con.table("products").price)
    tracked = _has_web(con, cutoff)
    j = (
        s.join(per, "subscription_id")
        .left_join(changes, "subscription_id")
        .left_join(products, "product_id")
        .left_join(_points(con, cutoff), "customer_id")
        .left_join(_web(con, cutoff, tracked), "customer_id")
        .left_join(_one_off_365(con, cutoff), "customer_id")
    )
    declared = (j.cycle_unit.cases(("week", 7), else_=30) * j.cycle_interval).cast("float64")
    gap_now = days_between(j.last_on, j.prev_on).cast("float64")
    gap_first = days_between(j.second_on, j.first_on).cast("float64")
    cycle = gap_now.fill_null(declared)
    deliveries = j.deliveries.cast("float64")
    price = j.unit_price.cast("float64")
    cols: dict[str, ibis.Value] = {
        "subscription_id": j.subscription_id,
        "customer_id": j.customer_id,
        "delivery_number": deliveries,
        "skips_total": j.skips.cast("float64"),
        "skip_rate": j.skips.cast("float64") / deliveries,
        "skips_last_2": j.skips_last_2.cast("float64"),
        "days_since_last_skip": days_between(_day(cutoff), j.last_skip_on).cast("float64"),
        "cycle_days": cycle,
        "cycle_ratio": cycle / gap_first.fill_null(cycle),
        "cycle_changes_90d": j.cycle_changes_90d.fill_null(0).cast("float64"),
        "days_to_next": days_between(j.last_on, _day(cutoff)).cast("float64") + cycle,
        "tenure_days": days_between(_day(cutoff), local_date(j.started_at)).cast("float64"),
        "unit_price": price,
        "discount_rate": 1 - price / j.list_price.cast("float64"),
        "monthly_amount": price * j.quantity.cast("float64") * 30.0 / cycle,
        "points_balance": j.points_balance.fill_null(0).cast("float64"),
        **_web_columns(j, tracked),
        "one_off_orders_365d": j.one_off_orders_365d.fill_null(0).cast("float64"),
    }
    if horizon is not None:
        cols["label"] = j.cancelled_at.notnull() & (
            j.cancelled_at < _ts(cutoff + timedelta(days=horizon))
        )
    return j.select(**cols)


def _one_off_365(con: BaseBackend, cutoff: date) -> ibis.Table:
    p = purchases(con)
    p = p.filter(
        p.subscription_id.isnull()
        & (p.order_date <= _day(cutoff))
        & (p.order_date > _day(cutoff - timedelta(days=365)))
    )
    return p.group_by("customer_id").aggregate(one_off_orders_365d=p.count())


def dormancy_frame(con: BaseBackend, cutoff: date, horizon: int | None) -> ibis.Table:
    """One row per active buyer: a one-off purchase in the 365 days up to `cutoff`.

    With `horizon`, `label` is whether they made no one-off purchase in the `horizon`
    days after the cutoff (dormant).
    """
    p = purchases(con)
    p = p.filter(p.subscription_id.isnull())
    before = p.filter(p.order_date <= _day(cutoff))
    year_ago = _day(cutoff - timedelta(days=365))
    days = before.group_by(["customer_id", before.order_date.name("day")]).aggregate(
        value=before.total.sum(),
        coupon=before.coupon_code.notnull().ifelse(1, 0).max(),
        gift=before.is_gift.ifelse(1, 0).max(),
    )
    days = days.mutate(recent=days.day > year_ago)
    per = days.group_by("customer_id").aggregate(
        first_day=days.day.min(),
        last_day=days.day.max(),
        purchase_days_total=days.count(),
        purchase_days_365d=days.recent.ifelse(1, 0).sum(),
        value_365=days.recent.ifelse(days.value, 0).sum(),
        coupon_365=days.recent.ifelse(days.coupon, 0).sum(),
        gift_365=days.recent.ifelse(days.gift, 0).sum(),
    )
    per = per.filter(per.purchase_days_365d > 0)
    s = con.table("subscriptions")
    end = _ts(cutoff)
    live = s.filter((s.started_at < end) & (s.cancelled_at.isnull() | (s.cancelled_at >= end)))
    subs = live.group_by("customer_id").aggregate(live_subscriptions=live.count())
    tracked = _has_web(con, cutoff)
    web = _web(con, cutoff, tracked)
    j = (
        per.left_join(subs, "customer_id")
        .left_join(_points(con, cutoff), "customer_id")
        .left_join(web, "customer_id")
    )
    n365 = j.purchase_days_365d.cast("float64")
    total = j.purchase_days_total.cast("float64")
    since = days_between(_day(cutoff), j.last_day).cast("float64")
    span = days_between(j.last_day, j.first_day).cast("float64")
    mean_interval = (total > 1).ifelse(span / (total - 1), ibis.literal(None, type="float64"))
    cols: dict[str, ibis.Value] = {
        "customer_id": j.customer_id,
        "days_since_last": since,
        "purchase_days_365d": n365,
        "purchase_days_total": total,
        "tenure_days": days_between(_day(cutoff), j.first_day).cast("float64"),
        "mean_interval": mean_interval,
        "overdue_ratio": since / mean_interval,
        "avg_order_value": j.value_365.cast("float64") / n365,
        "coupon_share": j.coupon_365.cast("float64") / n365,
        "gift_share": j.gift_365.cast("float64") / n365,
        "points_balance": j.points_balance.fill_null(0).cast("float64"),
        **_web_columns(j, tracked),
        "cart_adds_30d": (
            j.cart_adds_30d.fill_null(0).cast("float64")
            if tracked
            else ibis.literal(None, type="float64")
        ),
        "has_subscription": (j.live_subscriptions.fill_null(0) > 0).ifelse(1.0, 0.0),
    }
    if horizon is not None:
        after = p.filter(
            (p.order_date > _day(cutoff)) & (p.order_date <= _day(cutoff + timedelta(days=horizon)))
        )
        buyers = after.select("customer_id").distinct().mutate(bought_after=ibis.literal(True))
        j2 = j.select(**cols).left_join(buyers, "customer_id")
        cols2 = {c: j2[c] for c in cols}
        return j2.select(**cols2, label=j2.bought_after.isnull())
    return j.select(**cols)
