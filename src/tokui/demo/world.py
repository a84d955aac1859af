"""The whole simulated shop: draw every part, then lay it out as warehouse tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokui.demo.calendar import Calendar
from tokui.demo.catalog import CATEGORIES, Catalog, ProductPicker, build_catalog
from tokui.demo.config import PERSONAS, SimConfig
from tokui.demo.customers import Customers, _ids, customers_table, make_customers
from tokui.demo.names import PREFECTURES
from tokui.demo.orders import (
    TEIKI_CODE,
    WELCOME_CODE,
    Orders,
    PointLedger,
    build_orders,
    labels,
    spend_points,
)
from tokui.demo.purchases import Purchases, build_purchases
from tokui.demo.subscriptions import (
    CYCLE_INTERVAL,
    CYCLE_LABEL,
    CYCLE_UNIT,
    Subscriptions,
    build_subscriptions,
)
from tokui.demo.web import WebEvents, build_web_events, web_table

# New streams go at the end: SeedSequence.spawn gives the first ones the same seeds
# whatever the count, so adding one leaves every existing table as it was.
STREAMS = (
    "catalog",
    "customers",
    "purchases",
    "subscriptions",
    "orders",
    "web",
    "tables",
    "ids",
    "profile",
    "stock",
)
PROFILE_UPDATE_SHARE = 0.15  # members who change their details (address...) at some point


class Tables(dict[str, pa.Table]):
    """Warehouse tables of a world; the biggest are built on first use, not up front."""

    def __init__(self) -> None:
        super().__init__()
        self.builders: dict[str, Callable[[], pa.Table]] = {}
        self.chunkers: dict[str, Callable[[int], Iterator[pa.Table]]] = {}

    def __missing__(self, key: str) -> pa.Table:
        if key not in self.builders:
            raise KeyError(key)
        value = self.builders[key]()
        self[key] = value
        return value

    def take(self, key: str) -> pa.Table:
        """The table, without keeping it in the world (to load and forget)."""
        return self.pop(key) if key in self else self.builders[key]()

    def chunks(self, key: str, size: int) -> Iterator[pa.Table]:
        """The table in pieces of `size` rows, for tables too big to hold at once."""
        if key in self or key not in self.chunkers:
            yield self.take(key)
            return
        yield from self.chunkers[key](size)


@dataclass
class World:
    config: SimConfig
    calendar: Calendar
    catalog: Catalog
    customers: Customers
    purchases: Purchases
    subscriptions: Subscriptions
    orders: Orders
    points: PointLedger
    web: WebEvents
    inactive_t: np.ndarray  # when each customer became inactive (inf: still active)
    tables: Tables = field(default_factory=Tables)
    truth: dict[str, pa.Table] = field(default_factory=dict)


def simulate(config: SimConfig) -> World:
    """Draw a shop. Same config, same world: every random stream derives from the seed."""
    seeds = np.random.SeedSequence(config.seed).spawn(len(STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(STREAMS, seeds, strict=True)}
    cal = Calendar(config.start_date, config.days)
    catalog = build_catalog(rng["catalog"], cal, config.new_products_per_month)
    picker = ProductPicker(catalog)
    customers = make_customers(rng["customers"], config, cal)
    purchases = build_purchases(rng["purchases"], config, cal, customers, catalog, picker)
    subs = build_subscriptions(rng["subscriptions"], config, cal, customers, purchases, catalog)
    orders = build_orders(rng["orders"], config, cal, customers, purchases, subs)
    points = spend_points(config, cal, customers, orders)
    counts = np.bincount(purchases.customer, minlength=len(customers))
    last = np.full(len(customers), -np.inf)
    np.maximum.at(last, purchases.customer, purchases.t)
    dropped = (counts > 0) & (counts >= customers.purchases_until_dropout)
    inactive_t = np.where(dropped, last, np.inf)
    web = build_web_events(
        rng["web"],
        config,
        cal,
        customers,
        purchases,
        orders,
        subs,
        catalog,
        picker,
        inactive_t,
        waiting_rng=rng["stock"],
    )
    world = World(config, cal, catalog, customers, purchases, subs, orders, points, web, inactive_t)
    _lay_out(world, rng["tables"], rng["ids"])
    _profile_updates(world, rng["profile"])
    _stock_events(world)
    return world


def _profile_updates(w: World, rng: np.random.Generator) -> None:
    """Some members change their details after registering (an address, a phone):
    customers.updated_at is then the time of the last change (the attribute-change
    scenario triggers on it); for the rest it stays the registration time."""
    c, cal = w.customers, w.calendar
    days = float(cal.days)
    # at least an hour after registering, and before the end of the simulation
    span = np.maximum(days - c.reg_day - 1 / 24, 0.0)
    changed = (rng.random(len(c)) < PROFILE_UPDATE_SHARE) & (span > 0)
    when = c.reg_day + 1 / 24 + rng.random(len(c)) * span
    t = np.where(changed, when, c.reg_day)
    table = w.tables["customers"]
    i = table.column_names.index("updated_at")
    w.tables["customers"] = table.set_column(i, "updated_at", pa.array(cal.to_utc(t)))


def _stock_events(w: World) -> None:
    """Each stock-out of the catalogue that began before the end, and its restock if the
    product came back before the end."""
    cat, cal = w.catalog, w.calendar
    days = float(cal.days)
    out = np.flatnonzero(cat.stockout_from < days)
    back = out[cat.stockout_to[out] < days]
    product = np.concatenate([out, back])
    t = np.concatenate([cat.stockout_from[out], cat.stockout_to[back]])
    kind = np.concatenate(
        [
            np.full(len(out), "out_of_stock", dtype=object),
            np.full(len(back), "restock", dtype=object),
        ]
    )
    qty = np.concatenate([np.zeros(len(out), np.int64), cat.stock_quantity[back]])
    srt = np.lexsort((product, t))
    unknown = (kind[srt] == "restock") & (qty[srt] <= 0)
    w.tables["stock_events"] = pa.table(
        {
            "event_id": _seq("ST", len(t), 7),
            "product_id": pa.array(cat.product_id).take(pa.array(product[srt], type=pa.int64())),
            "occurred_at": pa.array(cal.to_utc(t[srt]), type=pa.timestamp("us")),
            "event_type": pa.array(kind[srt], type=pa.string()),
            "quantity": pa.array(qty[srt], type=pa.int64(), mask=unknown),
        }
    )


def _seq(prefix: str, n: int, width: int) -> pa.Array:
    return _ids(prefix, n, width)


def _lay_out(w: World, rng: np.random.Generator, id_rng: np.random.Generator) -> None:
    cal, c, cat, p, s, o = (
        w.calendar,
        w.customers,
        w.catalog,
        w.purchases,
        w.subscriptions,
        w.orders,
    )
    n_c = len(c)
    customer_ids = pa.array(c.customer_id)
    order_ids = _seq("O", len(o), 10)
    sub_ids = _seq("SUB", len(s), 8)
    product_ids = pa.array(cat.product_id)
    days = float(cal.days)

    # the cart's own rank, from the last 365 days (the warehouse recomputes its own too)
    recent = (o.t >= days - 365) & (o.status == "completed")
    revenue = np.bincount(o.customer[recent], weights=o.total[recent], minlength=n_c)
    n_recent = np.bincount(o.customer[recent], minlength=n_c)
    rank = np.where(
        revenue >= 50_000,
        "gold",
        np.where(n_recent >= 2, "silver", np.where(n_recent >= 1, "bronze", "regular")),
    ).astype(object)
    w.tables["products"] = cat.to_arrow(cal)
    w.tables["customers"] = customers_table(rng, c, cal, rank)

    # orders
    one = o.kind == 0
    sub_of_order = np.full(len(o), -1)
    sub_of_order[~one] = s.d_sub[o.source[~one]]
    gift = np.zeros(len(o), bool)
    gift[one] = p.gift_order[o.source[one]]
    pref = c.prefecture[o.customer]
    pref = np.where(gift, rng.integers(len(PREFECTURES), size=len(o)), pref)
    channel = np.where(
        one,
        rng.choice(
            np.array(["web", "app", "phone", "line"], dtype=object),
            len(o),
            p=[0.68, 0.22, 0.04, 0.06],
        ),
        "subscription",
    ).astype(object)
    payment = rng.choice(
        np.array(
            ["credit_card", "convenience_store", "cash_on_delivery", "amazon_pay", "bank_transfer"],
            dtype=object,
        ),
        len(o),
        p=[0.6, 0.14, 0.1, 0.11, 0.05],
    )
    sub_mask = sub_of_order < 0
    w.tables["orders"] = pa.table(
        {
            "order_id": order_ids,
            "customer_id": customer_ids.take(pa.array(o.customer)),
            "ordered_at": cal.to_utc(o.t),
            "status": o.status,
            "channel": channel,
            "subtotal": o.subtotal,
            "discount": o.discount,
            "shipping_fee": o.shipping,
            "points_used": o.points_used,
            "total": o.total,
            "points_earned": o.points_earned,
            "coupon_code": pa.array(o.coupon, type=pa.string()),
            "subscription_id": sub_ids.take(pa.array(np.maximum(sub_of_order, 0), mask=sub_mask)),
            "payment_method": payment,
            "shipping_prefecture": np.array([x[0] for x in PREFECTURES], dtype=object)[pref],
            "is_gift": gift,
        }
    )

    # order lines: one-off baskets, and one line per subscription delivery
    order_of_purchase = np.empty(len(p.t), np.int64)
    order_of_purchase[o.source[one]] = np.flatnonzero(one)
    l_order = order_of_purchase[p.line_order]
    l_no = (
        np.arange(len(p.line_order)) - np.searchsorted(p.line_order, p.line_order, side="left") + 1
    )
    sub_orders = np.flatnonzero(~one)
    sub_prod = s.product[sub_of_order[sub_orders]]
    all_order = np.concatenate([l_order, sub_orders])
    all_prod = np.concatenate([p.line_product, sub_prod])
    all_qty = np.concatenate([p.line_qty, s.quantity[sub_of_order[sub_orders]]]).astype(np.int32)
    all_unit = np.concatenate([cat.price[p.line_product], s.unit_price[sub_of_order[sub_orders]]])
    all_amount = np.concatenate([p.line_amount, o.subtotal[sub_orders]])
    all_no = np.concatenate([l_no, np.ones(len(sub_orders), np.int64)]).astype(np.int32)
    srt = np.lexsort((all_no, all_order))
    cats = np.array(CATEGORIES, dtype=object)
    w.tables["order_items"] = pa.table(
        {
            "order_id": order_ids.take(pa.array(all_order[srt])),
            "line_no": all_no[srt],
            "product_id": product_ids.take(pa.array(all_prod[srt])),
            "product_name": pa.array(cat.name).take(pa.array(all_prod[srt])),
            "category": cats[cat.category[all_prod[srt]]],
            "quantity": all_qty[srt],
            "unit_price": all_unit[srt],
            "amount": all_amount[srt],
        }
    )

    # subscriptions, deliveries (with the next scheduled one) and changes
    active = ~s.cancelled
    w.tables["subscriptions"] = pa.table(
        {
            "subscription_id": sub_ids,
            "customer_id": customer_ids.take(pa.array(s.customer)),
            "product_id": product_ids.take(pa.array(s.product)),
            "quantity": s.quantity,
            "unit_price": s.unit_price,
            "cycle_unit": CYCLE_UNIT[s.cycle],
            "cycle_interval": CYCLE_INTERVAL[s.cycle],
            "status": np.where(active, "active", "cancelled").astype(object),
            "started_at": cal.to_utc(s.start),
            "cancelled_at": pa.array(cal.to_utc(np.where(active, 0, s.cancel_t)), mask=active),
            "cancel_reason": pa.array(s.cancel_reason, type=pa.string()),
            "next_delivery_on": pa.array(cal.to_date(np.where(active, s.next_t, 0)), mask=~active),
            "updated_at": cal.to_utc(
                np.where(active, s.start, np.where(np.isfinite(s.cancel_t), s.cancel_t, 0))
            ),
        }
    )
    order_of_delivery = np.full(len(s.d_sub), -1)
    order_of_delivery[o.source[~one]] = sub_orders
    shipped = ~s.d_skipped
    last_number = np.zeros(len(s), np.int32)
    np.maximum.at(last_number, s.d_sub, s.d_number)
    nxt = np.flatnonzero(active)
    d_sub = np.concatenate([s.d_sub, nxt])
    d_no = np.concatenate([s.d_number, last_number[nxt] + 1]).astype(np.int32)
    d_t = np.concatenate([s.d_t, s.next_t[nxt]])
    d_status = np.concatenate(
        [
            np.where(shipped, "shipped", "skipped").astype(object),
            np.full(len(nxt), "scheduled", dtype=object),
        ]
    )
    d_order = np.concatenate([order_of_delivery, np.full(len(nxt), -1)])
    has_order = d_order >= 0
    ship_t = np.where(d_no == 1, d_t, np.floor(d_t) + 0.25)
    srt = np.lexsort((d_no, d_sub))
    w.tables["subscription_deliveries"] = pa.table(
        {
            "subscription_id": sub_ids.take(pa.array(d_sub[srt])),
            "delivery_number": d_no[srt],
            "scheduled_on": cal.to_date(d_t[srt]),
            "status": d_status[srt],
            "shipped_at": pa.array(cal.to_utc(ship_t[srt]), mask=~has_order[srt]),
            "order_id": order_ids.take(pa.array(np.maximum(d_order[srt], 0), mask=~has_order[srt])),
            "amount": pa.array(
                np.where(has_order, o.total[np.maximum(d_order, 0)], 0)[srt], mask=~has_order[srt]
            ),
        }
    )
    cancelled = np.flatnonzero(s.cancelled)
    e_sub = np.concatenate([np.arange(len(s)), s.e_sub, cancelled])
    e_t = np.concatenate([s.start, s.e_t, s.cancel_t[cancelled]])
    e_type = np.concatenate(
        [
            np.full(len(s), "start", dtype=object),
            s.e_type,
            np.full(len(cancelled), "cancel", dtype=object),
        ]
    )
    e_old = np.concatenate(
        [np.full(len(s), None, dtype=object), s.e_old, np.full(len(cancelled), None, dtype=object)]
    )
    e_new = np.concatenate(
        [CYCLE_LABEL[s.first_cycle], s.e_new, np.full(len(cancelled), None, dtype=object)]
    )
    e_reason = np.concatenate(
        [
            labels(s.first_offer, "初回限定オファー"),
            np.full(len(s.e_sub), None, dtype=object),
            s.cancel_reason[cancelled],
        ]
    )
    srt = np.argsort(e_t, kind="stable")
    w.tables["subscription_events"] = pa.table(
        {
            "event_id": _seq("SE", len(e_t), 9),
            "subscription_id": sub_ids.take(pa.array(e_sub[srt])),
            "occurred_at": cal.to_utc(e_t[srt]),
            "event_type": e_type[srt],
            "old_value": pa.array(e_old[srt], type=pa.string()),
            "new_value": pa.array(e_new[srt], type=pa.string()),
            "reason": pa.array(e_reason[srt], type=pa.string()),
        }
    )

    anon_hex = id_rng.integers(0, 2**63, size=(n_c, 2), dtype=np.int64)
    anon_ids = pa.array([f"a{a:016x}{b:08x}" for a, b in anon_hex.tolist()])
    w.tables.builders["web_events"] = lambda: web_table(w.web, cal, customer_ids, anon_ids, cat)

    def web_chunks(size: int) -> Iterator[pa.Table]:
        for start in range(0, max(len(w.web), 1), size):
            part = w.web.slice(start, start + size)
            yield web_table(part, cal, customer_ids, anon_ids, cat, first_number=start + 1)

    w.tables.chunkers["web_events"] = web_chunks

    # points
    pt = w.points
    srt = np.argsort(pt.t, kind="stable")
    reason = {"earn": "購入ポイント", "use": "ポイント利用", "expire": "有効期限切れ"}
    has_order = pt.order[srt] >= 0
    is_earn = pt.kind[srt] == "earn"
    w.tables["point_transactions"] = pa.table(
        {
            "transaction_id": _seq("PT", len(pt.t), 10),
            "customer_id": customer_ids.take(pa.array(pt.customer[srt])),
            "occurred_at": cal.to_utc(pt.t[srt]),
            "kind": pt.kind[srt],
            "points": pt.points[srt].astype(np.int64),
            "expires_on": pa.array(
                cal.to_date(np.where(is_earn, pt.expires_t[srt], 0)), mask=~is_earn
            ),
            "order_id": order_ids.take(pa.array(np.maximum(pt.order[srt], 0), mask=~has_order)),
            "reason": np.vectorize(reason.__getitem__, otypes=[object])(pt.kind[srt])
            if len(srt)
            else np.array([], dtype=object),
        }
    )

    # coupons: the welcome coupon every new member gets, and the first-delivery offer
    start_ts = cal.to_utc(np.array([-30.0]))[0].astype("datetime64[us]").item()
    w.tables["coupons"] = pa.table(
        {
            "coupon_id": [WELCOME_CODE, TEIKI_CODE],
            "name": ["新規会員様 500円OFFクーポン", "定期便 初回50%OFF"],
            "discount_type": ["amount", "percent"],
            "discount_value": [500, 50],
            "min_order_amount": [3000, None],
            "valid_from": pa.array([start_ts, start_ts], type=pa.timestamp("us")),
            "valid_until": pa.array([None, None], type=pa.timestamp("us")),
            "created_at": pa.array([start_ts, start_ts], type=pa.timestamp("us")),
        }
    )
    used_order = np.full(n_c, -1)
    wu = np.flatnonzero(o.welcome_used)
    used_order[o.customer[wu]] = wu
    used = used_order >= 0
    w.tables["coupon_grants"] = pa.table(
        {
            "grant_id": _seq("G", n_c, 8),
            "coupon_id": pc.fill_null(pa.nulls(n_c, pa.string()), WELCOME_CODE),
            "customer_id": customer_ids,
            "code": pc.binary_join_element_wise(pa.scalar("W-"), customer_ids, ""),
            "granted_at": cal.to_utc(c.reg_day),
            "expires_at": cal.to_utc(c.reg_day + 30),
            "used_at": pa.array(
                cal.to_utc(np.where(used, o.t[np.maximum(used_order, 0)], 0)), mask=~used
            ),
            "order_id": order_ids.take(pa.array(np.maximum(used_order, 0), mask=~used)),
            "source": pc.fill_null(pa.nulls(n_c, pa.string()), "welcome"),
        }
    )
    _truth(w, customer_ids, sub_ids)


def _truth(w: World, customer_ids: pa.Array, sub_ids: pa.Array) -> None:
    c, cal, s = w.customers, w.calendar, w.subscriptions
    counts = np.bincount(w.purchases.customer, minlength=len(c))
    first = np.full(len(c), np.inf)
    np.minimum.at(first, w.purchases.customer, w.purchases.t)
    bought = np.isfinite(first)
    alive = bought & ~np.isfinite(w.inactive_t)
    # integrated demand while the customer could buy again: the expected number of repeat
    # purchases given the true rate (optional stopping of the Poisson martingale)
    stop = np.where(np.isfinite(w.inactive_t), w.inactive_t, float(cal.days))
    exposure = np.where(
        bought,
        c.rate * cal.integral(c.persona.astype(np.int64), np.where(bought, first, 0.0), stop),
        0.0,
    )
    w.truth["customers"] = pa.table(
        {
            "customer_id": customer_ids,
            "persona": np.array(PERSONAS, dtype=object)[c.persona],
            "planned_buyer": c.buyer,
            "first_purchase_at": pa.array(cal.to_utc(np.where(bought, first, 0)), mask=~bought),
            "one_off_orders": counts.astype(np.int64),
            "rate_per_day": c.rate,
            "dropout_p": c.dropout,
            "purchases_until_dropout": c.purchases_until_dropout.astype(np.int64),
            "alive_at_end": alive,
            "inactive_at": pa.array(
                cal.to_utc(np.where(np.isfinite(w.inactive_t), w.inactive_t, 0)),
                mask=~np.isfinite(w.inactive_t),
            ),
            "expected_repeats": exposure,
            "mean_spend": c.mean_spend,
            "favourite_category": np.array(CATEGORIES, dtype=object)[c.favourite],
            "point_user": c.point_user,
        }
    )
    w.truth["subscriptions"] = pa.table(
        {
            "subscription_id": sub_ids,
            "churn_theta": s.theta,
            "skip_p": s.skip_p,
            "first_offer": s.first_offer,
        }
    )
    w.truth["deliveries"] = pa.table(
        {
            "subscription_id": sub_ids.take(pa.array(s.d_sub)),
            "delivery_number": s.d_number,
            "skipped": s.d_skipped,
            "hazard": s.d_hazard,
            "cancelled_after": s.d_cancelled_after,
        }
    )
