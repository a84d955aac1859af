"""Derived sales tables that the dashboard reads."""

from __future__ import annotations

import ibis
from ibis.backends import BaseBackend

from tokui.refresh.pipeline import RefreshContext, refresh_step

# Japan has no daylight saving time, so local dates are UTC + 9 h on every engine;
# this keeps the expression portable (not every backend converts zones).
JST_OFFSET = ibis.interval(hours=9)

DAILY_SALES = "daily_sales"


def daily_sales_expr(con: BaseBackend) -> ibis.Table:
    """Completed orders per shop-local day: count, buyers, revenue, subscription share."""
    o = con.table("orders")
    o = o.filter(o.status == "completed")
    o = o.mutate(
        sales_date=(o.ordered_at + JST_OFFSET).date(),
        sub_total=ibis.ifelse(o.subscription_id.notnull(), o.total, 0),
    )
    return (
        o.group_by("sales_date")
        .aggregate(
            orders=o.count(),
            buyers=o.customer_id.nunique(),
            revenue=o.total.sum(),
            subscription_revenue=o.sub_total.sum(),
        )
        .order_by("sales_date")
    )


@refresh_step("daily_sales", "Completed orders and revenue per day")
def refresh_daily_sales(ctx: RefreshContext) -> int:
    con = ctx.warehouse
    table = con.create_table(DAILY_SALES, daily_sales_expr(con), overwrite=True)
    return int(table.count().execute())
