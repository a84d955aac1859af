"""Products: main products with ABC rank, entry products (入口商品), cross-sell and
purchase flow.

Line categories come from the order line (the category at order time) and, when the
cart did not send one, from the product master.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
from ibis.backends import BaseBackend

from tokui.analytics.base import (
    AS_OF,
    END,
    START,
    days_between,
    in_period,
    numbered,
    purchases_until,
)
from tokui.analytics.families.cohort import rate
from tokui.analytics.families.repeat import WITHIN_DAYS
from tokui.analytics.registry import Chart, Param, Template, register

LEVELS = {"product": "product_id", "category": "category"}
NO_NEXT = "(2回目なし)"


def lines(con: BaseBackend, p: ibis.Table) -> ibis.Table:
    """Order lines of the purchases `p`, with the order's customer, date and category."""
    items = con.table("order_items")
    products = con.table("products").select("product_id", master_category="category")
    items = items.left_join(products, "product_id")
    items = items.select(
        "order_id",
        "line_no",
        "product_id",
        "quantity",
        "amount",
        category=items.category.fill_null(items.master_category).fill_null("(未分類)"),
    )
    return items.inner_join(
        p.select("order_id", "customer_id", "ordered_at", "order_date"), "order_id"
    )


def main_of_order(lines_: ibis.Table, key: str) -> ibis.Table:
    """Each order's main product or category: the largest amount, ties by name."""
    by = lines_.group_by(["order_id", key]).aggregate(amount=lines_.amount.sum())
    w = ibis.window(group_by=by.order_id, order_by=[ibis.desc(by.amount), by[key]])
    by = by.mutate(rn=ibis.row_number().over(w))
    return by.filter(by.rn == 0).select("order_id", main=by[key])


ABC_PARAMS = (
    START,
    END,
    AS_OF,
    Param("a_share", "float", "Aランクの累積構成比", "Cumulative share of rank A", 0.7, minimum=0),
    Param("b_share", "float", "Bランクの累積構成比", "Cumulative share of rank B", 0.9, minimum=0),
)


def _abc(level: str) -> Any:
    key = LEVELS[level]

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        p, _ = purchases_until(con, params)
        items = lines(con, in_period(p, params))
        g = items.group_by(key).aggregate(
            revenue=items.amount.sum(),
            quantity=items.quantity.sum(),
            orders=items.order_id.nunique(),
            customers=items.customer_id.nunique(),
        )
        total = g.revenue.sum().over(ibis.window())
        w = ibis.window(order_by=[ibis.desc(g.revenue), g[key]], rows=(None, 0))
        g = g.mutate(cum=g.revenue.sum().over(w), rank_no=ibis.row_number().over(w) + 1)
        # Pareto/ABC: an item is A while the items ranked above it hold less than a_share
        # of revenue, so the top item is always A even when it alone exceeds a_share.
        before = (g.cum - g.revenue).cast("float64") / total
        g = g.mutate(
            revenue_share=rate(g.revenue, total),
            cumulative_share=rate(g.cum, total),
            abc_rank=ibis.cases(
                (before < params["a_share"], "A"), (before < params["b_share"], "B"), else_="C"
            ),
        )
        tail: tuple[str, ...] = ("revenue", "quantity", "orders", "customers")
        tail = (*tail, "revenue_share", "cumulative_share", "abc_rank")
        if level == "product":
            names = con.table("products").select("product_id", "name")
            return g.left_join(names, "product_id").select("rank_no", key, "name", *tail)
        return g.select("rank_no", key, *tail)

    return build


for _level, _ja, _en in (("product", "商品", "product"), ("category", "カテゴリ", "category")):
    register(
        Template(
            id=f"{_level}_sales_abc",
            category="product",
            name_ja=f"{_ja}別売上・ABC分析",
            name_en=f"Sales by {_en} with ABC rank",
            description_ja=f"期間内の{_ja}ごとの売上・数量・受注数・購入者数と売上構成比、"
            "累積構成比によるABCランク (既定: A 70%、B 90%)。",
            description_en=f"Revenue, units, orders and buyers per {_en} in the period, with "
            "revenue share and ABC rank by cumulative share (default A 70%, B 90%).",
            build=_abc(_level),
            params=ABC_PARAMS,
            chart=Chart("bar", x=LEVELS[_level], y=("revenue",), color="abc_rank"),
            order_by=("rank_no",),
        )
    )


def first_and_second(con: BaseBackend, params: Mapping[str, Any]) -> tuple[ibis.Table, Any]:
    """Customers' first and second purchase (order id and date), up to the reference date."""
    p, ref = purchases_until(con, params)
    n = numbered(p)
    first = n.filter(n.order_no == 1).select(
        "customer_id", first_order=n.order_id, first_date=n.order_date
    )
    second = n.filter(n.order_no == 2).select(
        "customer_id", second_order=n.order_id, second_date=n.order_date
    )
    return first.left_join(second, "customer_id").drop("customer_id_right"), (p, ref)


def _entry(level: str) -> Any:
    key = LEVELS[level]

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        c, (p, _) = first_and_second(con, params)
        if params.get("start") is not None:
            c = c.filter(c.first_date >= params["start"])
        if params.get("end") is not None:
            c = c.filter(c.first_date <= params["end"])
        items = lines(con, p)
        firsts = items.select("order_id", key).distinct()
        j = c.inner_join(firsts, c.first_order == firsts.order_id)
        j = j.mutate(
            f2=ibis.ifelse(
                j.second_date.notnull()
                & (days_between(j.second_date, j.first_date) <= params["days"]),
                1,
                0,
            ),
            repeat=ibis.ifelse(j.second_date.notnull(), 1, 0),
        )
        g = j.group_by(key).aggregate(
            new_customers=j.customer_id.nunique(),
            f2_customers=j.f2.sum(),
            repeat_customers=j.repeat.sum(),
        )
        return g.mutate(
            f2_rate=rate(g.f2_customers, g.new_customers),
            repeat_rate=rate(g.repeat_customers, g.new_customers),
        )

    return build


for _level, _ja, _en in (("product", "商品", "products"), ("category", "カテゴリ", "categories")):
    register(
        Template(
            id=f"entry_{_level}_f2",
            category="product",
            name_ja=f"入口{_ja}別F2転換率 (初回購入{_ja})",
            name_en=f"Entry {_en} and their F2 rate",
            description_ja=f"初回購入に含まれた{_ja}ごとの新規顧客数、N日以内の2回目購入率 "
            "(F2転換率) と基準日までのリピート率。",
            description_en=f"New customers per {_en[:-1]} in their first order, the share "
            "buying again within N days (F2) and by the reference date.",
            build=_entry(_level),
            params=(
                Param("start", "date", "初回購入日の開始", "First purchase from"),
                Param("end", "date", "初回購入日の終了", "First purchase until"),
                AS_OF,
                WITHIN_DAYS,
            ),
            chart=Chart("bar", x=LEVELS[_level], y=("f2_rate",)),
            order_by=("new_customers desc", LEVELS[_level]),
        )
    )


def _baskets(con: BaseBackend, p: ibis.Table, level: str) -> ibis.Table:
    """The distinct items (product or category) of each purchase in `p`."""
    if level == "product":
        # The product id is on the line itself: no need for the product master.
        items = con.table("order_items").select("order_id", item="product_id")
        items = items.semi_join(p.select("order_id"), "order_id")
    else:
        lines_ = lines(con, p)
        items = lines_.select("order_id", item=lines_[LEVELS[level]])
    return items.distinct()


def _cross_sell(level: str) -> Any:
    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        p, _ = purchases_until(con, params)
        p = in_period(p, params)
        baskets = _baskets(con, p, level)
        counts = baskets.group_by("item").aggregate(item_orders=baskets.count())
        # Support is a share of all the period's orders (order ids are unique). One row,
        # joined in once: a scalar subquery used by two columns would be computed twice.
        total = p.aggregate(n_orders=p.count())
        a = baskets.select(order_id="order_id", antecedent="item")
        b = baskets.select(order_b="order_id", consequent="item")
        # Count each unordered pair once (half the join), then read it in both directions.
        # Single-item orders find no partner; filtering them out first would cost a pass
        # over every order, more than they cost the join.
        pairs = a.inner_join(b, (a.order_id == b.order_b) & (a.antecedent < b.consequent))
        once = pairs.group_by(["antecedent", "consequent"]).aggregate(pair_orders=pairs.count())
        once = once.filter(once.pair_orders >= params["min_orders"])
        pg = once.union(
            once.select(
                antecedent=once.consequent,
                consequent=once.antecedent,
                pair_orders=once.pair_orders,
            )
        )
        ca = counts.select(antecedent="item", antecedent_orders="item_orders")
        cb = counts.select(consequent="item", consequent_orders="item_orders")
        r = pg.inner_join(ca, "antecedent").inner_join(cb, "consequent").cross_join(total)
        # Association rules: support P(A and B), confidence P(B | A), lift
        # P(B | A) / P(B); lift > 1 means bought together more than by chance.
        r = r.mutate(
            support=rate(r.pair_orders, r.n_orders),
            confidence=rate(r.pair_orders, r.antecedent_orders),
            lift=rate(r.pair_orders * r.n_orders, r.antecedent_orders * r.consequent_orders),
        )

        def rank(t: ibis.Table) -> list[Any]:
            return [ibis.desc(t.lift), ibis.desc(t.pair_orders), t.antecedent, t.consequent]

        # The top rules by a top-N (a bounded heap), not by numbering every rule first:
        # the order is total (the pair is part of it), so the top is the same either way.
        r = r.order_by(rank(r)).limit(params["top"])
        r = r.mutate(rule_no=ibis.row_number().over(ibis.window(order_by=rank(r))) + 1)
        return r.select(
            "rule_no",
            "antecedent",
            "consequent",
            "pair_orders",
            "antecedent_orders",
            "consequent_orders",
            "support",
            "confidence",
            "lift",
        )

    return build


for _level, _ja, _en in (("product", "商品", "products"), ("category", "カテゴリ", "categories")):
    register(
        Template(
            id=f"cross_sell_{_level}",
            category="product",
            name_ja=f"クロスセル分析 ({_ja})",
            name_en=f"Cross-sell analysis ({_en})",
            description_ja=f"同じ受注で一緒に買われた{_ja}の組み合わせ (A→B) の支持度 "
            "(期間内の全受注に占める割合)・確信度・リフト値。リフト値の高い順。",
            description_en=f"Association rules A -> B between {_en} bought in the same order: "
            "support (share of all the period's orders), confidence and lift, highest lift "
            "first.",
            build=_cross_sell(_level),
            params=(
                START,
                END,
                AS_OF,
                Param(
                    "min_orders",
                    "int",
                    "組み合わせの最小受注数",
                    "Minimum orders with the pair",
                    3,
                    minimum=1,
                ),
                Param("top", "int", "表示するルール数", "Rules to show", 100, minimum=1),
            ),
            chart=Chart("scatter", x="confidence", y=("lift",), color="antecedent"),
            order_by=("rule_no",),
        )
    )


def _flow(level: str) -> Any:
    key = LEVELS[level]

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        c, (p, _) = first_and_second(con, params)
        if params.get("start") is not None:
            c = c.filter(c.first_date >= params["start"])
        if params.get("end") is not None:
            c = c.filter(c.first_date <= params["end"])
        main = main_of_order(lines(con, p), key)
        m1 = main.select(first_order="order_id", from_item="main")
        m2 = main.select(second_order="order_id", to_item="main")
        j = c.inner_join(m1, "first_order").left_join(m2, "second_order")
        j = j.mutate(to_item=j.to_item.fill_null(NO_NEXT))
        g = j.group_by(["from_item", "to_item"]).aggregate(customers=j.customer_id.count())
        from_total = g.customers.sum().over(ibis.window(group_by=g.from_item))
        return g.mutate(share_of_from=rate(g.customers, from_total))

    return build


for _level, _ja, _en in (("product", "商品", "product"), ("category", "カテゴリ", "category")):
    register(
        Template(
            id=f"purchase_flow_{_level}",
            category="product",
            name_ja=f"購入フロー分析 ({_ja}: 初回→2回目)",
            name_en=f"Purchase flow ({_en}: first to second purchase)",
            description_ja=f"初回購入のメイン{_ja}から2回目購入のメイン{_ja}への顧客数と割合。"
            f"メイン{_ja}は受注内で金額が最大のもの。2回目がなければ「{NO_NEXT}」。",
            description_en=f"Customers flowing from the main {_en} of their first order to "
            f"that of their second (the {_en} with the largest amount); no second order is "
            f"'{NO_NEXT}'.",
            build=_flow(_level),
            params=(
                Param("start", "date", "初回購入日の開始", "First purchase from"),
                Param("end", "date", "初回購入日の終了", "First purchase until"),
                AS_OF,
            ),
            chart=Chart("heatmap", x="to_item", y=("from_item",), z="customers"),
            order_by=("from_item", "customers desc", "to_item"),
        )
    )


def _new_repeat(level: str) -> Any:
    key = LEVELS[level]

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        p, _ = purchases_until(con, params)
        n = numbered(p)
        items = lines(con, in_period(n, params))
        firsts = n.filter(n.order_no == 1).select(first_order="order_id")
        items = items.left_join(firsts, items.order_id == firsts.first_order)
        new = items.first_order.notnull()
        g = items.group_by(key).aggregate(
            buyers=items.customer_id.nunique(),
            new_buyers=ibis.ifelse(new, items.customer_id, None).nunique(),
            repeat_buyers=ibis.ifelse(new, None, items.customer_id).nunique(),
            new_revenue=ibis.ifelse(new, items.amount, 0).sum(),
            repeat_revenue=ibis.ifelse(new, 0, items.amount).sum(),
        )
        return g.mutate(
            revenue=g.new_revenue + g.repeat_revenue,
            new_buyer_share=rate(g.new_buyers, g.buyers),
        )

    return build


for _level, _ja, _en in (("product", "商品", "product"), ("category", "カテゴリ", "category")):
    register(
        Template(
            id=f"{_level}_new_repeat",
            category="product",
            name_ja=f"{_ja}別新規・リピート分析",
            name_en=f"New and repeat buyers by {_en}",
            description_ja=f"期間内に{_ja}を買った顧客を、その受注が初回購入だった新規と"
            "2回目以降のリピートに分けた人数・売上と新規比率 (新規 ÷ 購入者)。"
            "期間内に両方で買った顧客は両方に数える。",
            description_en=f"Buyers of each {_en} in the period split into new (the order "
            "was their first purchase) and repeat, with revenue and the new-buyer share "
            "(new / buyers); a customer who bought it both ways counts in both.",
            build=_new_repeat(_level),
            params=(START, END, AS_OF),
            chart=Chart("bar", x=LEVELS[_level], y=("new_buyers", "repeat_buyers")),
            order_by=("revenue desc", LEVELS[_level]),
        )
    )


def _customer_main(level: str) -> Any:
    key = LEVELS[level]

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        p, _ = purchases_until(con, params)
        items = lines(con, in_period(p, params))
        by = items.group_by(["customer_id", key]).aggregate(
            amount=items.amount.sum(),
            quantity=items.quantity.sum(),
            orders=items.order_id.nunique(),
        )
        total = by.amount.sum().over(ibis.window(group_by=by.customer_id))
        kinds = by[key].count().over(ibis.window(group_by=by.customer_id))
        w = ibis.window(group_by=by.customer_id, order_by=[ibis.desc(by.amount), by[key]])
        by = by.mutate(rn=ibis.row_number().over(w), total=total, kinds=kinds)
        m = by.filter(by.rn == 0)
        return m.select(
            "customer_id",
            **{f"main_{level}": m[key]},
            main_amount=m.amount,
            main_quantity=m.quantity,
            main_orders=m.orders,
            total_amount=m.total,
            main_share=rate(m.amount, m.total),
            **{f"{level}_count": m.kinds},
        )

    return build


for _level, _ja, _en in (("product", "商品", "product"), ("category", "カテゴリ", "category")):
    register(
        Template(
            id=f"customer_main_{_level}",
            category="product",
            name_ja=(
                "顧客別メイン購入商品分析"
                if _level == "product"
                else "顧客別メイン購入属性分析 (カテゴリ)"
            ),
            name_en=f"Main {_en} by customer",
            description_ja=f"顧客ごとに期間内の購入金額が最大の{_ja} (同額は{_ja}IDの順) と、"
            f"その金額・数量・受注数・購入金額に占める割合、購入した{_ja}の種類数。",
            description_en=f"Per customer, the {_en} with the largest amount in the period "
            f"(ties by id), its amount, units, orders and share of spend, and how many "
            f"{_en}s the customer bought.",
            build=_customer_main(_level),
            params=(START, END, AS_OF),
            order_by=("customer_id",),
        )
    )


def _repurchase(level: str) -> Any:
    key = LEVELS[level]

    def build(con: BaseBackend, params: Mapping[str, Any]) -> ibis.Table:
        """Customers who bought the item on two or more distinct orders."""
        p, _ = purchases_until(con, params)
        items = lines(con, in_period(p, params))
        per = items.select("customer_id", "order_id", "order_date", key).distinct()
        w = ibis.window(
            group_by=[per.customer_id, per[key]], order_by=[per.order_date, per.order_id]
        )
        per = per.mutate(gap=days_between(per.order_date, per.order_date.lag().over(w)))
        c = per.group_by(["customer_id", key]).aggregate(
            orders=per.order_id.count(), first_gap=per.gap.min()
        )
        gaps = per.filter(per.gap.notnull())
        med = gaps.group_by(key).aggregate(median_days_between=gaps.gap.median().cast("float64"))
        g = c.group_by(key).aggregate(
            buyers=c.customer_id.count(),
            repurchasers=ibis.ifelse(c.orders >= 2, 1, 0).sum(),
        )
        g = g.left_join(med, key).drop(f"{key}_right")
        return g.mutate(repurchase_rate=rate(g.repurchasers, g.buyers))

    return build


for _level, _ja, _en in (("product", "商品", "product"), ("category", "カテゴリ", "category")):
    register(
        Template(
            id=f"{_level}_repurchase",
            category="product",
            name_ja=f"{_ja}別リピート購入率 (同じ{_ja}の再購入)",
            name_en=f"Repurchase rate by {_en}",
            description_ja=f"期間内に{_ja}を買った顧客のうち、同じ{_ja}を別の受注で2回以上"
            "買った割合と、再購入までの日数の中央値。",
            description_en=f"Of the customers who bought each {_en} in the period, the share "
            "who bought it again on another order, and the median days between the two.",
            build=_repurchase(_level),
            params=(START, END, AS_OF),
            chart=Chart("bar", x=LEVELS[_level], y=("repurchase_rate",)),
            order_by=("buyers desc", LEVELS[_level]),
        )
    )
