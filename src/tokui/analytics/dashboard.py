"""Figures of the first dashboard."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from ibis.backends import BaseBackend

from tokui.refresh.sales import DAILY_SALES


@dataclass(frozen=True)
class Headline:
    customers: int
    buyers: int
    orders: int
    revenue: int
    active_subscriptions: int


def headline(con: BaseBackend) -> Headline:
    c = con.table("customers")
    o = con.table("orders")
    done = o.filter(o.status == "completed")
    s = con.table("subscriptions")
    # One query per figure keeps each expression trivially portable.
    return Headline(
        customers=int(c.count().execute()),
        buyers=int(done.filter(done.customer_id.notnull()).customer_id.nunique().execute()),
        orders=int(done.count().execute()),
        revenue=int(done.total.sum().fill_null(0).execute()),
        active_subscriptions=int(s.filter(s.status == "active").count().execute()),
    )


def monthly_revenue(con: BaseBackend) -> pd.DataFrame:
    """Revenue per month split into one-off and subscription, from the refreshed table."""
    if DAILY_SALES not in con.list_tables():
        return pd.DataFrame(columns=["month", "orders", "revenue", "subscription_revenue"])
    d = con.table(DAILY_SALES)
    d = d.mutate(month=d.sales_date.truncate("M"))
    expr = (
        d.group_by("month")
        .aggregate(
            orders=d.orders.sum(),
            revenue=d.revenue.sum(),
            subscription_revenue=d.subscription_revenue.sum(),
        )
        .order_by("month")
    )
    df = expr.execute()
    # Sums of integers come back as decimals on some engines; yen are whole numbers.
    df = df.astype({"orders": "int64", "revenue": "int64", "subscription_revenue": "int64"})
    if not df.empty:
        # A month without sales is a zero bar, not a month missing from the axis.
        months = pd.date_range(df["month"].min(), df["month"].max(), freq="MS")
        df = df.set_index(pd.to_datetime(df.pop("month"))).reindex(months, fill_value=0)
        df = df.rename_axis("month").reset_index()
    df["one_off_revenue"] = df["revenue"] - df["subscription_revenue"]
    df["month"] = pd.to_datetime(df["month"]).dt.strftime("%Y-%m")
    return df[["month", "orders", "revenue", "subscription_revenue", "one_off_revenue"]]
