"""Web behaviour from the tracking tag: sessions consistent with what customers buy.

Only the last `web_days` days are generated (a shop's tag is younger than the shop).
Every one-off order has a session that views and carts its products; abandoned cart
sessions come at `cart_abandonment / (1 - cart_abandonment)` per ordering session;
active customers browse at a persona rate; people about to cancel a subscription visit
less; some come for a product while it is out of stock (they view it and often favourite
it, to hear when it is back); visitors browse anonymously before registering and keep
their cookie after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokui.demo.calendar import Calendar
from tokui.demo.catalog import CATEGORIES, Catalog, ProductPicker
from tokui.demo.config import PERSONA_MODELS, PERSONAS, SimConfig
from tokui.demo.customers import Customers
from tokui.demo.orders import Orders
from tokui.demo.purchases import OTHER_CATS, OTHER_WEIGHTS, Purchases
from tokui.demo.subscriptions import Subscriptions

EVENT_TYPES = (
    "page_view",
    "product_view",
    "category_view",
    "search",
    "cart_add",
    "cart_remove",
    "favorite",
    "login",
)
PV, PRODUCT, CATEGORY, SEARCH, CART_ADD, CART_REMOVE, FAVORITE, LOGIN = range(8)
SEARCH_WORDS = np.array(
    [
        "ギフト",
        "お中元",
        "お歳暮",
        "和牛",
        "蟹",
        "いちご",
        "お米",
        "定期便",
        "送料無料",
        "スイーツ",
        "無添加",
        "有機",
        "おせち",
        "母の日",
        "チーズ",
        "コーヒー",
    ],
    dtype=object,
)
MINUTE = 1.0 / 1440.0
WAITERS_PER_1000 = 15.0  # active customers per 1,000 who look for a product in a 30-day stock-out
WAITER_FAVOURITES = 0.4  # share of them who favourite it (入荷待ち)


@dataclass
class WebEvents:
    t: np.ndarray
    kind: np.ndarray  # index into EVENT_TYPES
    customer: np.ndarray  # -1 before the visitor registered
    anon_of: np.ndarray  # customer whose cookie this is
    session: np.ndarray
    product: np.ndarray  # -1 none
    category: np.ndarray  # -1 none
    query: np.ndarray  # -1 none
    quantity: np.ndarray  # 0 none
    cart_session_kind: np.ndarray  # per session: 0 ordered, 1 abandoned cart, 2 browse, 3 anon

    def __len__(self) -> int:
        return len(self.t)

    def slice(self, start: int, stop: int) -> WebEvents:
        """A view of events [start, stop), for loading in chunks."""
        return WebEvents(
            t=self.t[start:stop],
            kind=self.kind[start:stop],
            customer=self.customer[start:stop],
            anon_of=self.anon_of[start:stop],
            session=self.session[start:stop],
            product=self.product[start:stop],
            category=self.category[start:stop],
            query=self.query[start:stop],
            quantity=self.quantity[start:stop],
            cart_session_kind=self.cart_session_kind,
        )


class _Builder:
    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {
            k: []
            for k in (
                "t",
                "kind",
                "customer",
                "anon",
                "session",
                "product",
                "category",
                "query",
                "qty",
            )
        }
        self.session_kinds: list[np.ndarray] = []
        self.n_sessions = 0

    def sessions(self, kinds: np.ndarray) -> np.ndarray:
        ids = np.arange(self.n_sessions, self.n_sessions + len(kinds))
        self.n_sessions += len(kinds)
        self.session_kinds.append(kinds)
        return ids

    def add(
        self,
        t: np.ndarray,
        kind: int | np.ndarray,
        customer: np.ndarray,
        anon: np.ndarray,
        session: np.ndarray,
        product: np.ndarray | None = None,
        category: np.ndarray | None = None,
        query: np.ndarray | None = None,
        qty: np.ndarray | None = None,
    ) -> None:
        n = len(t)
        # int32 indices: tens of millions of events at 1M customers must fit in memory
        none = np.full(n, -1, dtype=np.int32)
        self.cols["t"].append(t)
        self.cols["kind"].append(np.broadcast_to(np.asarray(kind, dtype=np.int8), (n,)).copy())
        self.cols["customer"].append(customer.astype(np.int32))
        self.cols["anon"].append(anon.astype(np.int32))
        self.cols["session"].append(session.astype(np.int32))
        self.cols["product"].append(none if product is None else product.astype(np.int32))
        self.cols["category"].append(none if category is None else category.astype(np.int32))
        self.cols["query"].append(none if query is None else query.astype(np.int32))
        self.cols["qty"].append(np.zeros(n, np.int32) if qty is None else qty.astype(np.int32))

    def build(self) -> WebEvents:
        order = np.argsort(np.concatenate(self.cols["t"]), kind="stable")
        c: dict[str, np.ndarray] = {}
        for k in list(self.cols):
            # one column at a time, freeing the parts, keeps the peak near one copy
            c[k] = np.concatenate(self.cols.pop(k))[order]
        return WebEvents(
            t=c["t"],
            kind=c["kind"],
            customer=c["customer"],
            anon_of=c["anon"],
            session=c["session"],
            product=c["product"],
            category=c["category"],
            query=c["query"],
            quantity=c["qty"],
            cart_session_kind=np.concatenate(self.session_kinds),
        )


def build_web_events(
    rng: np.random.Generator,
    cfg: SimConfig,
    cal: Calendar,
    c: Customers,
    p: Purchases,
    o: Orders,
    s: Subscriptions,
    catalog: Catalog,
    picker: ProductPicker,
    inactive_t: np.ndarray,
    waiting_rng: np.random.Generator | None = None,
) -> WebEvents:
    days = float(cal.days)
    w0 = max(0.0, days - cfg.web_days)
    b = _Builder()

    # 1. sessions that end in a one-off order: view and cart every line, then order
    in_window = np.flatnonzero(p.t >= w0 + 0.05)
    sess = b.sessions(np.zeros(len(in_window), np.int8))
    cust = p.customer[in_window]
    lines_per = np.bincount(p.line_order, minlength=len(p.t))[in_window]
    start_t = p.t[in_window] - (2 * lines_per + 2) * MINUTE
    b.add(start_t, LOGIN, cust, cust, sess)
    line_mask = np.isin(p.line_order, in_window)
    lines = np.flatnonzero(line_mask)
    pos = np.searchsorted(in_window, p.line_order[lines])
    first_line = np.searchsorted(p.line_order, p.line_order[lines], side="left")
    k = lines - first_line
    lt = start_t[pos] + (1 + 2 * k) * MINUTE
    prod = p.line_product[lines]
    b.add(
        lt, PRODUCT, cust[pos], cust[pos], sess[pos], product=prod, category=catalog.category[prod]
    )
    b.add(
        lt + 0.5 * MINUTE,
        CART_ADD,
        cust[pos],
        cust[pos],
        sess[pos],
        product=prod,
        category=catalog.category[prod],
        qty=p.line_qty[lines],
    )

    # 2. abandoned carts around ordering sessions
    ratio = cfg.cart_abandonment / (1.0 - cfg.cart_abandonment)
    n_ab = rng.poisson(ratio, len(in_window))
    owner = np.repeat(np.arange(len(in_window)), n_ab)
    ab_cust = cust[owner]
    gap = rng.uniform(0.05, 30.0, len(owner))
    order_t = p.t[in_window][owner]
    ab_t = order_t - gap
    # someone who ordered right after registering abandons carts after the order instead
    early = ab_t <= c.reg_day[ab_cust] + 0.01
    ab_t = np.where(early, order_t + gap, ab_t)
    ok = (ab_t >= w0) & (ab_t < days)
    ab_cust, ab_t = ab_cust[ok], ab_t[ok]
    sess = b.sessions(np.ones(len(ab_t), np.int8))
    cats = rng.choice(OTHER_CATS, size=len(ab_t), p=OTHER_WEIGHTS)
    prod = picker.pick(rng, cats, rng.random(len(ab_t)) < 0.2, ab_t)
    b.add(ab_t, PRODUCT, ab_cust, ab_cust, sess, product=prod, category=catalog.category[prod])
    b.add(
        ab_t + MINUTE,
        CART_ADD,
        ab_cust,
        ab_cust,
        sess,
        product=prod,
        category=catalog.category[prod],
        qty=rng.integers(1, 3, len(ab_t)),
    )
    rm = rng.random(len(ab_t)) < 0.25
    b.add(
        ab_t[rm] + 3 * MINUTE,
        CART_REMOVE,
        ab_cust[rm],
        ab_cust[rm],
        sess[rm],
        product=prod[rm],
        category=catalog.category[prod[rm]],
        qty=np.ones(int(rm.sum())),
    )

    # 3. browsing: active customers at a persona rate, subscribers while subscribed
    visit = np.array([PERSONA_MODELS[name].visit_per_purchase for name in PERSONAS])
    rate = np.where(c.buyer, visit[c.persona] * c.rate, 0.01)
    lo = np.maximum(w0, c.reg_day)
    hi = np.minimum(days, inactive_t + 14.0)
    span = np.maximum(hi - lo, 0.0)
    n_b = rng.poisson(rate * span)
    bc = np.repeat(np.arange(len(c)), n_b)
    bt = lo[bc] + rng.random(len(bc)) * span[bc]
    sub_lo = np.maximum(w0, s.start)
    sub_hi = np.minimum(days, s.cancel_t)
    sub_span = np.maximum(sub_hi - sub_lo, 0.0)
    n_s = rng.poisson(sub_span / 10.0)
    sidx = np.repeat(np.arange(len(s)), n_s)
    bc = np.concatenate([bc, s.customer[sidx]])
    bt = np.concatenate([bt, sub_lo[sidx] + rng.random(len(sidx)) * sub_span[sidx]])
    # visits fall off in the 60 days before a subscription is cancelled
    cancel_of = np.full(len(c), np.inf)
    np.minimum.at(cancel_of, s.customer[s.cancelled], s.cancel_t[s.cancelled])
    before = (bt >= cancel_of[bc] - 60.0) & (bt < cancel_of[bc])
    keep = ~before | (rng.random(len(bt)) < cfg.churn_visit_drop)
    bc, bt = bc[keep], bt[keep]
    bt = np.floor(bt) + (bt - np.floor(bt)) * 0.98
    sess = b.sessions(np.full(len(bt), 2, np.int8))
    login = rng.random(len(bt)) < 0.5
    b.add(bt[login], LOGIN, bc[login], bc[login], sess[login])
    b.add(bt + 0.2 * MINUTE, PV, bc, bc, sess)
    fav_cat = np.where(
        c.persona[bc] == PERSONAS.index("ingredient_lover"),
        c.favourite[bc],
        rng.choice(OTHER_CATS, size=len(bc), p=OTHER_WEIGHTS),
    )
    b.add(bt + MINUTE, CATEGORY, bc, bc, sess, category=fav_cat)
    n_pv = rng.integers(1, 4, len(bt))
    pv_owner = np.repeat(np.arange(len(bt)), n_pv)
    pv_rank = np.arange(len(pv_owner)) - np.searchsorted(pv_owner, pv_owner, side="left")
    pv_t = bt[pv_owner] + (2 + pv_rank) * MINUTE
    pv_prod = picker.pick(rng, fav_cat[pv_owner], rng.random(len(pv_owner)) < 0.2, pv_t)
    b.add(
        pv_t,
        PRODUCT,
        bc[pv_owner],
        bc[pv_owner],
        sess[pv_owner],
        product=pv_prod,
        category=catalog.category[pv_prod],
    )
    srch = rng.random(len(bt)) < 0.25
    b.add(
        bt[srch] + 0.5 * MINUTE,
        SEARCH,
        bc[srch],
        bc[srch],
        sess[srch],
        query=rng.integers(len(SEARCH_WORDS), size=int(srch.sum())),
    )
    fav = rng.random(len(pv_owner)) < 0.05
    b.add(
        pv_t[fav] + 0.3 * MINUTE,
        FAVORITE,
        bc[pv_owner[fav]],
        bc[pv_owner[fav]],
        sess[pv_owner[fav]],
        product=pv_prod[fav],
        category=catalog.category[pv_prod[fav]],
    )
    # favourites of products that are out of stock now: restock alerts have an audience
    out_now = np.flatnonzero(catalog.final_status == "out_of_stock")
    if len(out_now):
        late = np.flatnonzero(bt > days - 30)
        pick = late[rng.random(len(late)) < 0.03]
        op = out_now[rng.integers(len(out_now), size=len(pick))]
        b.add(
            bt[pick] + 5 * MINUTE,
            FAVORITE,
            bc[pick],
            bc[pick],
            sess[pick],
            product=op,
            category=catalog.category[op],
        )

    if waiting_rng is not None:
        _waiting(b, waiting_rng, catalog, c, w0, days, inactive_t)

    # 4. anonymous visits before registering, with the cookie kept afterwards
    new = np.flatnonzero(c.reg_day >= w0 + 3)
    n_anon = rng.integers(0, 3, len(new))
    ac = np.repeat(new, n_anon)
    at = c.reg_day[ac] - rng.uniform(0.01, 3.0, len(ac))
    sess = b.sessions(np.full(len(at), 3, np.int8))
    anon = np.full(len(at), -1)
    b.add(at, PV, anon, ac, sess)
    cats = rng.choice(OTHER_CATS, size=len(at), p=OTHER_WEIGHTS)
    ap = picker.pick(rng, cats, np.zeros(len(at), bool), at)
    b.add(at + MINUTE, PRODUCT, anon, ac, sess, product=ap, category=catalog.category[ap])
    return b.build()


def web_table(
    w: WebEvents,
    cal: Calendar,
    customer_ids: pa.Array,
    anon_ids: pa.Array,
    catalog: Catalog,
    first_number: int = 1,
) -> pa.Table:
    """Events as warehouse rows; event ids count from first_number (chunks keep them unique)."""
    n = len(w)
    numbers = np.arange(first_number, first_number + n)
    seq = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), 12, "0")
    event_id = pc.binary_join_element_wise(pa.scalar("E"), seq, "")
    sess = pc.utf8_lpad(pc.cast(pa.array(w.session + 1), pa.string()), 10, "0")
    session_id = pc.binary_join_element_wise(pa.scalar("S"), sess, "")
    cust_idx = pa.array(w.customer, mask=w.customer < 0)
    prod_idx = pa.array(w.product, mask=w.product < 0)
    cat_idx = pa.array(w.category, mask=w.category < 0)
    q_idx = pa.array(w.query, mask=w.query < 0)
    product_id = pa.array(catalog.product_id).take(prod_idx)
    kinds = pa.array(np.array(EVENT_TYPES, dtype=object)).take(pa.array(w.kind.astype(np.int64)))
    category = pa.array(np.array(CATEGORIES, dtype=object)).take(cat_idx)
    # page URL = a prefix by event type + the product or category, if any
    prefix = pa.array(
        np.array(
            [
                "/",
                "/products/",
                "/categories/",
                "/search",
                "/cart",
                "/cart",
                "/products/",
                "/login",
            ],
            dtype=object,
        )
    ).take(pa.array(w.kind.astype(np.int32)))
    with_item = pa.array(np.isin(w.kind, [PRODUCT, CATEGORY, FAVORITE]))
    suffix = pc.if_else(with_item, pc.coalesce(product_id, category), pa.scalar(""))
    page_url = pc.binary_join_element_wise(prefix, suffix, "")
    qty = pa.array(w.quantity, mask=w.quantity == 0)
    return pa.table(
        {
            "event_id": event_id,
            "occurred_at": cal.to_utc(w.t),
            "event_type": kinds,
            "anonymous_id": anon_ids.take(pa.array(w.anon_of)),
            "customer_id": customer_ids.take(cust_idx),
            "session_id": session_id,
            "product_id": product_id,
            "category": category,
            "search_query": pa.array(SEARCH_WORDS).take(q_idx),
            "page_url": page_url,
            "referrer": pa.nulls(n, pa.string()),
            "quantity": pc.cast(qty, pa.int32()),
            "source": pc.fill_null(pa.nulls(n, pa.string()), "tag"),
        }
    )


def _waiting(
    b: _Builder,
    rng: np.random.Generator,
    catalog: Catalog,
    c: Customers,
    w0: float,
    days: float,
    inactive_t: np.ndarray,
) -> None:
    """Visits for a product while it is out of stock: active members come for it, view it
    and some favourite it. Drawn from their own random stream, so the rest of the web
    behaviour stays as it was."""
    out = np.flatnonzero((catalog.stockout_from < days) & (catalog.stockout_to > w0))
    for i in out:
        lo = max(float(catalog.stockout_from[i]), w0)
        hi = min(float(catalog.stockout_to[i]), days)
        if hi <= lo:
            continue
        n = rng.poisson(WAITERS_PER_1000 * len(c) / 1000 * (hi - lo) / 30)
        if not n:
            continue
        who = rng.integers(len(c), size=n)
        t = lo + rng.random(n) * (hi - lo)
        able = c.buyer[who] & (c.reg_day[who] < t) & (inactive_t[who] + 14 > t)
        who, t = who[able], t[able]
        if not len(who):
            continue
        sess = b.sessions(np.full(len(who), 2, np.int8))
        prod = np.full(len(who), i)
        cat = catalog.category[prod]
        b.add(t, PRODUCT, who, who, sess, product=prod, category=cat)
        fav = rng.random(len(who)) < WAITER_FAVOURITES
        b.add(
            t[fav] + 0.3 * MINUTE,
            FAVORITE,
            who[fav],
            who[fav],
            sess[fav],
            product=prod[fav],
            category=cat[fav],
        )
