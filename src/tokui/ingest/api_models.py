"""Request bodies of the ingestion API, validated with pydantic against the canonical schema.

The field names are the warehouse's column names (docs/data-model.md). Values go through
the same parsers as file imports (tokui.ingest.parse): a prefecture may be sent as
「東京」, "Tokyo" or "13" and is stored as 東京都; a postal code as 〒100-0001 and is stored
as 1000001; a time without an offset is the shop's local time. Validation is strict
otherwise: a number sent as a string, an unknown field or a value outside a coded
column's list is an error naming the item and the field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tokui.ingest import parse
from tokui.warehouse.schema import (
    GENDERS,
    ORDER_STATUSES,
    STOCK_STATUSES,
    WEB_EVENT_TYPES,
)

MAX_EVENTS = 1000
MAX_RECORDS = 1000
MAX_ORDER_LINES = 500
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

PRODUCT_EVENTS = frozenset({"product_view", "cart_add", "cart_remove", "favorite"})


def _tz(info: ValidationInfo) -> str:
    context = info.context or {}
    return str(context.get("timezone", parse.SHOP_TZ))


def _parsed(fn: Any, value: Any, *args: Any) -> Any:
    try:
        return fn(value, *args)
    except parse.ParseError as exc:
        raise PydanticCustomError(exc.rule, "{message}", {"message": exc.message}) from None


def _to_datetime(value: Any, info: ValidationInfo) -> Any:
    """An ISO or Japanese-format time as naive UTC; other types fail the strict check.

    ISO 8601, what programs and the snippet send, is read by the C parser first: the
    regular-expression parser of file imports costs more than the rest of an event's
    validation. Both read a time without an offset as the shop's local time.
    """
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _parsed(parse.parse_datetime, value, _tz(info))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(_tz(info)))
    return moment.astimezone(UTC).replace(tzinfo=None)


def _to_date(value: Any) -> Any:
    if isinstance(value, str):
        return _parsed(parse.parse_date, value)
    return value


def _to_prefecture(value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        return _parsed(parse.parse_prefecture, value)
    return None if isinstance(value, str) else value


def _to_postal_code(value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        return _parsed(parse.parse_postal_code, value)
    return None if isinstance(value, str) else value


Timestamp = Annotated[datetime, BeforeValidator(_to_datetime)]
Day = Annotated[date, BeforeValidator(_to_date)]
Prefecture = Annotated[str | None, BeforeValidator(_to_prefecture)]
PostalCode = Annotated[str | None, BeforeValidator(_to_postal_code)]
Id = Annotated[str, Field(min_length=1, max_length=128)]
Text200 = Annotated[str, Field(max_length=200)]
Money = Annotated[int, Field(ge=0, le=INT64_MAX)]
Count32 = Annotated[int, Field(ge=1, le=INT32_MAX)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class WebEventIn(_Strict):
    event_id: Id
    occurred_at: Timestamp
    event_type: Literal[WEB_EVENT_TYPES]  # type: ignore[valid-type]
    anonymous_id: Id | None = None
    customer_id: Id | None = None
    session_id: Id | None = None
    product_id: Id | None = None
    category: Text200 | None = None
    search_query: Annotated[str, Field(max_length=500)] | None = None
    page_url: Annotated[str, Field(max_length=2048)] | None = None
    referrer: Annotated[str, Field(max_length=2048)] | None = None
    quantity: Annotated[int, Field(ge=1, le=10_000)] | None = None

    @model_validator(mode="after")
    def _who_and_what(self) -> WebEventIn:
        if self.anonymous_id is None and self.customer_id is None:
            raise PydanticCustomError(
                "missing_identity", "an event needs an anonymous_id, a customer_id or both"
            )
        if self.event_type == "login" and (self.anonymous_id is None or self.customer_id is None):
            raise PydanticCustomError(
                "login_identity",
                "a login event links an anonymous_id to a customer_id: both are required",
            )
        if self.event_type in PRODUCT_EVENTS and self.product_id is None:
            raise PydanticCustomError(
                "missing_product",
                "a {event_type} event needs a product_id",
                {"event_type": self.event_type},
            )
        return self


class EventBatch(_Strict):
    events: Annotated[list[WebEventIn], Field(min_length=1, max_length=MAX_EVENTS)]


class CustomerIn(_Strict):
    customer_id: Id
    email: Annotated[str, Field(max_length=320)] | None = None
    name: Text200 | None = None
    name_kana: Text200 | None = None
    gender: Literal[GENDERS] | None = None  # type: ignore[valid-type]
    birth_date: Day | None = None
    prefecture: Prefecture = None
    postal_code: PostalCode = None
    address1: Text200 | None = None  # 市区町村・町名 (the prefecture is its own field)
    address2: Text200 | None = None  # 番地・建物名
    phone: Annotated[str, Field(max_length=40)] | None = None
    registered_at: Timestamp
    rank: Text200 | None = None
    # Consent is never assumed: absent means no.
    email_opt_in: bool = False
    line_opt_in: bool = False
    dm_opt_in: bool = False
    push_opt_in: bool = False
    line_user_id: Id | None = None
    time_zone: str = parse.SHOP_TZ
    acquisition_channel: Text200 | None = None
    updated_at: Timestamp | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value:
            return None
        if "@" not in value or any(c.isspace() for c in value):
            raise PydanticCustomError("email", "not an email address: {value!r}", {"value": value})
        return value.lower()

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "time_zone", "not an IANA time zone: {value!r}", {"value": value}
            ) from None
        return value


class CustomerBatch(_Strict):
    customers: Annotated[list[CustomerIn], Field(min_length=1, max_length=MAX_RECORDS)]


class ProductIn(_Strict):
    product_id: Id
    sku: Id | None = None
    name: Text200
    category: Text200
    subcategory: Text200 | None = None
    price: Money
    is_subscription: bool = False
    is_gift: bool = False
    launched_on: Day | None = None
    stock_status: Literal[STOCK_STATUSES] = "in_stock"  # type: ignore[valid-type]
    stock_quantity: Annotated[int, Field(ge=0, le=INT64_MAX)] | None = None
    updated_at: Timestamp | None = None


class ProductBatch(_Strict):
    products: Annotated[list[ProductIn], Field(min_length=1, max_length=MAX_RECORDS)]


class OrderLineIn(_Strict):
    line_no: Count32 | None = None
    product_id: Id
    product_name: Text200 | None = None
    category: Text200 | None = None
    quantity: Count32
    unit_price: Money
    amount: Money | None = None


class OrderIn(_Strict):
    """An order with all its lines: lines no longer sent are removed from the warehouse."""

    order_id: Id
    customer_id: Id | None = None
    ordered_at: Timestamp
    status: Literal[ORDER_STATUSES] = "completed"  # type: ignore[valid-type]
    channel: Text200 | None = None
    subtotal: Money | None = None
    discount: Money = 0
    shipping_fee: Money = 0
    points_used: Money = 0
    total: Money | None = None
    points_earned: Money = 0
    coupon_code: Id | None = None
    subscription_id: Id | None = None
    payment_method: Text200 | None = None
    shipping_prefecture: Prefecture = None
    is_gift: bool = False
    items: Annotated[list[OrderLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)]

    @model_validator(mode="after")
    def _lines_and_totals(self) -> OrderIn:
        seen: set[int] = set()
        for position, line in enumerate(self.items, start=1):
            if line.line_no is None:
                line.line_no = position
            if line.line_no in seen:
                raise PydanticCustomError(
                    "duplicate_key", "line_no {line_no} appears twice", {"line_no": line.line_no}
                )
            seen.add(line.line_no)
            if line.amount is None:
                line.amount = line.quantity * line.unit_price
        if self.subtotal is None:
            self.subtotal = sum(line.amount or 0 for line in self.items)
        if self.total is None:
            total = self.subtotal - self.discount + self.shipping_fee - self.points_used
            if total < 0:
                raise PydanticCustomError(
                    "non_negative", "total would be negative ({total}); send it", {"total": total}
                )
            self.total = total
        return self


class OrderBatch(_Strict):
    orders: Annotated[list[OrderIn], Field(min_length=1, max_length=MAX_RECORDS)]


class ItemError(BaseModel):
    """One problem in a request body, by item index and field."""

    index: int | None = Field(description="0-based position of the item in the batch")
    field: str | None = Field(description="the field, e.g. `items[2].quantity`")
    loc: str = Field(description="full path in the body, e.g. `orders[3].items[2].quantity`")
    type: str = Field(description="the rule broken (pydantic error type or ours)")
    message: str


class ErrorBody(BaseModel):
    detail: str
    errors: list[ItemError] = []


class EventResult(BaseModel):
    received: int = Field(description="events in the request")
    accepted: int = Field(description="events stored now")
    duplicates: int = Field(description="events whose event_id was already stored or repeated")


class UpsertResult(BaseModel):
    received: int
    inserted: int
    updated: int
    unchanged: int
    lines: dict[str, int] | None = Field(
        default=None, description="order lines: inserted, updated, unchanged, removed"
    )
