"""Every ready scenario installs with its Japanese templates and, in a dry run on a small
simulated shop, lets people in and sends something sensible: at least the number of
entrants below, every message rendered for its customer with the real context (their
name in it, nothing left unrendered, no None or nan).

The cases are the library folder itself: a new file is covered without touching this
test, and fails until it has an entry in MIN_ENTRANTS (a number seen on this shop).
One shop is built for all of them: 400 customers over a year ending 2026-09-30, its
features refreshed three times a month apart (so ranks have a history), the models run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from tests.scenarios.shop import TOML
from tokui.clock import FixedClock, utc_naive
from tokui.demo import SimConfig, generate
from tokui.messaging.service import Messaging, Recipient
from tokui.messaging.store import get_template, get_version, source_of
from tokui.models.run import run_models
from tokui.refresh.features import materialise_features
from tokui.scenarios import library, store
from tokui.scenarios.calendar import occasion_date
from tokui.scenarios.definition import CallCenterTask, ScenarioDefinition, Send, Webhook
from tokui.scenarios.dryrun import DryRun, dry_run
from tokui.scenarios.triggers_def import Seasonal
from tokui.state.db import session_scope
from tokui.state.scenarios import Enrollment, Scenario
from tokui.workspace import Workspace, init_workspace

END = date(2026, 9, 30)
START = END - timedelta(days=364)  # the simulated year begins 2025-10-01
CLOCK = FixedClock(datetime(2026, 10, 1, 3, tzinfo=UTC))
TOKYO = ZoneInfo("Asia/Tokyo")
READY = {r.definition.key: r for r in library.load_library()}

# Entrants each scenario had in its dry run on this shop (seed 5), about four fifths of
# what was seen, so that a harmless change of the simulator does not fail the test but a
# trigger or audience that stops matching does.
MIN_ENTRANTS = {
    "attribute-change": 30,
    "birthday": 90,
    "browse-abandonment": 300,
    "cart-abandonment": 220,
    "category-feature": 650,
    "coupon-reminder": 45,
    "dormancy-prevention": 75,
    "incentive-recommended-points": 80,
    "incentive-subscription-discount": 40,
    "incentive-top-rank-gift": 5,
    "loyal-thanks": 30,
    "new-product": 500,
    "persona-gift-giver": 12,
    "persona-ingredient-lover": 40,
    "persona-novelty-seeker": 180,
    "persona-self-reward": 120,
    "point-expiry": 3,
    "purchase-follow-up": 180,
    "rank-keep": 60,
    "rank-up": 40,
    "repeat-promotion-rice": 20,
    "restock-notice": 10,
    "season-mothers-day": 170,
    "season-ochugen": 220,
    "season-oseibo": 22,
    "season-respect-for-aged": 300,
    "season-shogatsu": 70,
    "second-purchase": 30,
    "spend-milestone-coupon": 20,
    "subscription-churn-risk": 2,
    "third-purchase-coupon": 35,
    "welcome-series": 90,
    "win-back": 40,
}

UNRENDERED = re.compile(r"\{\{|\}\}|\{%|%\}|\bNone\b|\bnan\b|\bNaN\b|\bundefined\b")
SAMPLE = 5  # rendered messages per step and template


def add_churn_scores(ws: Workspace) -> int:
    """The subscription churn model needs more subscriptions than a 400-customer shop
    has, so stand in for it: 0.75 for live subscribers who skipped a delivery in the
    last 60 days (what the model weighs most), written as the rows of a refresh two
    weeks before the end would be (so the journey's later steps fall in the dry run)."""
    con = ws.warehouse
    e = con.table("subscription_events")
    s = con.table("subscriptions")
    skipped = e.filter((e.event_type == "skip") & (e.occurred_at >= datetime(2026, 8, 1)))
    live = s.filter(s.status == "active").semi_join(skipped, "subscription_id")
    ids = sorted(set(live.customer_id.to_pyarrow().to_pylist()))
    schema = con.table("customer_scores").schema().to_pyarrow()
    values = {
        "customer_id": ids,
        "model": ["churn_subscription"] * len(ids),
        "computed_at": [utc_naive(CLOCK.now())] * len(ids),
        "as_of": [END - timedelta(days=14)] * len(ids),
        "churn_probability": [0.75] * len(ids),
    }
    table = pa.table(
        {f.name: pa.array(values.get(f.name, [None] * len(ids)), f.type) for f in schema}
    )
    con.insert("customer_scores", table)
    return len(ids)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    home = tmp_path_factory.mktemp("library") / "ws"
    ws = init_workspace(home, "admin@example.com", "admin-password-123", shop_name="とくい")
    with (home / "tokui.toml").open("a", encoding="utf-8") as fh:
        fh.write(TOML)
    ws.close()
    ws = Workspace.open(home)
    generate(ws.warehouse, SimConfig(customers=400, years=1, seed=5, end_date=END))
    # A refresh a month for the last three months: rank changes between them.
    for day in (END - timedelta(days=60), END - timedelta(days=30), END):
        materialise_features(ws.warehouse, day)
    run_models(ws.warehouse, ws.sessions, CLOCK, END)
    add_churn_scores(ws)
    m = Messaging(ws, CLOCK)
    with session_scope(ws.sessions) as db:
        for ready in READY.values():
            library.install(db, ready, utc_naive(CLOCK.now()), m.sample_context())
    yield ws
    ws.close()


def window(d: ScenarioDefinition) -> tuple[FixedClock, int]:
    """90 days to the end of the data; for a seasonal scenario, the 30 days around its
    last date in the simulated year (the 90 days before 2026-09-30 hold only one)."""
    t = d.trigger
    if not isinstance(t, Seasonal):
        return CLOCK, 90
    days = [
        occasion_date(t.occasion, year, t.month, t.day) - timedelta(days=t.days_before)
        for year in (END.year - 1, END.year, END.year + 1)
    ]
    fires = max(x for x in days if START < x <= END)
    until = datetime.combine(fires + timedelta(days=21), time(12), TOKYO)
    return FixedClock(min(until, CLOCK.now())), 30


@pytest.fixture(scope="module")
def reports(shop: Workspace) -> dict[str, DryRun]:
    out = {}
    for key, r in READY.items():
        clock, days = window(r.definition)
        out[key] = dry_run(shop, r.definition, clock, days)
    return out


def test_the_library_files_are_whole() -> None:
    """Keys are unique, every template a step names is shipped in the same file on the
    step's channel, and the issue's list of ready scenarios is all there."""
    seen: dict[str, str] = {}
    for ready in library.load_library():
        assert ready.definition.key not in seen, (ready.file, seen.get(ready.definition.key))
        seen[ready.definition.key] = ready.file
        shipped = {t.key: t.channel for t in ready.templates}
        for step in ready.definition.steps:
            wanted: list[tuple[str, str]] = []
            if isinstance(step, Send):
                wanted.append((step.template, step.channel))
                if step.fallback_template and step.fallback_channel:
                    wanted.append((step.fallback_template, step.fallback_channel))
            elif isinstance(step, CallCenterTask):
                wanted.append((step.template, "call_center"))
            elif isinstance(step, Webhook):
                wanted.append((step.template, "webhook"))
            for key, channel in wanted:
                assert shipped.get(key) == channel, (ready.file, step.id, key)
        for t in ready.templates:
            if t.channel == "email":
                assert t.subject and t.html and t.text, (ready.file, t.key)
    triggers = {type(r.definition.trigger).__name__ for r in READY.values()}
    assert {
        "Registered",
        "FirstPurchaseNoSecond",
        "Ordered",
        "CumulativeSpend",
        "Birthday",
        "RankUp",
        "RankAtRisk",
        "NextPurchaseOverdue",
        "Dormant",
        "CartAbandoned",
        "BrowseAbandoned",
        "Restocked",
        "NewProduct",
        "Monthly",
        "Seasonal",
        "CouponExpiring",
        "PointsExpiring",
        "ProfileUpdated",
        "ChurnRisk",
    } <= triggers
    occasions = {
        r.definition.trigger.occasion
        for r in READY.values()
        if isinstance(r.definition.trigger, Seasonal)
    }
    assert {"ochugen", "oseibo", "shogatsu", "mothers_day", "respect_for_aged_day"} <= occasions


def test_installed_as_drafts_and_installing_again_changes_nothing(shop: Workspace) -> None:
    m = Messaging(shop, CLOCK)
    with session_scope(shop.sessions) as db:
        assert {s.key: (s.status, s.current_version) for s in store.list_all(db)} == {
            k: ("draft", 1) for k in READY
        }
        again = library.install(db, READY["birthday"], utc_naive(CLOCK.now()), m.sample_context())
        assert again.changed is False


def _visible(channel: str, payload: dict[str, Any]) -> str:
    """What the recipient (or the operator, the vendor, the other system) reads."""
    if channel == "email":
        return "\n".join([payload["subject"], payload["html"], payload["text"]])
    if channel == "line":
        return json.dumps(payload["messages"], ensure_ascii=False)
    if channel == "postal_dm":
        return "\n".join(payload["fields"].values())
    if channel == "call_center":
        return "\n".join([payload["offer"], payload["note"], payload["customer_name"]])
    if channel == "webhook":
        return json.dumps(payload["body"]["data"], ensure_ascii=False)
    raise AssertionError(channel)


class Renderer:
    """Renders a template for customers the way the sender does: their context loaded
    from the warehouse (in one go for a list of customers), the channel's renderer."""

    def __init__(self, shop: Workspace, db: Any, ids: list[str]) -> None:
        self.m = Messaging(shop, CLOCK)
        self.db = db
        self.data = self.m.customers(ids)
        c = shop.warehouse.table("customers")
        rows = c.filter(c.customer_id.isin(ids)).select("customer_id", "email", "line_user_id")
        self.contact = {str(r["customer_id"]): r for r in rows.to_pyarrow().to_pylist()}

    def __call__(self, cid: str, channel: str, template_key: str) -> str:
        data = self.data[cid]
        contact = self.contact[cid]
        address = {"email": contact["email"], "line": contact["line_user_id"]}.get(channel)
        address = str(address or cid)
        template = get_template(self.db, template_key)
        assert template is not None and template.channel == channel
        source = source_of(template, get_version(self.db, template))
        ctx = self.m.context_for(Recipient(cid, address, data))
        payload = self.m.render(source, channel, ctx, address, template.is_marketing)
        text = _visible(channel, payload)
        name = str(data.customer["name"])
        assert name and name in text, (template_key, cid, text[:300])
        found = UNRENDERED.findall(text)
        assert not found, (template_key, cid, found, text[:600])
        return text


def _render(shop: Workspace, db: Any, cid: str, channel: str, template_key: str) -> str:
    return Renderer(shop, db, [cid])(cid, channel, template_key)


@pytest.mark.parametrize("key", sorted(READY))
def test_dry_run_sends_something_sensible(
    shop: Workspace, reports: dict[str, DryRun], key: str
) -> None:
    r = reports[key]
    definition = READY[key].definition
    entrants = {c for c, _, _ in r.entered}
    assert key in MIN_ENTRANTS, f"{key}: add the entrants of its dry run to MIN_ENTRANTS"
    assert len(r.entered) >= MIN_ENTRANTS[key] > 0, (key, len(r.entered))
    allowed: set[tuple[str, str, str]] = set()
    for step in definition.steps:
        if isinstance(step, Send):
            allowed.add((step.id, step.channel, step.template))
            if step.fallback_channel and step.fallback_template:
                allowed.add((step.id, step.fallback_channel, step.fallback_template))
    got = {(m.step_id, m.channel, m.template) for m in r.messages}
    assert got and got <= allowed, (key, got)
    assert {m.customer_id for m in r.messages} <= entrants
    # Every message in quiet-free hours (09:00-21:00 JST).
    assert all(9 <= (m.at.hour + 9) % 24 < 21 for m in r.messages), key
    # Each step's message to one customer at most once per entry.
    per_entry = [(m.customer_id, m.step_id) for m in r.messages]
    entries = {c: sum(1 for x, _, _ in r.entered if x == c) for c in entrants}
    for (cid, step_id), n in {k: per_entry.count(k) for k in set(per_entry)}.items():
        assert n <= entries[cid], (key, cid, step_id)
    # Rendered for real: a sample of each step's messages, and of its call and webhook
    # tasks, with the customer's own context.
    samples: dict[tuple[str, str, str], list[str]] = {}
    for m in r.messages:
        samples.setdefault((m.step_id, m.channel, m.template), []).append(m.customer_id)
    for step in definition.steps:
        if isinstance(step, CallCenterTask | Webhook):
            channel = "call_center" if isinstance(step, CallCenterTask) else "webhook"
            done = [c for c, s, _ in r.actions if s == step.id]
            if done:
                samples[(step.id, channel, step.template)] = done
    picked = {k: sorted(set(v))[:SAMPLE] for k, v in samples.items()}
    with session_scope(shop.sessions) as db:
        render = Renderer(shop, db, sorted({c for v in picked.values() for c in v}))
        for (_, channel, template), customers in picked.items():
            for cid in customers:
                render(cid, channel, template)
        db.rollback()


def test_messages_use_the_context_the_sender_really_gives(
    shop: Workspace, reports: dict[str, DryRun]
) -> None:
    """Recommendations, coupons and points in a message come from the warehouse (the
    recommendation model's latest list, the coupon grants, the point ledger): a sample
    customer of each kind sees their own."""
    con = shop.warehouse
    recs = con.table("recommendations")
    products = con.table("products")
    with session_scope(shop.sessions) as db:
        # recommendations: the first three of the model, by name and price
        browse = sorted({m.customer_id for m in reports["browse-abandonment"].messages})
        cid = next(c for c in browse if recs.filter(recs.customer_id == c).count().execute())
        top = (
            recs.filter((recs.customer_id == cid) & (recs["rank"] <= 3))
            .join(products, "product_id")
            .order_by("rank")
            .select("name", "price")
            .to_pyarrow()
            .to_pylist()
        )
        text = _render(shop, db, cid, "email", "lib-browse")
        for item in top:
            assert f"{item['name']}（¥{item['price']:,}）" in text
        # coupons: the grant expiring in three days, with its code
        g = con.table("coupon_grants")
        usable = g.filter(g.used_at.isnull() & (g.expires_at > utc_naive(CLOCK.now())))
        rows = usable.select("customer_id", "code").to_pyarrow().to_pylist()
        codes = {str(r["customer_id"]): str(r["code"]) for r in rows}
        reminded = [m for m in reports["coupon-reminder"].messages if m.customer_id in codes]
        m = reminded[-1]
        assert codes[m.customer_id] in _render(shop, db, m.customer_id, m.channel, m.template)
        # points: the balance of the customer's ledger
        expiry = reports["point-expiry"].messages
        cid = expiry[0].customer_id
        p = con.table("point_transactions")
        balance = int(p.filter(p.customer_id == cid).points.sum().execute())
        text = _render(shop, db, cid, expiry[0].channel, expiry[0].template)
        if expiry[0].channel == "email":
            assert f"現在のポイント残高: {balance:,}ポイント" in text
        else:
            assert f"{balance:,}ポイント" in text
        db.rollback()


def test_dry_run_writes_nothing(shop: Workspace, reports: dict[str, DryRun]) -> None:
    with session_scope(shop.sessions) as db:
        assert db.query(Enrollment).count() == 0
        assert {s.trigger_checked_at for s in db.query(Scenario)} == {None}
