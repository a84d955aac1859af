"""定期便: who subscribes, deliveries, skips, cycle changes and cancellations.

Cancellation after each delivery follows a shifted-beta-geometric hazard: every
subscription has its own churn probability theta ~ Beta(a, b), raised after warning
signs (a recent skip, a recently lengthened cycle) so that a churn model has real
signal to find. Customers who are about to cancel also visit the site less (web.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokui.demo.calendar import Calendar
from tokui.demo.catalog import CATEGORIES, ITEMS, SUBSCRIPTION_FOR, Catalog
from tokui.demo.config import CYCLES, PERSONA_MODELS, PERSONAS, SimConfig
from tokui.demo.customers import Customers
from tokui.demo.purchases import Purchases

CYCLE_DAYS = np.array([14.0, 28.0, 30.0, 56.0])  # 2 weeks, 4 weeks, monthly, 8 weeks
CYCLE_UNIT = np.array(["week", "week", "month", "week"], dtype=object)
CYCLE_INTERVAL = np.array([2, 4, 1, 8], dtype=np.int32)
CYCLE_LABEL = np.array(["2週間ごと", "4週間ごと", "毎月", "8週間ごと"], dtype=object)
CANCEL_REASONS = np.array(
    [
        "量が多く余ってしまう",
        "価格が高い",
        "味・品質が合わない",
        "引っ越し",
        "他社に切り替え",
        "その他",
    ],
    dtype=object,
)
REASON_WEIGHTS = np.array([0.3, 0.25, 0.1, 0.05, 0.1, 0.2])
REASON_WEIGHTS_AFTER_SKIP = np.array([0.6, 0.15, 0.05, 0.03, 0.07, 0.1])


@dataclass
class Subscriptions:
    customer: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    start: np.ndarray  # float days
    first_offer: np.ndarray
    first_cycle: np.ndarray  # index into CYCLE_DAYS
    cycle: np.ndarray  # at the end
    cancelled: np.ndarray
    cancel_t: np.ndarray
    cancel_reason: np.ndarray
    next_t: np.ndarray  # next scheduled delivery (for the active ones)
    theta: np.ndarray  # true churn probability per delivery
    skip_p: np.ndarray
    # deliveries: one row each
    d_sub: np.ndarray
    d_number: np.ndarray
    d_t: np.ndarray
    d_skipped: np.ndarray
    d_hazard: np.ndarray  # the true cancellation hazard after this delivery
    d_cancelled_after: np.ndarray
    # events other than start/cancel: (sub, t, type, old, new)
    e_sub: np.ndarray
    e_t: np.ndarray
    e_type: np.ndarray
    e_old: np.ndarray
    e_new: np.ndarray

    def __len__(self) -> int:
        return len(self.customer)


def build_subscriptions(
    rng: np.random.Generator,
    cfg: SimConfig,
    cal: Calendar,
    c: Customers,
    p: Purchases,
    catalog: Catalog,
) -> Subscriptions:
    days = float(cal.days)
    first_of = np.flatnonzero(p.number == 1)
    buyers = p.customer[first_of]
    first_t = p.t[first_of]
    share = np.array([PERSONA_MODELS[name].subscription_share for name in PERSONAS])
    takes = rng.random(len(buyers)) < share[c.persona[buyers]]
    cust = buyers[takes]
    offer = rng.random(len(cust)) < cfg.subscription_first_offer_share
    start = np.where(
        offer,
        first_t[takes] + 0.0005,
        first_t[takes] + rng.exponential(120.0, len(cust)),
    )
    keep = start < days - 1
    cust, offer, start = cust[keep], offer[keep], start[keep]
    n = len(cust)

    names = catalog.name
    sub_products = np.array(
        [int(np.flatnonzero(names == item)[0]) for item, _ in ITEMS["定期便"]], dtype=np.int64
    )
    product = sub_products[rng.integers(len(sub_products), size=n)]
    fav = c.favourite[cust]
    ingredient = c.persona[cust] == PERSONAS.index("ingredient_lover")
    for cat, j in SUBSCRIPTION_FOR.items():
        sel = ingredient & (fav == CATEGORIES.index(cat))
        product[sel] = sub_products[j]
    quantity = np.where(rng.random(n) < 0.85, 1, 2).astype(np.int32)
    unit_price = (
        np.round(catalog.price[product] * (1 - cfg.subscription_discount) / 10) * 10
    ).astype(np.int64)
    probs = np.array([w for _, _, w in CYCLES])
    cycle = rng.choice(len(CYCLES), size=n, p=probs / probs.sum())
    first_cycle = cycle.copy()
    theta = rng.beta(cfg.churn_a, cfg.churn_b, n)
    skip_p = rng.beta(cfg.skip_a, cfg.skip_b, n)

    cancelled = np.zeros(n, dtype=bool)
    cancel_t = np.full(n, np.inf)
    reason = np.full(n, None, dtype=object)
    next_t = start.copy()
    skipped_prev = np.zeros(n, dtype=bool)
    lengthened_prev = np.zeros(n, dtype=bool)
    d_cols: dict[str, list[np.ndarray]] = {k: [] for k in ("sub", "n", "t", "skip", "h", "c")}
    e_cols: dict[str, list[np.ndarray]] = {k: [] for k in ("sub", "t", "type", "old", "new")}
    number = 0
    while True:
        number += 1
        live = np.flatnonzero(~cancelled & (next_t < days))
        if not len(live):
            break
        t = next_t[live]
        skipped = (
            (rng.random(len(live)) < skip_p[live]) if number > 1 else np.zeros(len(live), bool)
        )
        # cycle changes, mostly to a longer cycle ("too much food")
        change = (rng.random(len(live)) < cfg.cycle_change_rate) & (number > 1)
        longer = rng.random(len(live)) < 0.75
        old = cycle[live]
        new = np.where(longer, np.minimum(old + 1, 3), np.maximum(old - 1, 0))
        change &= new != old
        lengthened = change & (new > old)
        if change.any():
            cycle[live[change]] = new[change]
            e_cols["sub"].append(live[change])
            e_cols["t"].append(t[change] + 1.0 + rng.random(int(change.sum())))
            e_cols["type"].append(np.full(int(change.sum()), "cycle_change", dtype=object))
            e_cols["old"].append(CYCLE_LABEL[old[change]])
            e_cols["new"].append(CYCLE_LABEL[new[change]])
        if skipped.any():
            e_cols["sub"].append(live[skipped])
            e_cols["t"].append(
                np.maximum(
                    t[skipped] - 1.0 - 3.0 * rng.random(int(skipped.sum())), start[live[skipped]]
                )
            )
            e_cols["type"].append(np.full(int(skipped.sum()), "skip", dtype=object))
            e_cols["old"].append(np.full(int(skipped.sum()), None, dtype=object))
            e_cols["new"].append(np.full(int(skipped.sum()), None, dtype=object))
        hazard = theta[live].copy()
        hazard *= np.where(skipped | skipped_prev[live], cfg.skip_churn_factor, 1.0)
        hazard *= np.where(lengthened | lengthened_prev[live], cfg.lengthen_churn_factor, 1.0)
        hazard = np.minimum(hazard, 0.95)
        cancel = rng.random(len(live)) < hazard
        cycle_days = CYCLE_DAYS[cycle[live]]
        when = t + 1.0 + rng.random(len(live)) * (cycle_days - 2.0)
        cancel &= when < days  # decided after the end: not (yet) cancelled
        d_cols["sub"].append(live)
        d_cols["n"].append(np.full(len(live), number, dtype=np.int32))
        d_cols["t"].append(t)
        d_cols["skip"].append(skipped)
        d_cols["h"].append(hazard)
        d_cols["c"].append(cancel)
        cancelled[live[cancel]] = True
        cancel_t[live[cancel]] = when[cancel]
        after_skip = (skipped | skipped_prev[live])[cancel]
        k = int(cancel.sum())
        reason[live[cancel]] = np.where(
            after_skip,
            rng.choice(CANCEL_REASONS, size=k, p=REASON_WEIGHTS_AFTER_SKIP),
            rng.choice(CANCEL_REASONS, size=k, p=REASON_WEIGHTS),
        )
        skipped_prev[live] = skipped
        lengthened_prev[live] = lengthened
        next_t[live] = t + cycle_days

    def join(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    return Subscriptions(
        customer=cust,
        product=product,
        quantity=quantity,
        unit_price=unit_price,
        start=start,
        first_offer=offer,
        first_cycle=first_cycle,
        cycle=cycle,
        cancelled=cancelled,
        cancel_t=cancel_t,
        cancel_reason=reason,
        next_t=next_t,
        theta=theta,
        skip_p=skip_p,
        d_sub=join(d_cols["sub"], np.int64),
        d_number=join(d_cols["n"], np.int32),
        d_t=join(d_cols["t"], np.float64),
        d_skipped=join(d_cols["skip"], bool),
        d_hazard=join(d_cols["h"], np.float64),
        d_cancelled_after=join(d_cols["c"], bool),
        e_sub=join(e_cols["sub"], np.int64),
        e_t=join(e_cols["t"], np.float64),
        e_type=join(e_cols["type"], object),
        e_old=join(e_cols["old"], object),
        e_new=join(e_cols["new"], object),
    )
