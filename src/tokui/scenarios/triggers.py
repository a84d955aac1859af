"""Evaluating entry triggers against the warehouse (Ibis expressions, never SQL text).

`fire(con, trigger, since, until)` returns who the trigger fired for in the window
(since, until]: each with an occurrence string that identifies what fired (the cart add,
the order, the birthday's year). The engine stores (scenario, customer, occurrence) under
a unique constraint, so a window evaluated twice enrolls nobody twice.

Event triggers fire at the event time plus their delay; date and lifecycle triggers fire
once per shop-local day, at the first tick of that day; segment and score triggers fire
for the refresh dates (as_of) that fall in the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from tokui.analytics.base import local_date, purchases
from tokui.clock import DEFAULT_TZ, utc_naive
from tokui.scenarios.calendar import occasion_date
from tokui.scenarios.triggers_def import (
    Birthday,
    Broadcast,
    BrowseAbandoned,
    CartAbandoned,
    ChurnRisk,
    CouponExpiring,
    Dormant,
    FirstPurchaseNoSecond,
    NewProduct,
    NextPurchaseOverdue,
    Ordered,
    PointsExpiring,
    Registered,
    RegistrationAnniversary,
    Seasonal,
    SegmentEntered,
    SegmentExited,
    SubscriptionCycleChanged,
    SubscriptionSkipped,
    Trigger,
    Weekly,
)

MAX_DAYS = 400  # a window longer than this is a configuration error, not a catch-up


@dataclass(frozen=True)
class Fired:
    customer_id: str
    occurrence: str


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
    last = ev.group_by("customer_id").aggregate(at=ev.occurred_at.max())
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
    tag = "cart" if kind == "cart_add" else "view"
    return [
        Fired(str(r["customer_id"]), f"{tag}:{pd.Timestamp(r['at']).isoformat()}")
        for r in _rows(result)
    ]


def _registered(con: BaseBackend, since: datetime, until: datetime) -> list[Fired]:
    c = con.table("customers")
    c = c.filter((c.registered_at > utc_naive(since)) & (c.registered_at <= utc_naive(until)))
    return [Fired(str(r["customer_id"]), "registered") for r in _rows(c.select("customer_id"))]


def _ordered(con: BaseBackend, nth: int | None, since: datetime, until: datetime) -> list[Fired]:
    o = purchases(con)
    if nth is not None:
        w = ibis.window(group_by="customer_id", order_by=["ordered_at", "order_id"])
        o = o.mutate(n=ibis.row_number().over(w) + 1)
        o = o.filter(o.n == nth)
    o = o.filter((o.ordered_at > utc_naive(since)) & (o.ordered_at <= utc_naive(until)))
    rows = _rows(o.select("customer_id", "order_id"))
    return [Fired(str(r["customer_id"]), f"order:{r['order_id']}") for r in rows]


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
    rows = _rows(e.join(s, "subscription_id").select("customer_id", "event_id"))
    return [Fired(str(r["customer_id"]), f"{kind}:{r['event_id']}") for r in rows]


def _birthdays(con: BaseBackend, days_before: int, days: list[date]) -> list[Fired]:
    c = con.table("customers").filter(lambda t: t.birth_date.notnull())
    out: list[Fired] = []
    for d in days:
        target = d + timedelta(days=days_before)
        hit = c.filter((c.birth_date.month() == target.month) & (c.birth_date.day() == target.day))
        out += [
            Fired(str(r["customer_id"]), f"birthday:{target.year}")
            for r in _rows(hit.select("customer_id"))
        ]
    return out


def _anniversaries(con: BaseBackend, days: list[date]) -> list[Fired]:
    c = con.table("customers")
    c = c.mutate(reg=local_date(c.registered_at))
    out: list[Fired] = []
    for d in days:
        hit = c.filter(
            (c.reg.month() == d.month) & (c.reg.day() == d.day) & (c.reg.year() < d.year)
        )
        out += [
            Fired(str(r["customer_id"]), f"anniversary:{d.year}")
            for r in _rows(hit.select("customer_id"))
        ]
    return out


def _points_expiring(con: BaseBackend, days_before: int, days: list[date]) -> list[Fired]:
    if not _has(con, "point_transactions") or not days:
        return []
    p = con.table("point_transactions")
    targets = [d + timedelta(days=days_before) for d in days]
    hit = p.filter((p.kind == "earn") & p.expires_on.isin(targets) & (p.points > 0))
    rows = _rows(hit.select("customer_id", "expires_on").distinct())
    return [Fired(str(r["customer_id"]), f"points:{r['expires_on']}") for r in rows]


def _per_customer(con: BaseBackend) -> ibis.Table:
    p = purchases(con)
    return p.group_by("customer_id").aggregate(
        first=p.order_date.min(), last=p.order_date.max(), orders=p.count()
    )


def _first_no_second(con: BaseBackend, n: int, days: list[date]) -> list[Fired]:
    if not days:
        return []
    per = _per_customer(con)
    firsts = [d - timedelta(days=n) for d in days]
    hit = per.filter((per.orders == 1) & per.first.isin(firsts))
    return [
        Fired(str(r["customer_id"]), "first_no_second") for r in _rows(hit.select("customer_id"))
    ]


def _dormant(con: BaseBackend, n: int, days: list[date]) -> list[Fired]:
    if not days:
        return []
    per = _per_customer(con)
    lasts = [d - timedelta(days=n) for d in days]
    hit = per.filter(per.last.isin(lasts))
    rows = _rows(hit.select("customer_id", "last"))
    return [Fired(str(r["customer_id"]), f"dormant:{r['last']}") for r in rows]


def _overdue(con: BaseBackend, days_after: int, days: list[date]) -> list[Fired]:
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
    return [Fired(str(r["customer_id"]), f"overdue:{r['next_purchase_date']}") for r in rows]


def _segment(con: BaseBackend, key: str, event: str, days: list[date]) -> list[Fired]:
    if not days or not _has(con, "segment_events"):
        return []
    e = con.table("segment_events")
    e = e.filter((e.segment_key == key) & (e.event == event) & e.as_of.isin(days))
    rows = _rows(e.select("customer_id", "as_of"))
    return [Fired(str(r["customer_id"]), f"{event}:{r['as_of']}") for r in rows]


def _churn(con: BaseBackend, t: ChurnRisk, days: list[date]) -> list[Fired]:
    if not days or not _has(con, "customer_scores"):
        return []
    s = con.table("customer_scores")
    s = s.filter((s.model == t.model) & (s.churn_probability >= t.threshold) & s.as_of.isin(days))
    rows = _rows(s.select("customer_id", "as_of"))
    return [Fired(str(r["customer_id"]), f"churn:{r['as_of']}") for r in rows]


def _broadcast(con: BaseBackend, t: Broadcast, since: datetime, until: datetime) -> list[Fired]:
    at = t.at.astimezone(UTC)
    if not (since < at <= until):
        return []
    occurrence = f"broadcast:{at.isoformat()}"
    rows = _rows(con.table("customers").select("customer_id"))
    return [Fired(str(r["customer_id"]), occurrence) for r in rows]


def _everyone(con: BaseBackend, occurrence: str) -> list[Fired]:
    rows = _rows(con.table("customers").select("customer_id"))
    return [Fired(str(r["customer_id"]), occurrence) for r in rows]


def _new_product(con: BaseBackend, days: list[date]) -> list[Fired]:
    if not days or not _has(con, "customer_features"):
        return []
    p = con.table("products")
    launched = p.filter(p.launched_on.isin(days) & p.category.notnull())
    f = con.table("customer_features").select("customer_id", "main_category")
    hit = f.join(launched, f.main_category == launched.category)
    rows = _rows(hit.select("customer_id", "product_id"))
    return [Fired(str(r["customer_id"]), f"new:{r['product_id']}") for r in rows]


def _coupon_expiring(con: BaseBackend, days_before: int, days: list[date]) -> list[Fired]:
    if not days or not _has(con, "coupon_grants"):
        return []
    g = con.table("coupon_grants")
    targets = [d + timedelta(days=days_before) for d in days]
    hit = g.filter(g.used_at.isnull() & local_date(g.expires_at).isin(targets))
    rows = _rows(hit.select("customer_id", "grant_id"))
    return [Fired(str(r["customer_id"]), f"coupon:{r['grant_id']}") for r in rows]


def _seasonal(con: BaseBackend, t: Seasonal, days: list[date]) -> list[Fired]:
    out: list[Fired] = []
    name = t.occasion if t.occasion != "custom" else f"{t.month:02d}-{t.day:02d}"
    for d in days:
        # The occasion this day leads up to may fall in the next year (days_before).
        for year in (d.year, d.year + 1):
            target = occasion_date(t.occasion, year, t.month, t.day)
            if target - timedelta(days=t.days_before) == d:
                out += _everyone(con, f"season:{name}:{year}")
    return out


def _weekly(con: BaseBackend, t: Weekly, days: list[date]) -> list[Fired]:
    out: list[Fired] = []
    for d in days:
        if d.weekday() == t.weekday:
            out += _everyone(con, f"weekly:{d.isoformat()}")
    return out


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
        out = _ordered(con, trigger.nth, since, until)
    elif isinstance(trigger, SubscriptionSkipped):
        out = _subscription_event(con, "skip", since, until)
    elif isinstance(trigger, SubscriptionCycleChanged):
        out = _subscription_event(con, "cycle_change", since, until)
    elif isinstance(trigger, Birthday):
        out = _birthdays(con, trigger.days_before, days)
    elif isinstance(trigger, RegistrationAnniversary):
        out = _anniversaries(con, days)
    elif isinstance(trigger, PointsExpiring):
        out = _points_expiring(con, trigger.days_before, days)
    elif isinstance(trigger, FirstPurchaseNoSecond):
        out = _first_no_second(con, trigger.days, days)
    elif isinstance(trigger, NextPurchaseOverdue):
        out = _overdue(con, trigger.days_after, days)
    elif isinstance(trigger, Dormant):
        out = _dormant(con, trigger.days, days)
    elif isinstance(trigger, SegmentEntered):
        out = _segment(con, trigger.segment, "entered", days)
    elif isinstance(trigger, SegmentExited):
        out = _segment(con, trigger.segment, "exited", days)
    elif isinstance(trigger, ChurnRisk):
        out = _churn(con, trigger, days)
    elif isinstance(trigger, NewProduct):
        out = _new_product(con, days)
    elif isinstance(trigger, CouponExpiring):
        out = _coupon_expiring(con, trigger.days_before, days)
    elif isinstance(trigger, Seasonal):
        out = _seasonal(con, trigger, days)
    elif isinstance(trigger, Weekly):
        out = _weekly(con, trigger, days)
    else:
        out = _broadcast(con, trigger, since, until)
    # One entry per (customer, occurrence), in a stable order.
    return sorted(set(out), key=lambda f: (f.customer_id, f.occurrence))
