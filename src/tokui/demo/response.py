"""How simulated customers react to a message: open, click, purchase, with a true uplift.

The scenario engine sends to simulated customers through this model so that A/B tests
and holdouts have a real, known effect to measure. A customer who would have bought
anyway (their own rate over the attribution window) still buys; a message adds
purchases only through clicks, more for the personas it suits, less for customers who
are no longer active. Every draw is a hash of (seed, message, customer, purpose), so a
customer's reaction does not depend on who else got the message or in which order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from tokui.demo.config import PERSONAS
from tokui.demo.world import World

Channel = Literal["email", "line", "push", "dm"]
Kind = Literal[
    "generic", "second_purchase", "winback", "seasonal_gift", "new_product", "restock", "birthday"
]

OPEN_RATE: dict[str, float] = {"email": 0.25, "line": 0.60, "push": 0.10, "dm": 0.50}
CLICK_RATE: dict[str, float] = {"email": 0.12, "line": 0.10, "push": 0.15, "dm": 0.06}
# how much each kind of message appeals to each persona (multiplies the click rate)
AFFINITY: dict[str, dict[str, float]] = {
    "generic": {p: 1.0 for p in PERSONAS},
    "second_purchase": {p: 1.2 for p in PERSONAS},
    "winback": {p: 1.0 for p in PERSONAS},
    "birthday": {
        "ingredient_lover": 1.2,
        "novelty_seeker": 1.2,
        "self_reward": 1.8,
        "gift_giver": 1.0,
    },
    "seasonal_gift": {
        "ingredient_lover": 0.6,
        "novelty_seeker": 0.8,
        "self_reward": 0.8,
        "gift_giver": 2.5,
    },
    "new_product": {
        "ingredient_lover": 0.8,
        "novelty_seeker": 2.2,
        "self_reward": 1.2,
        "gift_giver": 0.7,
    },
    "restock": {
        "ingredient_lover": 1.6,
        "novelty_seeker": 0.8,
        "self_reward": 1.0,
        "gift_giver": 0.8,
    },
}
CONVERSION_AFTER_CLICK = 0.35
INACTIVE_RESPONSE = 0.3  # an inactive customer is this much as likely to be won back
INACTIVE_BASE_RATE = 0.0002  # per day: inactive customers rarely come back on their own


@dataclass(frozen=True)
class Message:
    key: str  # stable id of the send (scenario step + date), salts the draws
    channel: Channel
    kind: Kind = "generic"
    window_days: int = 14  # attribution window for purchases


def _uniform(seed: int, message: str, customer: np.ndarray, purpose: int) -> np.ndarray:
    """Counter-based uniforms in [0, 1): splitmix64 of the inputs."""
    salt = _fnv(f"{seed}|{message}|{purpose}")
    x = customer.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + salt
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


def _fnv(text: str) -> np.uint64:
    # Python's hash() is salted per process; FNV-1a is stable across runs.
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) % 2**64
    return np.uint64(h)


class ResponseModel:
    """Reactions of the customers of one simulated world."""

    def __init__(self, world: World, seed: int = 0) -> None:
        self.world = world
        self.seed = seed
        ids = world.customers.customer_id
        self._index = pd.Index(ids)

    def indices(self, customer_ids: list[str] | np.ndarray) -> np.ndarray:
        idx = self._index.get_indexer(np.asarray(customer_ids, dtype=object))
        if (idx < 0).any():
            unknown = np.asarray(customer_ids, dtype=object)[idx < 0][:3]
            raise KeyError(f"not customers of this simulated shop: {list(unknown)}")
        return np.asarray(idx)

    def probabilities(
        self, customer_ids: list[str] | np.ndarray, message: Message, day: float
    ) -> pd.DataFrame:
        """True probabilities for each customer, sent on simulated day `day`.

        p_purchase_control: buys in the window without the message;
        p_purchase_treated: buys in the window with it; their difference is the true uplift.
        """
        w = self.world
        c = w.customers
        i = self.indices(customer_ids)
        persona = c.persona[i].astype(np.int64)
        registered = c.reg_day[i] <= day
        reach = registered & self._reachable(i, message.channel)
        active = registered & (w.inactive_t[i] > day) & c.buyer[i]
        end = min(day + message.window_days, float(w.calendar.days))
        demand = w.calendar.integral(persona, np.full(len(i), day), np.full(len(i), end))
        base = np.where(
            active,
            1 - np.exp(-c.rate[i] * demand),
            1 - np.exp(-INACTIVE_BASE_RATE * (end - day)),
        )
        base = np.where(registered, base, 0.0)
        p_open = np.where(reach, OPEN_RATE[message.channel], 0.0)
        affinity = np.array([AFFINITY[message.kind][p] for p in PERSONAS])[persona]
        p_click_given_open = np.minimum(CLICK_RATE[message.channel] * affinity, 0.9)
        lift = CONVERSION_AFTER_CLICK * np.where(active, 1.0, INACTIVE_RESPONSE)
        p_extra = p_open * p_click_given_open * lift
        treated = base + (1 - base) * p_extra
        return pd.DataFrame(
            {
                "customer_id": np.asarray(customer_ids, dtype=object),
                "p_open": p_open,
                "p_click": p_open * p_click_given_open,
                "p_purchase_control": base,
                "p_purchase_treated": treated,
                "uplift": treated - base,
            }
        )

    def _reachable(self, i: np.ndarray, channel: str) -> np.ndarray:
        c = self.world.customers
        return np.asarray(
            {
                "email": c.email_opt_in,
                "line": c.line_opt_in,
                "push": c.push_opt_in,
                "dm": c.dm_opt_in,
            }[channel][i]
        )

    def respond(
        self,
        customer_ids: list[str] | np.ndarray,
        message: Message,
        day: float,
        treated: bool = True,
    ) -> pd.DataFrame:
        """Draw what each customer does: opened, clicked, purchased, revenue (yen).

        With treated=False the same customers are observed without the message (a holdout):
        only the purchases they would have made anyway.
        """
        pr = self.probabilities(customer_ids, message, day)
        i = self.indices(customer_ids)
        u_open = _uniform(self.seed, message.key, i, 1)
        u_click = _uniform(self.seed, message.key, i, 2)
        u_base = _uniform(self.seed, message.key, i, 3)
        u_extra = _uniform(self.seed, message.key, i, 4)
        u_value = _uniform(self.seed, message.key, i, 5)
        opened = treated & (u_open < pr["p_open"].to_numpy())
        clicked = opened & (
            u_click < (pr["p_click"] / pr["p_open"].where(pr["p_open"] > 0, 1)).to_numpy()
        )
        base = u_base < pr["p_purchase_control"].to_numpy()
        p_extra = (
            (pr["p_purchase_treated"] - pr["p_purchase_control"]) / (1 - pr["p_purchase_control"])
        ).to_numpy()
        # the extra purchase only comes through a click; scale so P(extra | click) matches
        p_click = pr["p_click"].to_numpy()
        extra = clicked & (
            u_extra < np.divide(p_extra, p_click, out=np.zeros_like(p_extra), where=p_click > 0)
        )
        purchased = base | (treated & extra)
        mean = self.world.customers.mean_spend[i]
        # a gamma(6) order value by inverse transform is costly; a log-normal with the same
        # mean and similar spread is close enough for revenue per message
        z = np.sqrt(2) * _erfinv(2 * np.clip(u_value, 1e-9, 1 - 1e-9) - 1)
        sigma = 0.4
        revenue = np.where(purchased, np.round(mean * np.exp(sigma * z - sigma**2 / 2)), 0).astype(
            np.int64
        )
        return pd.DataFrame(
            {
                "customer_id": np.asarray(customer_ids, dtype=object),
                "opened": opened,
                "clicked": clicked,
                "purchased": purchased,
                "revenue": revenue,
            }
        )


def _erfinv(x: np.ndarray) -> np.ndarray:
    from scipy.special import erfinv

    return np.asarray(erfinv(x), dtype=np.float64)


# --- A response the engine can drive: extra orders with a known uplift ------------------


@dataclass(frozen=True)
class ExtraOrderModel:
    """The simplest response with a known causal effect, for the holdout simulation
    (tokui.demo.experiment): each message sent to a customer makes them place one extra
    order with probability `p`, `value` yen, at a uniform delay in (0, max_delay_days]
    after the send. Customers who get no message (held out, no consent) get no extra
    order; the simulator's own orders are untouched, so they are what everyone would have
    bought anyway.

    True effects over a set of enrolled customers, with s_i = 1 when customer i would be
    sent the message and b_i = 1 when they buy anyway within the window:
      revenue per customer:  p · value · mean(s_i)
      conversion rate:       p · mean(s_i · (1 − b_i))   (an extra order of someone who
                                                          buys anyway adds revenue, not
                                                          a conversion)
    as long as max_delay_days plus the time from entry to the send fits in the window.
    Draws hash (seed, message id): the same message always gives the same reaction.
    """

    p: float
    value: int = 3000
    max_delay_days: float = 3.0
    seed: int = 0
    product_id: str = "EXTRA"
    category: str = "ギフトセット"

    def draw(self, message_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ordered?, delay in days) per message."""
        ids = np.asarray(message_ids, dtype=np.int64)
        ordered = _uniform(self.seed, "extra-order", ids, 1) < self.p
        delay = (1 - _uniform(self.seed, "extra-order", ids, 2)) * self.max_delay_days
        return ordered, delay

    def orders(self, sends: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Orders and order lines (canonical warehouse columns) for `sends`, a frame of
        message_id, customer_id and sent_at (naive UTC)."""
        ordered, delay = self.draw(sends["message_id"].to_numpy())
        hit = sends[ordered].copy()
        at = pd.to_datetime(hit["sent_at"]) + pd.to_timedelta(delay[ordered], unit="D")
        ids = [f"X{self.seed}-{m}" for m in hit["message_id"]]
        n = len(hit)
        orders = pd.DataFrame(
            {
                "order_id": ids,
                "customer_id": hit["customer_id"].astype(str).to_numpy(),
                "ordered_at": at.dt.floor("s").to_numpy(),
                "status": ["completed"] * n,
                "channel": ["web"] * n,
                "subtotal": [self.value] * n,
                "discount": [0] * n,
                "shipping_fee": [0] * n,
                "points_used": [0] * n,
                "total": [self.value] * n,
                "points_earned": [0] * n,
                "is_gift": [False] * n,
            }
        )
        items = pd.DataFrame(
            {
                "order_id": ids,
                "line_no": [1] * n,
                "product_id": [self.product_id] * n,
                "product_name": ["おすすめセット"] * n,
                "category": [self.category] * n,
                "quantity": [1] * n,
                "unit_price": [self.value] * n,
                "amount": [self.value] * n,
            }
        )
        return orders, items
