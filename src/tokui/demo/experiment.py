"""A holdout experiment with a known true uplift, run on the demo shop over simulated weeks.

The demo simulator generates a shop's history, orders included, independently of any
message: those orders are what every customer would have bought anyway. On top of it a
post-purchase scenario runs through the real engine with an injected clock: every
completed order enrolls its customer (once), a holdout step keeps `holdout_percent` of
them out, the rest are sent an email (sandbox channel, through the real outbox and
delivery worker). After each tick the response model (tokui.demo.response
.ExtraOrderModel) turns each sent email into an extra order with probability `p`,
written to the warehouse like any order. Then the measurement layer computes the uplift
as it would for a real shop, and the truth is computed from what the simulation knows:

- send rate s_i: the customer can be emailed (consent and an address), so the engine
  sends to them when treated; checked against what the engine did for the treated;
- organic b_i: the customer has a simulator order in the unit's window;
- true revenue uplift per customer = p · value · mean(s_i);
- true conversion uplift = p · mean(s_i · (1 − b_i)).

Used by tests/demo/test_experiment.py (a few small shops) and bench/bench_measure.py
(coverage of the 95 % interval over many seeds).
"""

from __future__ import annotations

import asyncio
import time as timer
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from tokui.clock import FixedClock, utc_naive
from tokui.demo.config import SimConfig
from tokui.demo.generate import generate
from tokui.demo.response import ExtraOrderModel
from tokui.measure.journeys import Period, holdout_units
from tokui.measure.uplift import UpliftResult, scenario_uplift
from tokui.messaging.service import Messaging
from tokui.messaging.store import TemplateDraft, create_template
from tokui.scenarios import store
from tokui.scenarios.definition import parse_definition
from tokui.scenarios.engine import Engine
from tokui.state.db import session_scope
from tokui.state.messages import MessageEventRecord
from tokui.warehouse import bulk_load
from tokui.workspace import Workspace, init_workspace

SCENARIO = "sim-followup"
TOML = """
[messaging]
sandbox = true
tracking_base_url = "https://crm.demo.example"
shop_url = "https://shop.demo.example"
sender_name = "とくい食品 (デモ)"
sender_address = "東京都千代田区丸の内1-1-1"
contact = "support@demo.example"
unsubscribe_mailto = "unsubscribe@demo.example"
rate_per_second = { email = 100000.0 }

[email]
from_address = "news@demo.example"
from_name = "とくい食品"
"""


@dataclass(frozen=True)
class ExperimentConfig:
    customers: int = 3000
    seed: int = 1
    p: float = 0.3  # chance that a sent email brings an extra order
    value: int = 3000  # yen per extra order
    holdout_percent: float = 50.0
    weeks: int = 4  # customers enter during this many weeks
    window_days: int = 7
    tick_hours_utc: tuple[int, ...] = (1, 7)  # 10:00 and 16:00 JST: outside quiet hours
    history_years: float = 1.0
    start: date = date(2026, 3, 2)  # a Monday

    @property
    def enrollment_end(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day) + timedelta(
            weeks=self.weeks
        )

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)


@dataclass(frozen=True)
class ExperimentResult:
    config: ExperimentConfig
    uplift: UpliftResult
    true_conversion_uplift: float
    true_revenue_uplift: float  # per customer
    send_rate: float  # share of the units the engine would email
    engine_agrees: bool  # the treated were sent exactly when s_i = 1
    extra_orders: int
    seconds: float

    @property
    def conversion_covered(self) -> bool:
        c = self.uplift.conversion
        if c is None:
            return False
        low, high = c.difference_ci
        return low <= self.true_conversion_uplift <= high

    @property
    def revenue_covered(self) -> bool:
        r = self.uplift.revenue
        if r is None:
            return False
        low, high = r.difference_ci
        return low <= self.true_revenue_uplift <= high


def _workspace(home: Path, config: ExperimentConfig) -> Workspace:
    init_workspace(home, shop_name="とくい食品 (デモ)").close()
    with (home / "tokui.toml").open("a", encoding="utf-8") as fh:
        fh.write(TOML)
    ws = Workspace.open(home)
    # The history runs past the last window, so organic orders exist for every unit.
    end = config.enrollment_end.date() + timedelta(days=config.window_days + 2)
    sim = SimConfig(
        customers=config.customers, years=config.history_years, seed=config.seed, end_date=end
    )
    generate(ws.warehouse, sim)
    return ws


def _install(ws: Workspace, messaging: Messaging, config: ExperimentConfig, at: datetime) -> None:
    definition = parse_definition(
        {
            "key": SCENARIO,
            "name_ja": "購入後フォロー (シミュレーション)",
            "name_en": "Post-purchase follow-up (simulation)",
            "trigger": {"type": "ordered"},
            "steps": [
                {"id": "hold", "type": "holdout", "percent": config.holdout_percent},
                {"id": "mail", "type": "send", "channel": "email", "template": "sim-mail"},
            ],
        }
    )
    with session_scope(ws.sessions) as db:
        create_template(
            db,
            key="sim-mail",
            channel="email",
            draft=TemplateDraft(
                name="購入後フォロー",
                subject="{{ customer.name }}様、先日はありがとうございました",
                html="<p>{{ customer.name }}様</p><p>おすすめのセットをご用意しました。</p>",
            ),
            is_marketing=True,
            at=at,
            user_id=None,
            check_context=messaging.sample_context(),
        )
        store.save(db, definition, at)
        store.set_status(db, SCENARIO, "enabled", at)


def _respond(ws: Workspace, model: ExtraOrderModel, after_event: int) -> tuple[int, int]:
    """Extra orders for the messages sent since event id `after_event`."""
    with session_scope(ws.sessions) as db:
        rows = db.execute(
            select(
                MessageEventRecord.id,
                MessageEventRecord.outbox_id,
                MessageEventRecord.customer_id,
                MessageEventRecord.at,
            ).where(MessageEventRecord.id > after_event, MessageEventRecord.event == "sent")
        ).all()
    if not rows:
        return after_event, 0
    sends = pd.DataFrame(rows, columns=["event_id", "message_id", "customer_id", "sent_at"])
    orders, items = model.orders(sends)
    if len(orders):
        bulk_load(ws.warehouse, "orders", orders)
        bulk_load(ws.warehouse, "order_items", items)
    return int(sends["event_id"].max()), len(orders)


def _truth(
    ws: Workspace, config: ExperimentConfig, as_of: datetime
) -> tuple[float, float, float, bool]:
    """(true conversion uplift, true revenue uplift, send rate, engine agrees)."""
    start = datetime(config.start.year, config.start.month, config.start.day)
    with session_scope(ws.sessions) as db:
        scenario = store.get(db, SCENARIO)
        units = holdout_units(
            db, scenario.id, "hold", Period(as_of, start, config.enrollment_end), config.window
        ).to_pandas()
        sent = set(
            db.scalars(
                select(MessageEventRecord.customer_id).where(MessageEventRecord.event == "sent")
            )
        )
    con = ws.warehouse
    ids = sorted(set(units["customer_id"]))
    c = con.table("customers")
    reach = (
        c.filter(c.customer_id.isin(ids))
        .select("customer_id", ok=c.email_opt_in & c.email.notnull())
        .to_pandas()
    )
    units = units.merge(reach, on="customer_id", how="left")
    units["s"] = units["ok"].fillna(False).astype(bool)
    o = con.table("orders")
    organic = (
        o.filter(
            o.customer_id.isin(ids)
            & (o.status == "completed")
            & ~o.order_id.startswith("X")
            & (o.ordered_at > start)
        )
        .select("customer_id", "ordered_at")
        .to_pandas()
    )
    j = units.merge(organic, on="customer_id", how="left")
    inside = (j["ordered_at"] > j["anchor_at"]) & (
        j["ordered_at"] <= j["anchor_at"] + config.window
    )
    bought = j[inside].groupby("unit_id").size()
    units["b"] = units["unit_id"].map(bought).fillna(0) > 0
    treated = units[units["grp"] == "treatment"]
    agrees = bool((treated["customer_id"].isin(sent) == treated["s"]).all())
    conv = config.p * float((units["s"] & ~units["b"]).mean())
    revenue = config.p * config.value * float(units["s"].mean())
    return conv, revenue, float(units["s"].mean()), agrees


def run_experiment(home: Path, config: ExperimentConfig) -> ExperimentResult:
    """Simulate, run the scenario tick by tick, measure; `home` must not exist yet."""
    began = timer.perf_counter()
    ws = _workspace(home, config)
    try:
        first = datetime(config.start.year, config.start.month, config.start.day, tzinfo=UTC)
        clock = FixedClock(first)
        messaging = Messaging(ws, clock)
        _install(ws, messaging, config, utc_naive(first))
        engine = Engine(messaging, clock)
        model = ExtraOrderModel(config.p, config.value, seed=config.seed)
        last_event, extra = 0, 0
        day = first
        end = config.enrollment_end.replace(tzinfo=UTC)
        while day < end:
            for hour in config.tick_hours_utc:
                clock.set(day.replace(hour=hour))
                engine.tick()
                _deliver(messaging)
                last_event, n = _respond(ws, model, last_event)
                extra += n
            day += timedelta(days=1)
        # Measured once every window of the enrollment weeks has ended.
        as_of = config.enrollment_end + config.window + timedelta(days=1)
        start = datetime(config.start.year, config.start.month, config.start.day)
        with session_scope(ws.sessions) as db:
            results = scenario_uplift(
                ws.warehouse, db, SCENARIO, as_of, config.window, start, config.enrollment_end
            )
        [uplift] = [r for r in results if r.kind == "holdout"]
        conv, revenue, rate, agrees = _truth(ws, config, as_of)
    finally:
        ws.close()
    return ExperimentResult(
        config, uplift, conv, revenue, rate, agrees, extra, timer.perf_counter() - began
    )


def _deliver(messaging: Messaging) -> None:
    async def drain() -> None:
        worker = messaging.worker()
        try:
            while (await worker.run_once()).claimed:
                pass
        finally:
            await worker.aclose()

    asyncio.run(drain())
