"""Entry triggers as data. Each names what makes a customer enter and how its occurrence
is identified (so the same cart, order or birthday year never enrolls a customer twice).
tokui.scenarios.triggers evaluates them against the warehouse."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KEY = r"^[a-z0-9][a-z0-9_\-]{0,63}$"
RankKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]  # as in ranks.yaml


class _Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CartAbandoned(_Trigger):
    """A cart add with no completed order within `hours`."""

    type: Literal["cart_abandoned"] = "cart_abandoned"
    hours: int = Field(default=3, ge=1, le=24 * 30)


class BrowseAbandoned(_Trigger):
    """A product view with no cart add and no order within `hours`."""

    type: Literal["browse_abandoned"] = "browse_abandoned"
    hours: int = Field(default=24, ge=1, le=24 * 30)


class Registered(_Trigger):
    type: Literal["registered"] = "registered"


class Ordered(_Trigger):
    """A completed order; `nth` limits it to the customer's n-th order, `product_id` or
    `category` to orders with a line of that product or category."""

    type: Literal["ordered"] = "ordered"
    nth: int | None = Field(default=None, ge=1, le=1000)
    product_id: str | None = Field(default=None, min_length=1, max_length=64)
    category: str | None = Field(default=None, min_length=1, max_length=100)


class CumulativeSpend(_Trigger):
    """The order that brings the customer's completed spend (order totals) to `amount`."""

    type: Literal["cumulative_spend"] = "cumulative_spend"
    amount: int = Field(ge=1, le=1_000_000_000)


class SubscriptionSkipped(_Trigger):
    type: Literal["subscription_skipped"] = "subscription_skipped"


class SubscriptionCycleChanged(_Trigger):
    type: Literal["subscription_cycle_changed"] = "subscription_cycle_changed"


class Birthday(_Trigger):
    type: Literal["birthday"] = "birthday"
    days_before: int = Field(default=0, ge=0, le=60)


class RegistrationAnniversary(_Trigger):
    type: Literal["registration_anniversary"] = "registration_anniversary"


class PointsExpiring(_Trigger):
    type: Literal["points_expiring"] = "points_expiring"
    days_before: int = Field(default=14, ge=0, le=365)


class FirstPurchaseNoSecond(_Trigger):
    type: Literal["first_purchase_no_second"] = "first_purchase_no_second"
    days: int = Field(default=30, ge=1, le=3650)


class NextPurchaseOverdue(_Trigger):
    """customer_scores' next_purchase_date passed `days_after` ago with no order since."""

    type: Literal["next_purchase_overdue"] = "next_purchase_overdue"
    days_after: int = Field(default=0, ge=0, le=365)


class Dormant(_Trigger):
    """The last completed order is exactly `days` old today."""

    type: Literal["dormant"] = "dormant"
    days: int = Field(default=180, ge=1, le=3650)


class SegmentEntered(_Trigger):
    type: Literal["segment_entered"] = "segment_entered"
    segment: str = Field(pattern=KEY)


class SegmentExited(_Trigger):
    type: Literal["segment_exited"] = "segment_exited"
    segment: str = Field(pattern=KEY)


class ChurnRisk(_Trigger):
    """churn_probability of a model's latest scores at or above `threshold`."""

    type: Literal["churn_risk"] = "churn_risk"
    threshold: float = Field(gt=0, le=1)
    model: Literal["churn_subscription", "dormancy"] = "churn_subscription"


class Broadcast(_Trigger):
    """Everyone (narrowed by the entry segment) once, at `at` (timezone-aware)."""

    type: Literal["broadcast"] = "broadcast"
    at: datetime

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time zone, e.g. 2026-12-01T10:00:00+09:00")
        return value


class NewProduct(_Trigger):
    """A product launched today (products.launched_on) in the customer's main category;
    with scope `any`, everyone on a day with any launch (one entry per day)."""

    type: Literal["new_product"] = "new_product"
    scope: Literal["main_category", "any"] = "main_category"


class Restocked(_Trigger):
    """A product back in stock (stock_events) that the customer favourited in the
    `lookback_days` before, or viewed or carted while it was out of stock."""

    type: Literal["restocked"] = "restocked"
    lookback_days: int = Field(default=180, ge=1, le=3650)


class RankUp(_Trigger):
    """A move to a higher rank at a refresh (rank_changes); `to` narrows the new ranks."""

    type: Literal["rank_up"] = "rank_up"
    to: tuple[RankKey, ...] | None = Field(default=None, min_length=1, max_length=20)


class RankAtRisk(_Trigger):
    """On `day_of_month`, customers whose rank would be lower `days_ahead` days later
    without another order (their rank recomputed by the shop's rank rules)."""

    type: Literal["rank_at_risk"] = "rank_at_risk"
    days_ahead: int = Field(default=30, ge=1, le=365)
    day_of_month: int = Field(default=1, ge=1, le=28)


class ProfileUpdated(_Trigger):
    """The customer record changed (customers.updated_at) after registration: an address,
    a phone or another detail. Only the latest change is visible in the warehouse."""

    type: Literal["profile_updated"] = "profile_updated"


class CouponExpiring(_Trigger):
    """An unused coupon grant expiring (shop-local date) in `days_before` days."""

    type: Literal["coupon_expiring"] = "coupon_expiring"
    days_before: int = Field(default=3, ge=0, le=365)


class Seasonal(_Trigger):
    """Everyone, once a year, `days_before` a calendar occasion (tokui.scenarios.calendar)
    or a custom month and day."""

    type: Literal["seasonal"] = "seasonal"
    occasion: Literal[
        "ochugen", "oseibo", "shogatsu", "mothers_day", "respect_for_aged_day", "custom"
    ]
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    days_before: int = Field(default=0, ge=0, le=90)

    @model_validator(mode="after")
    def _custom(self) -> Seasonal:
        custom = self.occasion == "custom"
        if custom != (self.month is not None and self.day is not None):
            raise ValueError("month and day go with occasion custom, and only with it")
        if custom:
            date(2024, self.month or 1, self.day or 1)  # a leap year: 29 February is valid
        return self


class Weekly(_Trigger):
    """Everyone, every week on `weekday` (0 = Monday), shop-local."""

    type: Literal["weekly"] = "weekly"
    weekday: int = Field(ge=0, le=6)


class Monthly(_Trigger):
    """Everyone, every month on `day` (1-28), shop-local."""

    type: Literal["monthly"] = "monthly"
    day: int = Field(ge=1, le=28)


Trigger = Annotated[
    CartAbandoned
    | BrowseAbandoned
    | Registered
    | Ordered
    | SubscriptionSkipped
    | SubscriptionCycleChanged
    | Birthday
    | RegistrationAnniversary
    | PointsExpiring
    | FirstPurchaseNoSecond
    | NextPurchaseOverdue
    | Dormant
    | SegmentEntered
    | SegmentExited
    | ChurnRisk
    | Broadcast
    | NewProduct
    | CouponExpiring
    | Seasonal
    | Weekly
    | CumulativeSpend
    | Restocked
    | RankUp
    | RankAtRisk
    | ProfileUpdated
    | Monthly,
    Field(discriminator="type"),
]
