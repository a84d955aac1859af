"""The segment definition language: pydantic models, stored as JSON, exported as YAML.

A definition is a tree of conditions. Leaves compare a customer feature with a value,
look at behaviour (bought, viewed, carted, subscribed), refer to another segment or take
a random bucket; AND/OR/NOT nest them. Nothing here is SQL: compile.py turns a validated
tree into an Ibis expression, and every field name and operator is checked against the
customer_features schema before that.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_chars(value: str) -> str:
    # Values reach the database as literals; a NUL or other control character is never
    # meaningful in a category or product id and some engines cannot parse it.
    if _CONTROL.search(value):
        raise ValueError("control characters (e.g. NUL, newline) are not allowed")
    return value


Text = Annotated[str, AfterValidator(_no_control_chars)]

MAX_DEPTH = 8
MAX_NODES = 200

CompareOp = Literal[
    "eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "between", "is_null", "not_null"
]
Scalar = int | float | Text | bool | date


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Compare(_Node):
    """A feature compared with a value, e.g. frequency >= 3 or prefecture in [...]."""

    type: Literal["compare"] = "compare"
    field: Text = Field(min_length=1, max_length=64)
    op: CompareOp
    value: Scalar | list[Scalar] | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Compare:
        if self.op in ("is_null", "not_null"):
            if self.value is not None:
                raise ValueError(f"{self.op} takes no value")
        elif self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"{self.op} needs a non-empty list")
            if len(self.value) > 1000:
                raise ValueError(f"{self.op} takes at most 1000 values")
        elif self.op == "between":
            if not isinstance(self.value, list) or len(self.value) != 2:
                raise ValueError("between needs a list of two values [low, high]")
        elif self.value is None or isinstance(self.value, list):
            raise ValueError(f"{self.op} needs a single value")
        return self


class DaysAgo(_Node):
    """A date feature within the last N days of the reference date (or more than N ago)."""

    type: Literal["days_ago"] = "days_ago"
    field: Text = Field(min_length=1, max_length=64)
    within: int | None = Field(default=None, ge=0, le=36500)
    more_than: int | None = Field(default=None, ge=0, le=36500)

    @model_validator(mode="after")
    def _one_bound(self) -> DaysAgo:
        if self.within is None and self.more_than is None:
            raise ValueError("days_ago needs within or more_than")
        return self


class _Target(_Node):
    product_id: Text | None = Field(default=None, max_length=128)
    category: Text | None = Field(default=None, max_length=128)
    days: int | None = Field(default=None, ge=1, le=36500, description="last N days")

    @model_validator(mode="after")
    def _one_target(self) -> _Target:
        if (self.product_id is None) == (self.category is None):
            raise ValueError("give exactly one of product_id or category")
        return self


class Bought(_Target):
    """Bought the product or category (in the last N days), at least min_count times."""

    type: Literal["bought"] = "bought"
    min_count: int = Field(default=1, ge=1, le=10_000)


class ViewedNotBought(_Target):
    """Viewed the product or category in the period but did not buy it."""

    type: Literal["viewed_not_bought"] = "viewed_not_bought"


class CartNoOrder(_Node):
    """Added to cart in the last N days and placed no order since."""

    type: Literal["cart_no_order"] = "cart_no_order"
    days: int = Field(default=3, ge=1, le=365)


class Subscription(_Node):
    """Subscription state: ever had one, never had one, or has an active one."""

    type: Literal["subscription"] = "subscription"
    state: Literal["ever", "never", "active", "cancelled"]
    product_id: Text | None = Field(default=None, max_length=128)


class InSegment(_Node):
    """Member of another saved segment (its last snapshot)."""

    type: Literal["in_segment"] = "in_segment"
    segment: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")


class RandomBucket(_Node):
    """A stable random share of customers, e.g. a 10 % holdout: same salt, same people."""

    type: Literal["random_bucket"] = "random_bucket"
    salt: Text = Field(min_length=1, max_length=64)
    percent_from: int = Field(default=0, ge=0, le=100)
    percent_to: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _range(self) -> RandomBucket:
        if self.percent_from >= self.percent_to:
            raise ValueError("percent_from must be below percent_to")
        return self


class And(_Node):
    type: Literal["and"] = "and"
    conditions: list[Condition] = Field(min_length=1, max_length=50)


class Or(_Node):
    type: Literal["or"] = "or"
    conditions: list[Condition] = Field(min_length=1, max_length=50)


class Not(_Node):
    type: Literal["not"] = "not"
    condition: Condition


Condition = Annotated[
    Compare
    | DaysAgo
    | Bought
    | ViewedNotBought
    | CartNoOrder
    | Subscription
    | InSegment
    | RandomBucket
    | And
    | Or
    | Not,
    Field(discriminator="type"),
]

And.model_rebuild()
Or.model_rebuild()
Not.model_rebuild()


class SegmentDefinition(_Node):
    """A named segment: who belongs, as a condition tree."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")
    name_ja: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    condition: Condition

    @model_validator(mode="after")
    def _bounded(self) -> SegmentDefinition:
        depth, nodes = _measure(self.condition)
        if depth > MAX_DEPTH:
            raise ValueError(f"conditions nest {depth} deep; at most {MAX_DEPTH}")
        if nodes > MAX_NODES:
            raise ValueError(f"{nodes} conditions; at most {MAX_NODES}")
        return self


def _measure(node: Condition) -> tuple[int, int]:
    if isinstance(node, And | Or):
        parts = [_measure(c) for c in node.conditions]
        return 1 + max(d for d, _ in parts), 1 + sum(n for _, n in parts)
    if isinstance(node, Not):
        d, n = _measure(node.condition)
        return d + 1, n + 1
    return 1, 1
