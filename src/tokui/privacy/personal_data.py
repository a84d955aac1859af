"""Where a customer's personal data lives: the one list erasure works from.

Every warehouse table is either in PERSONAL_TABLES (with how its rows are found from a
customer id) or in NOT_PERSONAL (with why). tests/privacy/test_personal_data.py builds a
warehouse with every table the code creates and fails on any table in neither list, so
a new table cannot be forgotten. As a second net, erasure also deletes by `customer_id`
from any table that has that column and is in neither list.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokui.features.customer_features import FEATURES
from tokui.features.hashing import HASHES
from tokui.features.rank_history import RANK_CHANGES, RANK_RULES
from tokui.messaging.events import MESSAGE_EVENTS
from tokui.models.scores import (
    CUSTOMER_SCORES,
    PRODUCT_PAIRS,
    RECOMMENDATIONS,
    SUBSCRIPTION_SCORES,
)
from tokui.refresh.sales import DAILY_SALES
from tokui.segments.snapshot import EVENTS as SEGMENT_EVENTS
from tokui.segments.snapshot import MEMBERSHIPS, SIZES


@dataclass(frozen=True)
class PersonalTable:
    """A table with rows about one customer.

    Rows are found by `column` = the customer id, or, with `via`, by `column` being one
    of the keys a parent table holds for the customer (order lines via their orders).
    """

    table: str
    column: str = "customer_id"
    via: tuple[str, str] | None = None  # (parent table, parent key column)
    stitched: bool = False  # also anonymous rows whose anonymous id the customer used
    derived: bool = False  # rebuilt by the refresh; deleted now so it is gone at once


# Deletion order: children before the parents they are found through.
PERSONAL_TABLES: tuple[PersonalTable, ...] = (
    PersonalTable("order_items", "order_id", via=("orders", "order_id")),
    PersonalTable(
        "subscription_deliveries", "subscription_id", via=("subscriptions", "subscription_id")
    ),
    PersonalTable(
        "subscription_events", "subscription_id", via=("subscriptions", "subscription_id")
    ),
    PersonalTable("orders"),
    PersonalTable("subscriptions"),
    PersonalTable("web_events", stitched=True),
    PersonalTable("point_transactions"),
    PersonalTable("coupon_grants"),
    PersonalTable(FEATURES, derived=True),
    # A history the refresh appends to (not rebuilt); erased with the customer.
    PersonalTable(RANK_CHANGES),
    PersonalTable(HASHES, derived=True),
    PersonalTable(MEMBERSHIPS, derived=True),
    PersonalTable(SEGMENT_EVENTS, derived=True),
    PersonalTable(CUSTOMER_SCORES.name, derived=True),
    PersonalTable(SUBSCRIPTION_SCORES.name, derived=True),
    PersonalTable(RECOMMENDATIONS.name, derived=True),
    # Copied from the state DB's send log by the refresh; erased there too.
    PersonalTable(MESSAGE_EVENTS.name, derived=True),
    PersonalTable("customers"),
)

NOT_PERSONAL: dict[str, str] = {
    "products": "the catalogue",
    "coupons": "coupon definitions; who got one is in coupon_grants",
    "stock_events": "stock changes of products",
    RANK_RULES: "the shop's rank rules of the last refresh",
    DAILY_SALES: "totals per day and kind; no customer in a row (rebuilt by the refresh)",
    SIZES: "member counts per segment and date",
    PRODUCT_PAIRS.name: "products bought together, counted over all orders",
}

# Temporary tables: our staging tables and the in-memory tables Ibis registers.
TEMPORARY_PREFIXES = ("_tokui_", "ibis_")

# Columns that mark a table as holding personal data when it is in neither list.
PERSONAL_COLUMNS = frozenset(
    {"customer_id", "anonymous_id", "email", "phone", "line_user_id", "name_kana"}
)


def personal_table_names() -> list[str]:
    return [p.table for p in PERSONAL_TABLES]


def unclassified(tables: list[str]) -> list[str]:
    """Tables in neither list (staging tables of loads and Ibis memtables are skipped)."""
    known = set(personal_table_names()) | set(NOT_PERSONAL)
    return sorted(t for t in tables if t not in known and not t.startswith(TEMPORARY_PREFIXES))
