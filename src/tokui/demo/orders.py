"""All orders (one-off and 定期便 deliveries), welcome coupons and the point ledger."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokui.demo.calendar import Calendar
from tokui.demo.config import SimConfig
from tokui.demo.customers import Customers
from tokui.demo.purchases import Purchases
from tokui.demo.subscriptions import Subscriptions

WELCOME_CODE = "WELCOME500"
TEIKI_CODE = "TEIKI-FIRST50"


def labels(mask: np.ndarray, text: str) -> np.ndarray:
    """`text` where mask is set, None elsewhere (an object array for Arrow strings)."""
    out = np.full(len(mask), None, dtype=object)
    out[mask] = text
    return out


@dataclass
class Orders:
    """Every order, sorted by time; index i is order O{i+1:010d}."""

    customer: np.ndarray
    t: np.ndarray
    kind: np.ndarray  # 0 one-off (index into Purchases), 1 subscription delivery
    source: np.ndarray  # purchase index or delivery index
    subtotal: np.ndarray
    discount: np.ndarray
    coupon: np.ndarray  # object, None when no coupon
    shipping: np.ndarray
    points_used: np.ndarray
    points_earned: np.ndarray
    status: np.ndarray  # object
    welcome_used: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return np.asarray(self.subtotal - self.discount + self.shipping - self.points_used)

    def __len__(self) -> int:
        return len(self.t)


def build_orders(
    rng: np.random.Generator,
    cfg: SimConfig,
    cal: Calendar,
    c: Customers,
    p: Purchases,
    s: Subscriptions,
) -> Orders:
    shipped = np.flatnonzero(~s.d_skipped)
    sub_idx = s.d_sub[shipped]
    first = s.d_number[shipped] == 1
    sub_t = np.where(first, s.d_t[shipped], np.floor(s.d_t[shipped]) + 0.25)
    sub_subtotal = s.unit_price[sub_idx] * s.quantity[sub_idx]
    offer_first = first & s.first_offer[sub_idx]
    sub_discount = np.where(
        offer_first, np.round(sub_subtotal * cfg.first_delivery_discount).astype(np.int64), 0
    )

    one_subtotal = p.subtotal
    n1 = len(p.t)
    # welcome coupon: first one-off order within 30 days of registering
    eligible = (
        (p.number == 1)
        & (p.t - c.reg_day[p.customer] <= 30)
        & (one_subtotal >= cfg.welcome_coupon_minimum)
    )
    welcome = eligible & (rng.random(n1) < cfg.welcome_coupon_use)
    one_discount = np.where(welcome, cfg.welcome_coupon, 0).astype(np.int64)
    u = rng.random(n1)
    status = np.where(
        u < cfg.cancelled_share,
        "cancelled",
        np.where(u < cfg.cancelled_share + cfg.returned_share, "returned", "completed"),
    ).astype(object)
    one_shipping = np.where(one_subtotal >= cfg.free_shipping_from, 0, cfg.shipping_fee)

    customer = np.concatenate([p.customer, s.customer[sub_idx]])
    t = np.concatenate([p.t, sub_t])
    kind = np.concatenate([np.zeros(n1, np.int8), np.ones(len(shipped), np.int8)])
    source = np.concatenate([np.arange(n1), shipped])
    subtotal = np.concatenate([one_subtotal, sub_subtotal]).astype(np.int64)
    discount = np.concatenate([one_discount, sub_discount]).astype(np.int64)
    coupon = np.concatenate(
        [
            labels(welcome, WELCOME_CODE),
            labels(offer_first, TEIKI_CODE),
        ]
    )
    shipping = np.concatenate([one_shipping, np.zeros(len(shipped), np.int64)]).astype(np.int64)
    status_all = np.concatenate([status, np.full(len(shipped), "completed", dtype=object)])
    welcome_all = np.concatenate([welcome, np.zeros(len(shipped), bool)])

    order = np.argsort(t, kind="stable")
    o = Orders(
        customer=customer[order],
        t=t[order],
        kind=kind[order],
        source=source[order],
        subtotal=subtotal[order],
        discount=discount[order],
        coupon=coupon[order],
        shipping=shipping[order],
        points_used=np.zeros(len(order), np.int64),
        points_earned=np.zeros(len(order), np.int64),
        status=status_all[order],
        welcome_used=welcome_all[order],
    )
    completed = o.status == "completed"
    o.points_earned = np.where(
        completed, np.floor((o.subtotal - o.discount) * cfg.point_rate), 0
    ).astype(np.int64)
    return o


@dataclass
class PointLedger:
    order: np.ndarray  # order index (or -1)
    customer: np.ndarray
    t: np.ndarray
    kind: np.ndarray  # object: earn/use/expire
    points: np.ndarray
    expires_t: np.ndarray  # float days, nan when not an earn


def spend_points(cfg: SimConfig, cal: Calendar, c: Customers, o: Orders) -> PointLedger:
    """Point users spend everything they hold (once it reaches the minimum) on a one-off order.

    Points expire `point_validity_days` after they were earned. A use takes all points
    earned since the previous use that have not expired yet, so an earn is either used
    by the next use within its validity or expires.
    """
    days = float(cal.days)
    validity = float(cfg.point_validity_days)
    by_cust = np.lexsort((o.t, o.customer))
    cust = o.customer[by_cust]
    t = o.t[by_cust]
    earned = o.points_earned[by_cust]
    usable = (o.kind[by_cust] == 0) & (o.status[by_cust] == "completed") & c.point_user[cust]
    room = (o.subtotal - o.discount)[by_cust]
    n = len(cust)
    key = cust.astype(np.float64) * (days + 2 * validity + 10) + t
    cum_before = np.cumsum(earned) - earned
    first_of = np.searchsorted(cust, cust, side="left")
    rank = np.arange(n) - first_of
    pending = first_of.copy()  # per row: the pending start of its customer (kept at first row)
    used = np.zeros(n, np.int64)
    order_by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[order_by_rank], np.arange(rank.max() + 2 if n else 1))
    for r in range(len(bounds) - 1):
        k = order_by_rank[bounds[r] : bounds[r + 1]]
        k = k[usable[k]]
        if not len(k):
            continue
        start = pending[first_of[k]]
        j = np.searchsorted(key, key[k] - validity, side="right")
        j = np.maximum(j, start)
        available = cum_before[k] - cum_before[j]
        # all or nothing keeps the ledger exact: what is not used later expires in full
        go = (available >= cfg.point_use_minimum) & (available <= room[k])
        k, available = k[go], available[go]
        used[k] = available
        pending[first_of[k]] = k
    # an earn is consumed by the first use after it, if that use is within its validity
    use_rows = np.flatnonzero(used > 0)
    next_use = np.full(n, -1)
    if len(use_rows):
        pos = np.searchsorted(use_rows, np.arange(n), side="right")
        has = pos < len(use_rows)
        nxt = np.where(has, use_rows[np.minimum(pos, len(use_rows) - 1)], -1)
        same = has & (cust[np.maximum(nxt, 0)] == cust)
        next_use = np.where(same, nxt, -1)
    consumed = (next_use >= 0) & (t[np.maximum(next_use, 0)] - t < validity)
    expire_t = t + validity
    expires = (earned > 0) & ~consumed & (expire_t < days)

    o.points_used[by_cust] = used
    earn_rows = np.flatnonzero(earned > 0)
    orders_idx = by_cust
    parts_order = [orders_idx[earn_rows], orders_idx[use_rows], np.full(int(expires.sum()), -1)]
    exp_rows = np.flatnonzero(expires)
    return PointLedger(
        order=np.concatenate(parts_order),
        customer=np.concatenate([cust[earn_rows], cust[use_rows], cust[exp_rows]]),
        t=np.concatenate([t[earn_rows], t[use_rows], np.floor(expire_t[exp_rows]) + 0.0001]),
        kind=np.concatenate(
            [
                np.full(len(earn_rows), "earn", dtype=object),
                np.full(len(use_rows), "use", dtype=object),
                np.full(len(exp_rows), "expire", dtype=object),
            ]
        ),
        points=np.concatenate([earned[earn_rows], -used[use_rows], -earned[exp_rows]]),
        expires_t=np.concatenate(
            [expire_t[earn_rows], np.full(len(use_rows), np.nan), np.full(len(exp_rows), np.nan)]
        ),
    )
