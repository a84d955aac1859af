"""Model inputs computed in the warehouse, as Ibis expressions (DuckDB, PostgreSQL, ...).

One row per customer or subscription leaves the warehouse; transactions never do.
Purchases are counted per shop-local day, as lifetimes does by default: several orders
on one day are one purchase occasion whose value is their sum.
"""

from __future__ import annotations

from datetime import date

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import days_between, local_date, purchases


def summary_data_from_transactions(
    transactions: ibis.Table,
    customer_id_col: str,
    date_col: str,
    monetary_value_col: str,
    observation_period_end: date,
) -> ibis.Table:
    """frequency, recency, T (days) and monetary_value per customer, lifetimes' definitions.

    frequency: purchase days after the first; recency: days from the first to the last
    purchase day; T: days from the first purchase day to the end of the observation
    period; monetary_value: mean value of the repeat purchase days (0 without repeats).
    """
    t = transactions
    end = ibis.literal(observation_period_end, type="date")
    t = t.filter(t[date_col] <= end)
    days = t.group_by([t[customer_id_col].name("customer_id"), t[date_col].name("day")]).aggregate(
        value=t[monetary_value_col].sum()
    )
    first = days.day.min().over(ibis.window(group_by=days.customer_id))
    days = days.mutate(is_first=days.day == first)
    per = days.group_by("customer_id").aggregate(
        first_day=days.day.min(),
        last_day=days.day.max(),
        n_days=days.count(),
        total=days.value.sum(),
        first_value=days.is_first.ifelse(days.value, 0).sum(),
    )
    repeats = per.n_days - 1
    return per.select(
        "customer_id",
        frequency=repeats,
        recency=days_between(per.last_day, per.first_day),
        T=days_between(end, per.first_day),
        monetary_value=(repeats > 0).ifelse(
            (per.total - per.first_value).cast("float64") / repeats.cast("float64"), 0.0
        ),
        first_day=per.first_day,
        last_day=per.last_day,
    )


def one_off_purchases(con: BaseBackend) -> ibis.Table:
    """Completed orders of known customers outside subscriptions (the non-contractual part)."""
    p = purchases(con)
    return p.filter(p.subscription_id.isnull())


def customer_rfm(con: BaseBackend, as_of: date) -> ibis.Table:
    """The BG/NBD and Gamma-Gamma inputs of every one-off buyer, as of the shop-local date."""
    return summary_data_from_transactions(
        one_off_purchases(con), "customer_id", "order_date", "total", as_of
    )


def purchase_intervals(con: BaseBackend, as_of: date) -> ibis.Table:
    """Per customer: count, sum and sum of squares of log intervals between purchase days."""
    p = one_off_purchases(con)
    p = p.filter(p.order_date <= ibis.literal(as_of, type="date"))
    days = p.select("customer_id", day=p.order_date).distinct()
    # distinct days: the order key is unique within a customer, so no tie-break is needed
    w = ibis.window(group_by=days.customer_id, order_by=days.day)
    days = days.mutate(gap=days_between(days.day, days.day.lag().over(w)))
    logs = days.gap.cast("float64").ln()
    per = days.group_by("customer_id").aggregate(
        n_intervals=days.gap.count(),
        sum_log=logs.sum(),
        sum_log_sq=(logs * logs).sum(),
        last_day=days.day.max(),
    )
    return per.mutate(sum_log=per.sum_log.fill_null(0.0), sum_log_sq=per.sum_log_sq.fill_null(0.0))


def subscription_periods(con: BaseBackend, as_of: date) -> ibis.Table:
    """Per subscription with at least one delivery: sBG periods as of the shop-local date.

    A period is a scheduled delivery, shipped or skipped; the renewal decision after it
    counts only once its whole window (one cycle) has passed by `as_of`, for everyone:
    counting cancellations inside a window still open while survivors of it are
    censored a period earlier would overstate churn. So:
    - churned: cancelled in a closed window, so the subscription lasted `periods` periods;
    - renewals: decisions survived (`periods` if the last window closed without a
      cancellation, `periods - 1` while it is open or when it ended in one).
    """
    end = ibis.literal(as_of, type="date")
    s = con.table("subscriptions")
    d = con.table("subscription_deliveries")
    d = d.filter(d.status.isin(["shipped", "skipped"]) & (d.scheduled_on <= end))
    per = d.group_by("subscription_id").aggregate(
        periods=d.count(),
        last_delivery=d.scheduled_on.max(),
        revenue=d.amount.fill_null(0).sum(),
    )
    j = per.join(s, "subscription_id")
    start_day = local_date(j.started_at)
    cancelled = j.cancelled_at.notnull() & (local_date(j.cancelled_at) <= end)
    unit_days = j.cycle_unit.cases(("week", 7), else_=30)  # "month": 30 days
    cyc = (unit_days * j.cycle_interval).cast("int64")
    closed = days_between(end, j.last_delivery) >= cyc
    return j.select(
        "subscription_id",
        "customer_id",
        "product_id",
        cohort=start_day.truncate("Q"),
        periods=j.periods,
        renewals=(closed & ~cancelled).ifelse(j.periods, j.periods - 1),
        churned=cancelled & closed,
        active=~cancelled,
        cycle_days=cyc,
        revenue=j.revenue.cast("float64"),
    )
