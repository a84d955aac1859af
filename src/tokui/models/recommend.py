"""Recommendations: co-purchase pairings and personalised top-N, computed in the warehouse.

- Pairings (「これと一緒に食べると最高」): products bought in the same order. For a
  pair (a, b) over N orders: support = n_ab / N, confidence(a -> b) = n_ab / n_a,
  lift = n_ab N / (n_a n_b); pairs bought together in fewer than `min_orders` orders
  are dropped (a lift from two orders is noise).
- Personalised: item-to-item similarity from customers' histories (cosine of the
  co-occurrence, n_ab / sqrt(n_a n_b), each item's 20 nearest neighbours), summed over
  the customer's own items weighted by recency (purchases weight 1, product views
  `view_weight`, halving every `half_life_days`); plus new arrivals in the customer's
  favourite categories, weighted by their category share; then popular products to
  fill up. Filters: never bought before, sellable (in stock or low stock, not a
  subscription product) when scoring the present.
Everything is an Ibis expression over the warehouse; only the evaluation samples
customers into pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tokui.analytics.base import days_between, local_date, purchases
from tokui.models.churn_data import day_end_utc

SELLABLE = ("in_stock", "low_stock")


@dataclass(frozen=True)
class RecommendConfig:
    top_n: int = 10
    history_days: int = 365
    half_life_days: float = 90.0
    view_weight: float = 0.3
    neighbours: int = 20
    history_items: int = 10
    min_orders: int = 3  # minimum support of a pairing, in orders
    pair_days: int = 365
    new_days: int = 60
    new_weight: float = 0.5
    eval_days: int = 90
    eval_customers: int = 20_000

    def __post_init__(self) -> None:
        if not 1 <= self.top_n <= 100:
            raise ValueError("top_n: between 1 and 100")
        if self.min_orders < 1:
            raise ValueError("min_orders: at least 1")


def _day(d: date) -> ibis.Value:
    return ibis.literal(d, type="date")


def order_lines(con: BaseBackend, start: date, end: date) -> ibis.Table:
    """(customer_id, order_id, product_id, day) of one-off orders, distinct per order."""
    p = purchases(con)
    p = p.filter(
        p.subscription_id.isnull() & (p.order_date >= _day(start)) & (p.order_date <= _day(end))
    )
    items = con.table("order_items")
    j = p.join(items, "order_id")
    return j.select("customer_id", "order_id", "product_id", day=j.order_date).distinct()


def pair_counts(baskets: ibis.Table, min_together: int) -> ibis.Table:
    """Both directions of every pair bought in at least `min_together` baskets.

    `baskets` has columns basket, product_id (distinct). Returns product_id,
    paired_product_id, together, n_product, n_paired, baskets.
    """
    b = baskets.select("basket", "product_id").distinct()
    total = b.basket.nunique().name("baskets")
    n = b.group_by("product_id").aggregate(n=b.count())
    left = b.rename(a="product_id")
    right = b.rename(b_="product_id")
    pairs = left.join(right, "basket").filter(lambda t: t.a != t.b_)
    counts = pairs.group_by(["a", "b_"]).aggregate(together=pairs.count())
    counts = counts.filter(counts.together >= min_together)
    na = n.rename(a="product_id", n_product="n")
    nb = n.rename(b_="product_id", n_paired="n")
    j = counts.join(na, "a").join(nb, "b_").cross_join(b.aggregate(total))
    return j.select(
        product_id=j.a,
        paired_product_id=j.b_,
        together=j.together,
        n_product=j.n_product,
        n_paired=j.n_paired,
        baskets=j.baskets,
    )


def product_pairs(con: BaseBackend, as_of: date, cfg: RecommendConfig) -> ibis.Table:
    """Order-level pairings with support, confidence and lift, ranked by lift per product."""
    lines = order_lines(con, as_of - timedelta(days=cfg.pair_days - 1), as_of)
    c = pair_counts(
        lines.select(basket=lines.order_id, product_id=lines.product_id), cfg.min_orders
    )
    together = c.together.cast("float64")
    lift = (
        together
        * c.baskets.cast("float64")
        / (c.n_product.cast("float64") * c.n_paired.cast("float64"))
    )
    t = c.mutate(
        support=together / c.baskets.cast("float64"),
        confidence=together / c.n_product.cast("float64"),
        lift=lift,
    )
    w = ibis.window(
        group_by=t.product_id, order_by=[t.lift.desc(), t.together.desc(), t.paired_product_id]
    )
    return t.select(
        "product_id",
        "paired_product_id",
        orders_together=t.together,
        support=t.support,
        confidence=t.confidence,
        lift=t.lift,
        rank=(ibis.row_number().over(w) + 1).cast("int64"),
    )


def _history(con: BaseBackend, as_of: date, cfg: RecommendConfig) -> ibis.Table:
    """(customer_id, product_id, weight): recency-weighted purchases and product views."""
    start = as_of - timedelta(days=cfg.history_days - 1)
    lines = order_lines(con, start, as_of)
    decay = float(np.log(2) / cfg.half_life_days)
    age = days_between(_day(as_of), lines.day).cast("float64")
    bought = lines.select("customer_id", "product_id", w=(age * -decay).exp())
    parts = [bought]
    if "web_events" in con.list_tables():
        v = con.table("web_events")
        v = v.filter(
            (v.event_type == "product_view")
            & v.customer_id.notnull()
            & v.product_id.notnull()
            & (v.occurred_at >= ibis.literal(day_end_utc(start - timedelta(days=1))))
            & (v.occurred_at < ibis.literal(day_end_utc(as_of)))
        )
        vage = days_between(_day(as_of), local_date(v.occurred_at)).cast("float64")
        parts.append(
            v.select("customer_id", "product_id", w=(vage * -decay).exp() * cfg.view_weight)
        )
    h = ibis.union(*parts)
    h = h.group_by(["customer_id", "product_id"]).aggregate(weight=h.w.sum())
    # a customer's strongest items only: candidates grow with items x neighbours
    w = ibis.window(group_by=h.customer_id, order_by=[h.weight.desc(), h.product_id])
    h = h.mutate(r=ibis.row_number().over(w))
    return h.filter(h.r < cfg.history_items).drop("r")


def _similar(con: BaseBackend, as_of: date, cfg: RecommendConfig) -> ibis.Table:
    """Each product's nearest neighbours by cosine of customer-level co-purchase."""
    lines = order_lines(con, as_of - timedelta(days=cfg.history_days - 1), as_of)
    c = pair_counts(lines.select(basket=lines.customer_id, product_id=lines.product_id), 2)
    cos = (
        c.together.cast("float64")
        / (c.n_product.cast("float64") * c.n_paired.cast("float64")).sqrt()
    )
    t = c.select("product_id", "paired_product_id", sim=cos)
    w = ibis.window(group_by=t.product_id, order_by=[t.sim.desc(), t.paired_product_id])
    t = t.mutate(r=ibis.row_number().over(w))
    return t.filter(t.r < cfg.neighbours).drop("r")


def recommendations(
    con: BaseBackend,
    as_of: date,
    cfg: RecommendConfig,
    customers: ibis.Table | None = None,
    sellable_only: bool = True,
) -> ibis.Table:
    """Top-N per customer with a history: customer_id, rank, product_id, score, reason."""
    hist = _history(con, as_of, cfg)
    if customers is not None:
        hist = hist.semi_join(customers, "customer_id")
    # Materialised once (a temporary table): the history feeds three branches below, and
    # engines may inline a shared subquery and compute it three times.
    hist = hist.cache()
    products = con.table("products")
    eligible = products.filter(~products.is_subscription)
    if sellable_only:
        eligible = eligible.filter(eligible.stock_status.isin(SELLABLE))
    eligible = eligible.filter(
        eligible.launched_on.isnull() | (eligible.launched_on <= _day(as_of))
    )
    eligible = eligible.select("product_id", "category", "launched_on")
    sim = _similar(con, as_of, cfg).cache()
    # item-to-item: every (customer, candidate) with the history item that contributes most
    contrib = hist.join(sim, "product_id").select(
        "customer_id",
        source=hist.product_id,
        candidate=sim.paired_product_id,
        part=hist.weight * sim.sim,
    )
    top_src = ibis.window(
        group_by=[contrib.customer_id, contrib.candidate],
        order_by=[contrib.part.desc(), contrib.source],
    )
    # sums by group-by and join: an unordered window sum is far slower on DuckDB
    totals = contrib.group_by(["customer_id", "candidate"]).aggregate(total=contrib.part.sum())
    top = contrib.mutate(r=ibis.row_number().over(top_src))
    top = top.filter(top.r == 0).join(totals, ["customer_id", "candidate"])
    cf = top.select(
        "customer_id",
        product_id=top.candidate,
        score=top.total,
        reason=ibis.literal("bought_with"),
        reason_product_id=top.source,
    )
    # new arrivals in the customer's categories, weighted by the category's share
    cats = hist.join(products.select("product_id", "category"), "product_id")
    aff = cats.group_by(["customer_id", "category"]).aggregate(w=cats.weight.sum())
    per = aff.group_by("customer_id").aggregate(all_w=aff.w.sum())
    aff = aff.join(per, "customer_id")
    aff = aff.mutate(share=aff.w / aff.all_w)
    new = eligible.filter(
        eligible.launched_on.notnull()
        & (eligible.launched_on > _day(as_of - timedelta(days=cfg.new_days)))
    )
    fresh = aff.join(new, "category").select(
        "customer_id",
        "product_id",
        score=aff.share * cfg.new_weight,
        reason=ibis.literal("new_in_category"),
        reason_product_id=ibis.literal(None, type="string"),
    )
    # popular products fill the list for customers with few neighbours
    recent = order_lines(con, as_of - timedelta(days=cfg.eval_days - 1), as_of)
    pop = recent.group_by("product_id").aggregate(n=recent.order_id.nunique())
    pop = pop.semi_join(eligible, "product_id")
    pw = ibis.window(order_by=[pop.n.desc(), pop.product_id])
    pop = pop.mutate(r=ibis.row_number().over(pw))
    pop = pop.filter(pop.r < 3 * cfg.top_n)
    people = hist.select("customer_id").distinct()
    filler = people.cross_join(pop).select(
        "customer_id",
        "product_id",
        # below any real similarity score, in popularity order
        score=1e-6 / (pop.r + 1).cast("float64"),
        reason=ibis.literal("popular"),
        reason_product_id=ibis.literal(None, type="string"),
    )
    cand = ibis.union(cf.cache(), fresh, filler)
    cand = cand.semi_join(eligible, "product_id")
    bought = order_lines(con, date(1900, 1, 1), as_of).select("customer_id", "product_id")
    # materialised: PostgreSQL's planner otherwise nests the whole chain and takes minutes
    cand = cand.anti_join(bought.distinct(), ["customer_id", "product_id"]).cache()
    # one row per (customer, product): the sum of scores, the reason of the biggest part
    bw = ibis.window(
        group_by=[cand.customer_id, cand.product_id], order_by=[cand.score.desc(), cand.reason]
    )
    sums = cand.group_by(["customer_id", "product_id"]).aggregate(total=cand.score.sum())
    best = cand.mutate(r=ibis.row_number().over(bw))
    best = best.filter(best.r == 0).join(sums, ["customer_id", "product_id"])
    rw = ibis.window(group_by=best.customer_id, order_by=[best.total.desc(), best.product_id])
    best = best.mutate(rank=(ibis.row_number().over(rw) + 1).cast("int64"))
    best = best.filter(best.rank <= cfg.top_n)
    return best.select(
        "customer_id",
        "rank",
        "product_id",
        score=best.total,
        reason=best.reason,
        reason_product_id=best.reason_product_id,
    )


def _precision_recall(recs: pd.DataFrame, truth: pd.DataFrame, k: int) -> tuple[float, float]:
    got = recs[recs["rank"] <= k][["customer_id", "product_id"]]
    hits = got.merge(truth, on=["customer_id", "product_id"]).groupby("customer_id").size()
    per = truth.groupby("customer_id").size().rename("relevant").to_frame()
    per["hits"] = hits.reindex(per.index).fillna(0)
    return float((per.hits / k).mean()), float((per.hits / per.relevant).mean())


def evaluate(con: BaseBackend, as_of: date, cfg: RecommendConfig) -> dict[str, Any]:
    """precision@k and recall@k on the last `eval_days`, against popularity.

    Recommendations are made as of the split from data up to it; a hit is a product the
    customer bought in the test window and never before. The stock filter is off
    (stock status is today's, not the split's), for both the model and the baseline.
    """
    split = as_of - timedelta(days=cfg.eval_days)
    before = order_lines(con, date(1900, 1, 1), split).select("customer_id", "product_id")
    after = order_lines(con, split + timedelta(days=1), as_of).select("customer_id", "product_id")
    truth = after.distinct().anti_join(before.distinct(), ["customer_id", "product_id"])
    known = before.select("customer_id").distinct()
    truth_df = truth.semi_join(known, "customer_id").to_pandas()
    if truth_df.empty:
        return {"status": "no test purchases", "split": split.isoformat()}
    people = np.sort(truth_df.customer_id.unique())
    if len(people) > cfg.eval_customers:
        rng = np.random.default_rng(0)
        people = np.sort(rng.choice(people, cfg.eval_customers, replace=False))
    truth_df = truth_df[truth_df.customer_id.isin(people)]
    sample = ibis.memtable(pd.DataFrame({"customer_id": people}))
    recs = recommendations(con, split, cfg, sample, sellable_only=False).to_pandas()
    # popularity: the most-ordered products of the 90 days before the split, unbought
    recent = order_lines(con, split - timedelta(days=cfg.eval_days - 1), split)
    products = con.table("products")
    sellable = products.filter(~products.is_subscription).select("product_id")
    pop = recent.group_by("product_id").aggregate(n=recent.order_id.nunique())
    pop_df = pop.semi_join(sellable, "product_id").to_pandas()
    pop_df = pop_df.sort_values(["n", "product_id"], ascending=[False, True], kind="stable")
    owned = before.distinct().semi_join(sample, "customer_id").to_pandas()
    cand = pd.DataFrame(
        {
            "customer_id": np.repeat(people, len(pop_df)),
            "product_id": np.tile(pop_df.product_id.to_numpy(), len(people)),
            "order": np.tile(np.arange(len(pop_df)), len(people)),
        }
    )
    cand = cand.merge(owned.assign(own=True), on=["customer_id", "product_id"], how="left")
    cand = cand[cand.own.isna()].sort_values(["customer_id", "order"], kind="stable")
    cand["rank"] = cand.groupby("customer_id").cumcount() + 1
    k = cfg.top_n
    p_model, r_model = _precision_recall(recs, truth_df, k)
    p_pop, r_pop = _precision_recall(cand, truth_df, k)
    return {
        "status": "ok",
        "split": split.isoformat(),
        "customers": len(people),
        "k": k,
        "precision_at_k": p_model,
        "recall_at_k": r_model,
        "precision_at_k_popularity": p_pop,
        "recall_at_k_popularity": r_pop,
    }
