"""One-off purchases: when each customer buys (BG/NBD-like) and what is in the basket.

Each buyer purchases first near registration, then as a Poisson process whose rate is
their personal rate times their persona's seasonal demand, and after every purchase
becomes inactive with their personal probability p. Times come from thinning a
homogeneous process at the seasonal peak, which keeps the whole thing vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokui.demo.calendar import Calendar, daytime
from tokui.demo.catalog import CATEGORIES, Catalog, ProductPicker
from tokui.demo.config import PERSONAS, SPEND_SHAPE, SimConfig
from tokui.demo.customers import Customers

GIFT = CATEGORIES.index("ギフトセット")
# categories for "anything else" in a basket (weights by how often a food shop sells them)
OTHER_CATS = np.array(
    [
        CATEGORIES.index(c)
        for c in ("野菜", "果物", "肉", "魚介", "米", "調味料", "スイーツ", "飲料", "乳製品")
    ]
)
OTHER_WEIGHTS = np.array([0.14, 0.13, 0.13, 0.11, 0.1, 0.11, 0.12, 0.09, 0.07])
SELF_REWARD_CATS = np.array(
    [CATEGORIES.index(c) for c in ("スイーツ", "肉", "魚介", "果物", "飲料")]
)
SELF_REWARD_WEIGHTS = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
NOVELTY_WINDOW = 90.0


@dataclass
class Purchases:
    """One-off orders (sorted by customer, then time) and their lines."""

    customer: np.ndarray  # customer index
    t: np.ndarray  # float days
    number: np.ndarray  # 1 = first purchase of the customer
    gift_order: np.ndarray  # shipped as a gift
    line_order: np.ndarray  # order index of each line
    line_product: np.ndarray
    line_qty: np.ndarray
    line_amount: np.ndarray

    @property
    def subtotal(self) -> np.ndarray:
        return np.bincount(self.line_order, weights=self.line_amount, minlength=len(self.t)).astype(
            np.int64
        )


def purchase_times(
    rng: np.random.Generator, cfg: SimConfig, cal: Calendar, c: Customers
) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, time) of every one-off purchase, sorted by customer and time."""
    days = float(cal.days)
    active = np.flatnonzero(c.buyer & (c.first_day < days))
    persona = c.persona[active].astype(np.int64)
    first = c.first_day[active]
    span = days - first
    peak = cal.peak[persona]
    n_cand = rng.poisson(c.rate[active] * peak * span)
    n_cand = np.minimum(n_cand, cfg.max_candidate_purchases)
    owner = np.repeat(np.arange(len(active)), n_cand)
    t = first[owner] + rng.random(len(owner)) * span[owner]
    accept = rng.random(len(owner)) * peak[owner] < cal.demand[persona[owner], cal.day_of(t)]
    owner, t = owner[accept], t[accept]
    order = np.argsort(owner * (days + 1.0) + t, kind="stable")
    owner, t = owner[order], t[order]
    # rank of each repeat within its customer; keep only those before the dropout
    starts = np.searchsorted(owner, np.arange(len(active)))
    rank = np.arange(len(owner)) - starts[owner]
    keep = rank < (c.purchases_until_dropout[active][owner] - 1)
    owner, t = owner[keep], t[keep]
    # orders are placed at realistic times of day; first orders right after registering
    t = np.floor(t) + daytime(rng, len(t))
    first_t = np.where(
        c.first_day[active] - c.reg_day[active] < 0.05,
        c.reg_day[active] + rng.uniform(0.002, 0.02, len(active)),
        np.floor(first) + daytime(rng, len(active)),
    )
    cust = np.concatenate([active, active[owner]])
    times = np.concatenate([first_t, t])
    # nobody orders before registering (the time of day was drawn independently)
    times = np.maximum(times, c.reg_day[cust] + 0.002)
    times = np.minimum(times, days - 1e-6)
    order = np.lexsort((times, cust))
    return cust[order], times[order]


def build_purchases(
    rng: np.random.Generator,
    cfg: SimConfig,
    cal: Calendar,
    c: Customers,
    catalog: Catalog,
    picker: ProductPicker,
) -> Purchases:
    cust, t = purchase_times(rng, cfg, cal, c)
    n = len(t)
    starts = np.searchsorted(cust, cust, side="left")
    number = np.arange(n) - starts + 1
    persona = c.persona[cust]
    in_season = cal.gift_season[cal.day_of(t)]
    value = rng.gamma(SPEND_SHAPE, 1.0 / c.spend_nu[cust])
    n_lines = 1 + np.minimum(rng.poisson(value / 6000.0), 3)
    line_order = np.repeat(np.arange(n), n_lines)
    m = len(line_order)
    lp = persona[line_order]
    lt = t[line_order]
    u = rng.random(m)
    cat = rng.choice(OTHER_CATS, size=m, p=OTHER_WEIGHTS).astype(np.int64)
    premium = rng.random(m) < 0.15
    novelty = np.zeros(m, dtype=bool)

    k = PERSONAS.index("ingredient_lover")
    sel = (lp == k) & (u < 0.7)
    cat[sel] = c.favourite[cust[line_order[sel]]]
    k = PERSONAS.index("novelty_seeker")
    novelty = (lp == k) & (u < 0.55)
    k = PERSONAS.index("self_reward")
    sel = lp == k
    cat[sel] = rng.choice(SELF_REWARD_CATS, size=int(sel.sum()), p=SELF_REWARD_WEIGHTS)
    premium[sel] = rng.random(int(sel.sum())) < 0.7
    k = PERSONAS.index("gift_giver")
    gift_line = (lp == k) & (u < np.where(in_season[line_order], 0.85, 0.2))
    cat[gift_line] = GIFT
    # everyone else sends a gift now and then in the gift seasons
    other_gift = (lp != k) & in_season[line_order] & (u > 0.97)
    cat[other_gift] = GIFT

    product = picker.pick(rng, cat, premium, lt)
    if novelty.any():
        product[novelty] = picker.pick_new(rng, lt[novelty], NOVELTY_WINDOW)
    price = catalog.price[product]
    share = value[line_order] / n_lines[line_order]
    qty_cap = np.where(catalog.category[product] == GIFT, 6, 4)
    qty = np.clip(np.round(share / price), 1, qty_cap).astype(np.int64)
    amount = qty * price
    has_gift = np.bincount(line_order, weights=(catalog.category[product] == GIFT), minlength=n) > 0
    gift_order = has_gift & (
        rng.random(n) < np.where(persona == PERSONAS.index("gift_giver"), 0.8, 0.5)
    )
    return Purchases(
        customer=cust,
        t=t,
        number=number,
        gift_order=gift_order,
        line_order=line_order,
        line_product=product,
        line_qty=qty,
        line_amount=amount,
    )
