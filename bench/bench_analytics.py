"""The standard analysis pack on DuckDB against a straightforward pandas implementation.

Target (issue: analysis templates): on 1,000,000 customers / about 10,000,000 order
lines the pack (RFM, CPM, cohort retention, F2, subscription flow, repeat interval,
cross-sell top 100 pairs) runs in under 15 s on DuckDB, at least 3x faster than pandas
in the same run, with the same results.

Usage: python bench/bench_analytics.py [CUSTOMERS] [--years Y]
The simulated warehouse is cached in ./bench-data (ignored by git) and reused. The
simulator's model is left as it is: about 1.64 lines per order, and customers drop out
(BG/NBD), so lines per customer grow slower than the years: 6.4 after 4 years, 8.7
after 10, 10.1 after 16. The default is therefore a shop with 16 years of history,
which gives 10.1 million order lines (6.2 million orders) for 1,000,000 customers.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# `python bench/x.py` puts bench/ on the path.
from common import END as AS_OF
from common import shop

from tokui.analytics.run import run
from tokui.warehouse import connect

PACK = (
    "rfm",
    "cpm",
    "cohort_retention",
    "f2_conversion",
    "subscription_continuation",
    "repeat_interval",
    "cross_sell_product",
)


def warehouse(customers: int, years: float) -> Path:
    return shop(customers, years=years).warehouse


# --- pandas: the same definitions, written the obvious way --------------------------


def purchases(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    o = t["orders"]
    o = o[(o.status == "completed") & o.customer_id.notna()].copy()
    o["order_date"] = (o.ordered_at + pd.Timedelta(hours=9)).dt.normalize()
    return o[o.order_date <= pd.Timestamp(AS_OF)]


def pd_rfm(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    p = purchases(t)
    c = p.groupby("customer_id").agg(
        last=("order_date", "max"), frequency=("order_id", "count"), monetary=("total", "sum")
    )
    c["recency_days"] = (pd.Timestamp(AS_OF) - c["last"]).dt.days
    c["r_score"] = 1 + sum((c.recency_days <= x).astype(int) for x in (30, 60, 90, 180))
    c["f_score"] = 1 + sum((c.frequency >= x).astype(int) for x in (2, 3, 5, 10))
    c["m_score"] = 1 + sum((c.monetary >= x).astype(int) for x in (10_000, 30_000, 50_000, 100_000))
    return c.reset_index().sort_values("customer_id")[
        ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score"]
    ]


def pd_cpm(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    p = purchases(t)
    c = p.groupby("customer_id").agg(
        first=("order_date", "min"),
        last=("order_date", "max"),
        orders=("order_id", "count"),
        cumulative=("total", "sum"),
    )
    tenure = (c["last"] - c["first"]).dt.days
    since = (pd.Timestamp(AS_OF) - c["last"]).dt.days
    c["cpm_group"] = np.select(
        [c.orders == 1, tenure < 90, c.cumulative < 70_000, tenure < 210],
        ["first", "toddler", "steady", "trendy"],
        "loyal",
    )
    c["cpm_status"] = np.where(since >= 240, "lapsed", "active")
    g = c.groupby(["cpm_group", "cpm_status"]).agg(
        customers=("orders", "size"), revenue=("cumulative", "sum")
    )
    return g.reset_index()


def _month_idx(d: pd.Series) -> pd.Series:
    return d.dt.year * 12 + d.dt.month - 1


def pd_cohort(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    p = purchases(t)
    first = p.groupby("customer_id").order_date.min().rename("first_date")
    p = p.join(first, on="customer_id")
    p["cohort_idx"] = _month_idx(p.first_date)
    p["months_since"] = _month_idx(p.order_date) - p.cohort_idx
    sizes = _month_idx(first).value_counts().rename("cohort_size")
    ref_idx = AS_OF.year * 12 + AS_OF.month - 1
    grid = pd.DataFrame(
        [(c, k) for c in sizes.index for k in range(13) if c + k <= ref_idx],
        columns=["cohort_idx", "months_since"],
    ).join(sizes, on="cohort_idx")
    cells = p.groupby(["cohort_idx", "months_since"]).agg(
        customers=("customer_id", "nunique"), revenue=("total", "sum")
    )
    g = grid.join(cells, on=["cohort_idx", "months_since"]).fillna(0)
    g["retention_rate"] = g.customers / g.cohort_size
    return g.sort_values(["cohort_idx", "months_since"])


def _numbered(p: pd.DataFrame) -> pd.DataFrame:
    p = p.sort_values(["customer_id", "ordered_at", "order_id"])
    p["order_no"] = p.groupby("customer_id").cumcount() + 1
    return p


def pd_f2(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    n = _numbered(purchases(t))
    first = n[n.order_no == 1].set_index("customer_id").order_date
    second = n[n.order_no == 2].set_index("customer_id").order_date
    c = pd.DataFrame({"first": first}).join(second.rename("second"))
    c["converted"] = ((c.second - c["first"]).dt.days <= 90).astype(int)
    c["month"] = c["first"].dt.to_period("M")
    g = c.groupby("month").agg(new_customers=("first", "size"), f2_customers=("converted", "sum"))
    return g.reset_index().sort_values("month")


def pd_subscription(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    s = t["subscriptions"].copy()
    s["start"] = (s.started_at + pd.Timedelta(hours=9)).dt.normalize()
    s["cancel"] = (s.cancelled_at + pd.Timedelta(hours=9)).dt.normalize()
    s = s[s.start <= pd.Timestamp(AS_OF)]
    s["cancelled"] = s.cancel.notna() & (s.cancel <= pd.Timestamp(AS_OF))
    d = t["subscription_deliveries"]
    d = d[(d.status == "shipped") & (pd.to_datetime(d.scheduled_on) <= pd.Timestamp(AS_OF))]
    shipped = d.groupby("subscription_id").size().rename("shipped")
    s = s.join(shipped, on="subscription_id")
    s["shipped"] = s.shipped.fillna(0)
    rows = []
    for k in range(1, 13):
        at = s[s.shipped >= k]
        if at.empty:
            continue
        censored = int(((at.shipped == k) & ~at.cancelled).sum())
        rows.append((k, len(at), int((at.shipped > k).sum()), censored))
    return pd.DataFrame(rows, columns=["delivery_count", "subscriptions", "continued", "censored"])


def pd_repeat_interval(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    n = _numbered(purchases(t))
    gap = n.groupby("customer_id").order_date.shift(-1) - n.order_date
    days = gap.dt.days.dropna()
    edges = [-1, 7, 14, 30, 60, 90, 180, 365, np.inf]
    counts = pd.cut(days, edges).value_counts(sort=False)
    return pd.DataFrame({"bucket_order": range(len(counts)), "count": counts.to_numpy()})


def pd_cross_sell(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    p = purchases(t)[["order_id"]]
    b = t["order_items"][["order_id", "product_id"]].merge(p, on="order_id").drop_duplicates()
    n_orders = len(p)
    counts = b.groupby("product_id").size()
    pairs = b.merge(b, on="order_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs.product_id_a != pairs.product_id_b]
    pc = pairs.groupby(["product_id_a", "product_id_b"]).size().rename("pair_orders").reset_index()
    pc = pc[pc.pair_orders >= 3]
    ca = counts.reindex(pc.product_id_a).to_numpy()
    cb = counts.reindex(pc.product_id_b).to_numpy()
    pc["support"] = pc.pair_orders / n_orders
    pc["confidence"] = pc.pair_orders / ca
    pc["lift"] = pc.pair_orders * n_orders / (ca * cb)
    pc["lift_r"] = np.floor(pc.lift * 10_000 + 0.5) / 10_000  # as the template rounds
    pc = pc.sort_values(
        ["lift_r", "pair_orders", "product_id_a", "product_id_b"],
        ascending=[False, False, True, True],
    )
    return pc.head(100)


# --- checks: the two implementations agree ---------------------------------------------


def _same(a: Any, b: Any, name: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        ok = a.shape == b.shape and bool(np.allclose(a.astype(float), b.astype(float), atol=1e-4))
    else:
        ok = a.shape == b.shape and bool((a.astype(str) == b.astype(str)).all())
    if not ok:
        raise SystemExit(f"results differ: {name}")


def check(name: str, ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    if name == "rfm":
        for col in ("customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score"):
            _same(ours[col], theirs[col], f"rfm.{col}")
    elif name == "cpm":
        o = ours[ours.customers > 0].sort_values(["cpm_group", "cpm_status"])
        th = theirs.sort_values(["cpm_group", "cpm_status"])
        for col in ("cpm_group", "cpm_status", "customers", "revenue"):
            _same(o[col], th[col], f"cpm.{col}")
    elif name == "cohort_retention":
        for col in ("months_since", "cohort_size", "customers", "revenue", "retention_rate"):
            _same(ours[col], theirs[col], f"cohort.{col}")
    elif name == "f2_conversion":
        for col in ("new_customers", "f2_customers"):
            _same(ours[col], theirs[col], f"f2.{col}")
    elif name == "subscription_continuation":
        for col in ("delivery_count", "subscriptions", "continued", "censored"):
            _same(ours[col], theirs[col], f"subscription.{col}")
    elif name == "repeat_interval":
        _same(ours["count"], theirs["count"], "repeat_interval.count")
    elif name == "cross_sell_product":
        for col in ("antecedent", "consequent", "pair_orders"):
            th = theirs.rename(columns={"product_id_a": "antecedent", "product_id_b": "consequent"})
            _same(ours[col], th[col], f"cross_sell.{col}")
        _same(ours["lift"], theirs["lift"], "cross_sell.lift")


PANDAS: dict[str, Callable[[dict[str, pd.DataFrame]], pd.DataFrame]] = {
    "rfm": pd_rfm,
    "cpm": pd_cpm,
    "cohort_retention": pd_cohort,
    "f2_conversion": pd_f2,
    "subscription_continuation": pd_subscription,
    "repeat_interval": pd_repeat_interval,
    "cross_sell_product": pd_cross_sell,
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("customers", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--years", type=float, default=16.0)
    args = ap.parse_args()
    path = warehouse(args.customers, args.years)
    # Other work on the machine slows both sides; the load average says how busy it was.
    load_before = os.getloadavg()[0]
    con = connect(f"duckdb://{path}")
    orders = int(con.table("orders").count().execute())
    lines = int(con.table("order_items").count().execute())
    params = {"as_of": AS_OF.isoformat()}
    ours: dict[str, tuple[float, pd.DataFrame]] = {}
    for name in PACK:
        t0 = time.perf_counter()
        df = run(con, name, params)
        ours[name] = (time.perf_counter() - t0, df)
    t0 = time.perf_counter()
    tables = {
        name: con.table(name).execute()
        for name in ("orders", "order_items", "subscriptions", "subscription_deliveries")
    }
    load_s = time.perf_counter() - t0
    con.disconnect()
    theirs: dict[str, tuple[float, pd.DataFrame]] = {}
    for name in PACK:
        t0 = time.perf_counter()
        df = PANDAS[name](tables)
        theirs[name] = (time.perf_counter() - t0, df)
        check(name, ours[name][1], df)
    print(
        f"`python bench/bench_analytics.py {args.customers} --years {args.years:g}` — "
        f"{args.customers:,} customers, {orders:,} orders, {lines:,} order lines; "
        f"pandas times exclude loading the tables into memory ({load_s:.1f} s). "
        "Results checked equal. Load average (1 min) before the run "
        f"{load_before:.1f}, after {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores.\n"
    )
    print("| analysis | DuckDB s | pandas s | speed-up |")
    print("|---|---:|---:|---:|")
    for name in PACK:
        a, b = ours[name][0], theirs[name][0]
        print(f"| {name} | {a:.2f} | {b:.2f} | {b / a:.1f}x |")
    total_a = sum(v[0] for v in ours.values())
    total_b = sum(v[0] for v in theirs.values())
    print(f"| **total** | **{total_a:.2f}** | **{total_b:.2f}** | **{total_b / total_a:.1f}x** |")


if __name__ == "__main__":
    main()
