"""Evaluating entry triggers against the warehouse (Ibis expressions, never SQL text).

`fire(con, trigger, since, until)` returns who the trigger fired for in the window
(since, until]: each with an occurrence string that identifies what fired (the cart add,
the order, the birthday's year). The engine stores (scenario, customer, occurrence) under
a unique constraint, so a window evaluated twice enrolls nobody twice.

Event triggers fire at the event time plus their delay; date and lifecycle triggers fire
once per shop-local day, at the first tick of that day; segment and score triggers fire
for the refresh dates (as_of) that fall in the window.

Every trigger gives the same entries whether a window is evaluated whole or cut in
pieces (each event, each day is judged on its own), and each entry carries the moment it
fired (`Fired.at`): the dry run evaluates 90 days in one call and orders the entries by it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from tokui.analytics.base import local_date, purchases
from tokui.clock import DEFAULT_TZ, utc_naive
from tokui.features.customer_features import (
    FEATURES,
    customer_features_expr,
    points_state,
    web_state,
)
from tokui.features.rank_history import RANK_CHANGES, level_expr, saved_rules
from tokui.features.ranks import RankRules, rank_expr
from tokui.scenarios.calendar import occasion_date
from tokui.scenarios.triggers_def import (
    Birthday,
    Broadcast,
    BrowseAbandoned,
    CartAbandoned,
    ChurnRisk,
    CouponExpiring,
    CumulativeSpend,
    Dormant,
    FirstPurchaseNoSecond,
    Monthly,
    NewProduct,
    NextPurchaseOverdue,
    Ordered,
    PointsExpiring,
    ProfileUpdated,
    RankAtRisk,
    RankUp,
    Registered,
    RegistrationAnniversary,
    Restocked,
    Seasonal,
    SegmentEntered,
    SegmentExited,
    SubscriptionCycleChanged,
    SubscriptionSkipped,
    Trigger,
    Weekly,
)
from tokui.segments.compile import Context
from tokui.segments.dsl import And, Bought, Compare, DaysAgo, Not, Or, RandomBucket, Subscription

MAX_DAYS = 400  # a window longer than this is a configuration error, not a catch-up


class Fired:
    """Who a trigger fired for, and which occurrence; equal and hashed by those two.

    A plain slotted class rather than a frozen dataclass: a broadcast or a seasonal
    trigger makes a million of them, and the frozen dataclass's __init__ alone cost
    seconds. Treat instances as immutable."""

    __slots__ = ("at", "customer_id", "occurrence")

    def __init__(self, customer_id: str, occurrence: str, at: datetime | None = None) -> None:
        self.customer_id = customer_id
        self.occurrence = occurrence
        # When it fired (aware UTC): the event time plus the trigger's delay, or the start
        # of the shop-local day of a date trigger. Not part of the identity.
        self.at = at

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fired):
            return NotImplemented
        return (self.customer_id, self.occurrence) == (other.customer_id, other.occurrence)

    def __hash__(self) -> int:
        return hash((self.customer_id, self.occurrence))

    def __repr__(self) -> str:
        return f"Fired({self.customer_id!r}, {self.occurrence!r}, at={self.at!r})"


def _utc(value: object) -> datetime:
    """A warehouse timestamp (naive UTC) as an aware UTC datetime."""
    moment: datetime = pd.Timestamp(value).to_pydatetime()
    return moment.replace(tzinfo=UTC)


def _start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a shop-local day, in UTC: when a date trigger fires."""
    return datetime.combine(day, time(), tz).astimezone(UTC)


def _rows(expr: ibis.Table) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = expr.to_pyarrow().to_pylist()
    return rows


def _days(since: datetime, until: datetime, tz: ZoneInfo) -> list[date]:
    """Shop-local days d with local(since).date < d <= local(until).date."""
    first = since.astimezone(tz).date() + timedelta(days=1)
    last = until.astimezone(tz).date()
    n = (last - first).days + 1
    if n > MAX_DAYS:
        raise ValueError(f"trigger window of {n} days is longer than {MAX_DAYS}")
    return [first + timedelta(days=i) for i in range(max(0, n))]


def _has(con: BaseBackend, table: str) -> bool:
    return table in con.list_tables()


def _abandoned(
    con: BaseBackend, kind: str, hours: int, since: datetime, until: datetime
) -> list[Fired]:
    """Customers whose last `kind` event (cart_add or product_view) fell in the shifted
    window and was not followed within `hours` by an order (or, for views, a cart add)."""
    if not _has(con, "web_events"):
        return []
    delay = timedelta(hours=hours)
    lo, hi = utc_naive(since - delay), utc_naive(until - delay)
    w = con.table("web_events")
    ev = w.filter(
        (w.event_type == kind)
        & w.customer_id.notnull()
        & (w.occurred_at > lo)
        & (w.occurred_at <= hi)
    )
    # Each event on its own (not the customer's last of the window): the same entries
    # whether the window is a minute of a tick or the 90 days of a dry run.
    last = ev.select("customer_id", at=ev.occurred_at).distinct()
    o = purchases(con)
    followed = last.join(o, "customer_id").filter(
        lambda t: (t.ordered_at > t.at) & (t.ordered_at <= t.at + ibis.interval(hours=hours))
    )
    result = last.anti_join(followed.select("customer_id", "at"), ["customer_id", "at"])
    if kind == "product_view":
        carts = w.filter(w.event_type == "cart_add").select("customer_id", cart_at=w.occurred_at)
        carted = result.join(carts, "customer_id").filter(
            lambda t: (t.cart_at > t.at) & (t.cart_at <= t.at + ibis.interval(hours=hours))
        )
        result = result.anti_join(carted.select("customer_id", "at"), ["customer_id", "at"])
    return [
        Fired(str(r["customer_id"]), abandoned_occurrence(kind, r["at"]), _utc(r["at"]) + delay)
        for r in _rows(result)
    ]


def abandoned_occurrence(kind: str, at: object) -> str:
    """The occurrence of an abandoned cart or view: the event's kind and time, spelled the
    same by the tick and by the event hook (tokui.scenarios.timers)."""
    tag = "cart" if kind == "cart_add" else "view"
    return f"{tag}:{pd.Timestamp(at).isoformat()}"


def _registered(con: BaseBackend, since: datetime, until: datetime) -> list[Fired]:
    c = con.table("customers")
    c = c.filter((c.registered_at > utc_naive(since)) & (c.registered_at <= utc_naive(until)))
    rows = _rows(c.select("customer_id", "registered_at"))
    return [Fired(str(r["customer_id"]), "registered", _utc(r["registered_at"])) for r in rows]


def _ordered(con: BaseBackend, t: Ordered, since: datetime, until: datetime) -> list[Fired]:
    o = purchases(con)
    if t.nth is not None:
        w = ibis.window(group_by="customer_id", order_by=["ordered_at", "order_id"])
        o = o.mutate(n=ibis.row_number().over(w) + 1)
        o = o.filter(o.n == t.nth)
    o = o.filter((o.ordered_at > utc_naive(since)) & (o.ordered_at <= utc_naive(until)))
    if t.product_id is not None or t.category is not None:
        items = con.table("order_items")
        if t.product_id is not None:
            items = items.filter(items.product_id == t.product_id)
        if t.category is not None:
            items = items.filter(items.category == t.category)
        o = o.semi_join(items, "order_id")
    rows = _rows(o.select("customer_id", "order_id", "ordered_at"))
    return [
        Fired(str(r["customer_id"]), f"order:{r['order_id']}", _utc(r["ordered_at"])) for r in rows
    ]


def _cumulative_spend(
    con: BaseBackend, amount: int, since: datetime, until: datetime
) -> list[Fired]:
    """The order at which the running total of the customer's completed orders first
    reaches `amount` (orders in time order, the order id breaking ties)."""
    o = purchases(con)
    w = ibis.cumulative_window(group_by="customer_id", order_by=["ordered_at", "order_id"])
    o = o.mutate(spent=o.total.sum().over(w))
    o = o.filter(
        (o.spent >= amount)
        & (o.spent - o.total < amount)
        & (o.ordered_at > utc_naive(since))
        & (o.ordered_at <= utc_naive(until))
    )
    rows = _rows(o.select("customer_id", "ordered_at"))
    return [Fired(str(r["customer_id"]), f"spend:{amount}", _utc(r["ordered_at"])) for r in rows]


def _subscription_event(
    con: BaseBackend, kind: str, since: datetime, until: datetime
) -> list[Fired]:
    if not _has(con, "subscription_events"):
        return []
    e = con.table("subscription_events")
    s = con.table("subscriptions").select("subscription_id", "customer_id")
    e = e.filter(
        (e.event_type == kind)
        & (e.occurred_at > utc_naive(since))
        & (e.occurred_at <= utc_naive(until))
    )
    rows = _rows(e.join(s, "subscription_id").select("customer_id", "event_id", "occurred_at"))
    return [
        Fired(str(r["customer_id"]), f"{kind}:{r['event_id']}", _utc(r["occurred_at"]))
        for r in rows
    ]


def _month_days(days: list[date], shift: int) -> dict[int, list[date]]:
    """month * 100 + day of each day shifted by `shift` days -> the days (one query for a
    whole window; a window longer than a year meets a month-day twice)."""
    out: dict[int, list[date]] = {}
    for d in days:
        target = d + timedelta(days=shift)
        out.setdefault(target.month * 100 + target.day, []).append(d)
    return out


def _birthdays(con: BaseBackend, days_before: int, days: list[date], tz: ZoneInfo) -> list[Fired]:
    if not days:
        return []
    c = con.table("customers").filter(lambda t: t.birth_date.notnull())
    keys = _month_days(days, days_before)
    c = c.mutate(md=c.birth_date.month() * 100 + c.birth_date.day())
    out: list[Fired] = []
    for r in _rows(c.filter(c.md.isin(list(keys))).select("customer_id", "md")):
        for d in keys[int(str(r["md"]))]:
            target = d + timedelta(days=days_before)
            out.append(Fired(str(r["customer_id"]), f"birthday:{target.year}", _start(d, tz)))
    return out


def _anniversaries(con: BaseBackend, days: list[date], tz: ZoneInfo) -> list[Fired]:
    if not days:
        return []
    c = con.table("customers")
    c = c.mutate(reg=local_date(c.registered_at))
    keys = _month_days(days, 0)
    c = c.mutate(md=c.reg.month() * 100 + c.reg.day(), year=c.reg.year())
    out: list[Fired] = []
    for r in _rows(c.filter(c.md.isin(list(keys))).select("customer_id", "md", "year")):
        for d in keys[int(str(r["md"]))]:
            if int(str(r["year"])) < d.year:
                out.append(Fired(str(r["customer_id"]), f"anniversary:{d.year}", _start(d, tz)))
    return out


def _points_expiring(
    con: BaseBackend, days_before: int, days: list[date], tz: ZoneInfo
) -> list[Fired]:
    if not _has(con, "point_transactions") or not days:
        return []
    p = con.table("point_transactions")
    targets = [d + timedelta(days=days_before) for d in days]
    hit = p.filter((p.kind == "earn") & p.expires_on.isin(targets) & (p.points > 0))
    rows = _rows(hit.select("customer_id", "expires_on").distinct())
    return [
        Fired(
            str(r["customer_id"]),
            f"points:{r['expires_on']}",
            _start(_day(r["expires_on"]) - timedelta(days=days_before), tz),
        )
        for r in rows
    ]


def _day(value: object) -> date:
    day: date = pd.Timestamp(value).date()
    return day


def _per_customer(con: BaseBackend) -> ibis.Table:
    p = purchases(con)
    return p.group_by("customer_id").aggregate(
        first=p.order_date.min(), last=p.order_date.max(), orders=p.count()
    )


def _first_no_second(con: BaseBackend, n: int, days: list[date], tz: ZoneInfo) -> list[Fired]:
    if not days:
        return []
    per = _per_customer(con)
    firsts = [d - timedelta(days=n) for d in days]
    hit = per.filter((per.orders == 1) & per.first.isin(firsts))
    return [
        Fired(
            str(r["customer_id"]),
            "first_no_second",
            _start(_day(r["first"]) + timedelta(days=n), tz),
        )
        for r in _rows(hit.select("customer_id", "first"))
    ]


def _dormant(con: BaseBackend, n: int, days: list[date], tz: ZoneInfo) -> list[Fired]:
    if not days:
        return []
    per = _per_customer(con)
    lasts = [d - timedelta(days=n) for d in days]
    hit = per.filter(per.last.isin(lasts))
    rows = _rows(hit.select("customer_id", "last"))
    return [
        Fired(
            str(r["customer_id"]),
            f"dormant:{r['last']}",
            _start(_day(r["last"]) + timedelta(days=n), tz),
        )
        for r in rows
    ]


def _overdue(con: BaseBackend, days_after: int, days: list[date], tz: ZoneInfo) -> list[Fired]:
    if not days or not _has(con, "customer_scores"):
        return []
    s = con.table("customer_scores")
    s = s.filter((s.model == "next_purchase") & s.next_purchase_date.notnull())
    targets = [d - timedelta(days=days_after) for d in days]
    s = s.filter(s.next_purchase_date.isin(targets))
    per = _per_customer(con)
    # An order on or after the expected date means the customer is not overdue.
    hit = s.join(per, "customer_id", how="left").filter(
        lambda t: t["last"].isnull() | (t["last"] < t.next_purchase_date)
    )
    rows = _rows(hit.select("customer_id", "next_purchase_date"))
    return [
        Fired(
            str(r["customer_id"]),
            f"overdue:{r['next_purchase_date']}",
            _start(_day(r["next_purchase_date"]) + timedelta(days=days_after), tz),
        )
        for r in rows
    ]


def _segment(con: BaseBackend, key: str, event: str, days: list[date], tz: ZoneInfo) -> list[Fired]:
    if not days or not _has(con, "segment_events"):
        return []
    e = con.table("segment_events")
    e = e.filter((e.segment_key == key) & (e.event == event) & e.as_of.isin(days))
    rows = _rows(e.select("customer_id", "as_of"))
    return [
        Fired(str(r["customer_id"]), f"{event}:{r['as_of']}", _start(_day(r["as_of"]), tz))
        for r in rows
    ]


def _churn(con: BaseBackend, t: ChurnRisk, days: list[date], tz: ZoneInfo) -> list[Fired]:
    if not days or not _has(con, "customer_scores"):
        return []
    s = con.table("customer_scores")
    s = s.filter((s.model == t.model) & (s.churn_probability >= t.threshold) & s.as_of.isin(days))
    rows = _rows(s.select("customer_id", "as_of"))
    return [
        Fired(str(r["customer_id"]), f"churn:{r['as_of']}", _start(_day(r["as_of"]), tz))
        for r in rows
    ]


def _broadcast(con: BaseBackend, t: Broadcast, since: datetime, until: datetime) -> list[Fired]:
    at = t.at.astimezone(UTC)
    if not (since < at <= until):
        return []
    return _everyone(con, f"broadcast:{at.isoformat()}", at)


def _everyone(con: BaseBackend, occurrence: str, at: datetime) -> list[Fired]:
    """Every customer registered by `at` (a replay of the past leaves out later members)."""
    c = con.table("customers")
    rows = _rows(c.filter(c.registered_at <= utc_naive(at)).select("customer_id"))
    return [Fired(str(r["customer_id"]), occurrence, at) for r in rows]


def _new_product(con: BaseBackend, t: NewProduct, days: list[date], tz: ZoneInfo) -> list[Fired]:
    if not days:
        return []
    p = con.table("products")
    launched = p.filter(p.launched_on.isin(days) & p.category.notnull())
    if t.scope == "any":
        # One entry per launch day, however many products came out that day.
        out: list[Fired] = []
        for r in _rows(launched.select("launched_on").distinct()):
            day = _day(r["launched_on"])
            out += _everyone(con, f"new:{day.isoformat()}", _start(day, tz))
        return out
    if not _has(con, FEATURES):
        return []
    f = con.table(FEATURES).select("customer_id", "main_category")
    hit = f.join(launched, f.main_category == launched.category)
    rows = _rows(hit.select("customer_id", "product_id", "launched_on"))
    return [
        Fired(str(r["customer_id"]), f"new:{r['product_id']}", _start(_day(r["launched_on"]), tz))
        for r in rows
    ]


def _coupon_expiring(
    con: BaseBackend, days_before: int, days: list[date], tz: ZoneInfo
) -> list[Fired]:
    if not days or not _has(con, "coupon_grants"):
        return []
    g = con.table("coupon_grants")
    targets = [d + timedelta(days=days_before) for d in days]
    g = g.mutate(expires_on=local_date(g.expires_at))
    hit = g.filter(g.used_at.isnull() & g.expires_on.isin(targets))
    rows = _rows(hit.select("customer_id", "grant_id", "expires_on"))
    return [
        Fired(
            str(r["customer_id"]),
            f"coupon:{r['grant_id']}",
            _start(_day(r["expires_on"]) - timedelta(days=days_before), tz),
        )
        for r in rows
    ]


def _seasonal(con: BaseBackend, t: Seasonal, days: list[date], tz: ZoneInfo) -> list[Fired]:
    out: list[Fired] = []
    name = t.occasion if t.occasion != "custom" else f"{t.month:02d}-{t.day:02d}"
    for d in days:
        # The occasion this day leads up to may fall in the next year (days_before).
        for year in (d.year, d.year + 1):
            target = occasion_date(t.occasion, year, t.month, t.day)
            if target - timedelta(days=t.days_before) == d:
                out += _everyone(con, f"season:{name}:{year}", _start(d, tz))
    return out


def _weekly(con: BaseBackend, t: Weekly, days: list[date], tz: ZoneInfo) -> list[Fired]:
    out: list[Fired] = []
    for d in days:
        if d.weekday() == t.weekday:
            out += _everyone(con, f"weekly:{d.isoformat()}", _start(d, tz))
    return out


def _monthly(con: BaseBackend, t: Monthly, days: list[date], tz: ZoneInfo) -> list[Fired]:
    out: list[Fired] = []
    for d in days:
        if d.day == t.day:
            out += _everyone(con, f"monthly:{d.isoformat()}", _start(d, tz))
    return out


def _restocked(con: BaseBackend, t: Restocked, since: datetime, until: datetime) -> list[Fired]:
    """Customers interested in a product that came back in stock in the window: they
    favourited it in the `lookback_days` before the restock, or viewed or carted it
    between the stock-out and the restock (they came for it and found it gone)."""
    if not _has(con, "stock_events") or not _has(con, "web_events"):
        return []
    s = con.table("stock_events")
    back = s.filter(
        (s.event_type == "restock")
        & (s.occurred_at > utc_naive(since))
        & (s.occurred_at <= utc_naive(until))
    ).select("product_id", restock_at=s.occurred_at)
    outs = s.filter(s.event_type == "out_of_stock").select(
        out_product=s.product_id, out_at=s.occurred_at
    )
    # The stock-out each restock ends: the latest one before it (none if not recorded).
    spans = (
        back.left_join(outs, [back.product_id == outs.out_product, outs.out_at < back.restock_at])
        .group_by(["product_id", "restock_at"])
        .aggregate(out_at=lambda x: x.out_at.max())
    )
    w = con.table("web_events")
    w = w.filter(w.customer_id.notnull() & w.product_id.notnull()).select(
        "customer_id", "event_type", ev_product=w.product_id, ev_at=w.occurred_at
    )
    lookback = ibis.interval(days=t.lookback_days)
    favourited = spans.join(
        w,
        [
            spans.product_id == w.ev_product,
            w.event_type == "favorite",
            w.ev_at < spans.restock_at,
            w.ev_at >= spans.restock_at - lookback,
        ],
    )
    waited = spans.join(
        w,
        [
            spans.product_id == w.ev_product,
            w.event_type.isin(["product_view", "cart_add"]),
            spans.out_at.notnull(),
            w.ev_at > spans.out_at,
            w.ev_at < spans.restock_at,
        ],
    )
    cols = ["customer_id", "product_id", "restock_at"]
    hit = ibis.union(favourited.select(*cols), waited.select(*cols), distinct=True)
    return [
        Fired(
            str(r["customer_id"]),
            f"restock:{r['product_id']}:{pd.Timestamp(r['restock_at']).isoformat()}",
            _utc(r["restock_at"]),
        )
        for r in _rows(hit)
    ]


def _rank_up(con: BaseBackend, t: RankUp, days: list[date], tz: ZoneInfo) -> list[Fired]:
    if not days or not _has(con, RANK_CHANGES):
        return []
    r = con.table(RANK_CHANGES)
    r = r.filter((r.direction == "up") & r.as_of.isin(days))
    if t.to is not None:
        r = r.filter(r.new_rank.isin(list(t.to)))
    rows = _rows(r.select("customer_id", "new_rank", "as_of"))
    return [
        Fired(
            str(x["customer_id"]),
            f"rank_up:{x['new_rank']}:{x['as_of']}",
            _start(_day(x["as_of"]), tz),
        )
        for x in rows
    ]


def _rank_at_risk(con: BaseBackend, t: RankAtRisk, days: list[date], tz: ZoneInfo) -> list[Fired]:
    """Ranks recomputed `days_ahead` days later over the orders known today (so: if the
    customer orders nothing more), with the rules of the last refresh, against the rank
    of the last refresh. A whole features computation per check day: once a month."""
    checks = [d for d in days if d.day == t.day_of_month]
    if not checks or not _has(con, FEATURES):
        return []
    rules = saved_rules(con)
    f = con.table(FEATURES)
    current = f.select("customer_id", rank=f.computed_rank)
    current = current.mutate(level=level_expr(current.rank, rules))
    current = current.filter(current.level > 0)
    out: list[Fired] = []
    for d in checks:
        later = d + timedelta(days=t.days_ahead)
        source, main = _for_rules(con, rules, later)
        expr = customer_features_expr(source, later, main=main)
        projected = expr.select(
            "customer_id", projected=rank_expr(Context(con, expr, later), rules)
        )
        projected = projected.mutate(p_level=level_expr(projected.projected, rules))
        hit = current.join(projected, "customer_id").filter(lambda x: x.p_level < x.level)
        out += [
            Fired(str(r["customer_id"]), f"rank_keep:{r['rank']}:{d.isoformat()}", _start(d, tz))
            for r in _rows(hit.select("customer_id", "rank"))
        ]
    return out


class _WithEmpty:
    """The warehouse with some tables read as empty (everything else passed through)."""

    def __init__(self, con: BaseBackend, empty: set[str]) -> None:
        self._con = con
        self._empty = empty

    def table(self, name: str, *args: Any, **kwargs: Any) -> ibis.Table:
        t = self._con.table(name, *args, **kwargs)
        return t.filter(ibis.literal(False)) if name in self._empty else t

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


# Features that come of the customers' main category and product (item_behaviour).
MAIN_FIELDS = {"main_category", "main_product", "main_category_share", "persona"}


def _for_rules(con: BaseBackend, rules: RankRules, as_of: date) -> tuple[Any, bool]:
    """The warehouse to compute features with for ranking by `rules`, and whether the
    main category and product are needed (customer_features_expr's `main`): web events
    and point transactions read as empty, and the main category and product left out,
    when no rule looks at what comes of them (the shipped rules do not), since they are
    most of a whole features computation. The columns stay, empty, so the rules compile
    as against the full features."""
    fields: set[str] = set()
    stack: list[Any] = [r.condition for r in rules.ranks]
    while stack:
        node = stack.pop()
        if isinstance(node, And | Or):
            stack += node.conditions
        elif isinstance(node, Not):
            stack.append(node.condition)
        elif isinstance(node, Compare | DaysAgo):
            fields.add(node.field)
        elif not isinstance(node, Bought | Subscription | RandomBucket):
            return con, True  # reads web events itself, or another segment: everything
    web = set(web_state(con, as_of).columns) - {"customer_id"}
    points = set(points_state(con, as_of).columns) - {"customer_id"}
    empty = set()
    if not fields & web:
        empty.add("web_events")
    if not fields & points:
        empty.add("point_transactions")
    return (_WithEmpty(con, empty) if empty else con), bool(fields & MAIN_FIELDS)


def _profile_updated(con: BaseBackend, since: datetime, until: datetime) -> list[Fired]:
    """customers.updated_at in the window, more than an hour after registration (the
    record a registration itself writes is not a change)."""
    c = con.table("customers")
    c = c.filter(
        c.updated_at.notnull()
        & (c.updated_at > utc_naive(since))
        & (c.updated_at <= utc_naive(until))
        & (c.updated_at > c.registered_at + ibis.interval(hours=1))
    )
    rows = _rows(c.select("customer_id", "updated_at"))
    return [
        Fired(
            str(r["customer_id"]),
            f"profile:{pd.Timestamp(r['updated_at']).isoformat()}",
            _utc(r["updated_at"]),
        )
        for r in rows
    ]


def fire(
    con: BaseBackend,
    trigger: Trigger,
    since: datetime,
    until: datetime,
    tz: ZoneInfo = DEFAULT_TZ,
) -> list[Fired]:
    """Who `trigger` fired for in (since, until]; timezone-aware bounds."""
    if until <= since:
        return []
    days = _days(since, until, tz)
    if isinstance(trigger, CartAbandoned):
        out = _abandoned(con, "cart_add", trigger.hours, since, until)
    elif isinstance(trigger, BrowseAbandoned):
        out = _abandoned(con, "product_view", trigger.hours, since, until)
    elif isinstance(trigger, Registered):
        out = _registered(con, since, until)
    elif isinstance(trigger, Ordered):
        out = _ordered(con, trigger, since, until)
    elif isinstance(trigger, CumulativeSpend):
        out = _cumulative_spend(con, trigger.amount, since, until)
    elif isinstance(trigger, SubscriptionSkipped):
        out = _subscription_event(con, "skip", since, until)
    elif isinstance(trigger, SubscriptionCycleChanged):
        out = _subscription_event(con, "cycle_change", since, until)
    elif isinstance(trigger, Birthday):
        out = _birthdays(con, trigger.days_before, days, tz)
    elif isinstance(trigger, RegistrationAnniversary):
        out = _anniversaries(con, days, tz)
    elif isinstance(trigger, PointsExpiring):
        out = _points_expiring(con, trigger.days_before, days, tz)
    elif isinstance(trigger, FirstPurchaseNoSecond):
        out = _first_no_second(con, trigger.days, days, tz)
    elif isinstance(trigger, NextPurchaseOverdue):
        out = _overdue(con, trigger.days_after, days, tz)
    elif isinstance(trigger, Dormant):
        out = _dormant(con, trigger.days, days, tz)
    elif isinstance(trigger, SegmentEntered):
        out = _segment(con, trigger.segment, "entered", days, tz)
    elif isinstance(trigger, SegmentExited):
        out = _segment(con, trigger.segment, "exited", days, tz)
    elif isinstance(trigger, ChurnRisk):
        out = _churn(con, trigger, days, tz)
    elif isinstance(trigger, NewProduct):
        out = _new_product(con, trigger, days, tz)
    elif isinstance(trigger, CouponExpiring):
        out = _coupon_expiring(con, trigger.days_before, days, tz)
    elif isinstance(trigger, Seasonal):
        out = _seasonal(con, trigger, days, tz)
    elif isinstance(trigger, Weekly):
        out = _weekly(con, trigger, days, tz)
    elif isinstance(trigger, Monthly):
        out = _monthly(con, trigger, days, tz)
    elif isinstance(trigger, Restocked):
        out = _restocked(con, trigger, since, until)
    elif isinstance(trigger, RankUp):
        out = _rank_up(con, trigger, days, tz)
    elif isinstance(trigger, RankAtRisk):
        out = _rank_at_risk(con, trigger, days, tz)
    elif isinstance(trigger, ProfileUpdated):
        out = _profile_updated(con, since, until)
    else:
        out = _broadcast(con, trigger, since, until)
    # One entry per (customer, occurrence), in a stable order. Keyed by plain tuples: a
    # broadcast fires a million times, and hashing and sorting dataclasses costs seconds.
    unique: dict[tuple[str, str], Fired] = {}
    for f in out:
        unique.setdefault((f.customer_id, f.occurrence), f)
    return [unique[k] for k in sorted(unique)]
