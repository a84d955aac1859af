"""What the simulated shop looks like: sizes, seeds and the true model parameters.

Everything the generator draws from is here, so tests can compare what was generated
with what was meant, and a benchmark can scale one knob without touching the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

PERSONAS = ("ingredient_lover", "novelty_seeker", "self_reward", "gift_giver")


@dataclass(frozen=True)
class PersonaModel:
    """True parameters of one persona (BG/NBD-like purchasing, gamma-gamma-like spend)."""

    share: float
    # Purchase rate per day: lambda ~ Gamma(shape=rate_shape, mean=rate_mean).
    rate_shape: float
    rate_mean: float
    # Chance of becoming inactive after each purchase: p ~ Beta(dropout_a, dropout_b).
    dropout_a: float
    dropout_b: float
    # Mean order value of a customer ~ spend_shape * gamma / (spend_q - 1).
    spend_mean: float
    subscription_share: float
    visit_per_purchase: float  # browse sessions per expected purchase


PERSONA_MODELS: dict[str, PersonaModel] = {
    "ingredient_lover": PersonaModel(0.35, 1.2, 1 / 40, 1.2, 2.8, 4_500, 0.30, 3.0),
    "novelty_seeker": PersonaModel(0.20, 1.0, 1 / 55, 1.0, 2.2, 4_000, 0.08, 4.0),
    "self_reward": PersonaModel(0.25, 1.0, 1 / 70, 1.0, 2.4, 7_000, 0.15, 2.5),
    "gift_giver": PersonaModel(0.20, 1.5, 1 / 110, 1.4, 3.0, 8_000, 0.05, 2.0),
}

SPEND_SHAPE = 6.0  # gamma-gamma p: shape of each order's value around the customer mean
SPEND_Q = 4.0  # gamma-gamma q: shape of the customer means across customers

# Subscription (定期便) cycles: (unit, interval, probability)
CYCLES: tuple[tuple[str, int, float], ...] = (
    ("week", 2, 0.15),
    ("week", 4, 0.35),
    ("month", 1, 0.40),
    ("week", 8, 0.10),
)


@dataclass(frozen=True)
class SimConfig:
    """One simulated shop. Same config and seed: the same data, bit for bit."""

    customers: int = 20_000
    years: float = 2.0
    seed: int = 42
    end_date: date = field(default_factory=lambda: date(2026, 10, 31))
    never_buy_share: float = 0.18  # register and never buy
    first_purchase_delay_share: float = 0.3  # do not buy on the day they register
    first_purchase_delay_days: float = 20.0
    registration_growth: float = 1.0  # registrations at the end are (1 + g) x those at start
    # Subscriptions: churn per delivery theta ~ Beta(a, b); skips s ~ Beta(a, b)
    churn_a: float = 1.0
    churn_b: float = 5.0
    skip_a: float = 1.0
    skip_b: float = 12.0
    skip_churn_factor: float = 2.0  # hazard multiplier after a skip in the last 2 deliveries
    lengthen_churn_factor: float = 1.8  # ... after the cycle was made longer recently
    cycle_change_rate: float = 0.03
    subscription_first_offer_share: float = 0.6  # start from the first-order offer
    subscription_discount: float = 0.10  # 定期割引
    first_delivery_discount: float = 0.50  # 初回半額 with the offer
    # Web behaviour (only the last web_days days: a tracking tag is younger than the shop)
    web_days: int = 180
    cart_abandonment: float = 0.68  # share of cart sessions that end without an order
    churn_visit_drop: float = 0.3  # visit rate in the 60 days before a cancellation
    # Orders
    cancelled_share: float = 0.02
    returned_share: float = 0.01
    free_shipping_from: int = 8_000
    shipping_fee: int = 800
    point_rate: float = 0.01
    point_users_share: float = 0.4
    point_use_minimum: int = 500
    point_validity_days: int = 365
    welcome_coupon: int = 500
    welcome_coupon_minimum: int = 3_000
    welcome_coupon_use: float = 0.55
    new_products_per_month: float = 6.0
    max_candidate_purchases: int = 600  # per customer; caps the heaviest buyers

    @property
    def days(self) -> int:
        return max(30, round(self.years * 365))

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)
