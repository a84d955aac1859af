"""Every ready scenario installs with its Japanese templates and, in a dry run over the
last 90 days of a small simulated shop, lets people in and sends something sensible."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from tests.scenarios.shop import TOML
from tokui.clock import FixedClock, utc_naive
from tokui.demo import SimConfig, generate
from tokui.messaging.service import Messaging
from tokui.models.run import run_models
from tokui.refresh.features import materialise_features
from tokui.scenarios import library, store
from tokui.scenarios.definition import Send
from tokui.scenarios.dryrun import DryRun, dry_run
from tokui.state.db import session_scope
from tokui.state.scenarios import Enrollment, Scenario
from tokui.workspace import Workspace, init_workspace

END = date(2026, 9, 30)
CLOCK = FixedClock(datetime(2026, 10, 1, 3, tzinfo=UTC))
READY = {r.definition.key: r for r in library.load_library()}


def add_churn_scores(ws: Workspace) -> int:
    """The subscription churn model needs more subscriptions than a 400-customer shop
    has, so stand in for it: 0.75 for live subscribers who skipped a delivery in the
    last 60 days (what the model weighs most), written as its rows would be."""
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
        "as_of": [END] * len(ids),
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
    materialise_features(ws.warehouse, END)
    run_models(ws.warehouse, ws.sessions, CLOCK, END)
    add_churn_scores(ws)
    m = Messaging(ws, CLOCK)
    with session_scope(ws.sessions) as db:
        for ready in READY.values():
            library.install(db, ready, utc_naive(CLOCK.now()), m.sample_context())
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def reports(shop: Workspace) -> dict[str, DryRun]:
    return {key: dry_run(shop, r.definition, CLOCK, 90) for key, r in READY.items()}


def test_the_library_has_the_six_scenarios() -> None:
    assert sorted(READY) == [
        "birthday",
        "cart-abandonment",
        "dormancy-prevention",
        "second-purchase",
        "subscription-churn-risk",
        "welcome-series",
    ]


def test_installed_as_drafts_and_installing_again_changes_nothing(shop: Workspace) -> None:
    m = Messaging(shop, CLOCK)
    with session_scope(shop.sessions) as db:
        assert {s.key: (s.status, s.current_version) for s in store.list_all(db)} == {
            k: ("draft", 1) for k in READY
        }
        again = library.install(db, READY["birthday"], utc_naive(CLOCK.now()), m.sample_context())
        assert again.changed is False


@pytest.mark.parametrize("key", sorted(READY))
def test_dry_run_sends_something_sensible(reports: dict[str, DryRun], key: str) -> None:
    r = reports[key]
    assert r.entered, f"{key}: nobody would have entered"
    allowed: set[tuple[str, str, str]] = set()
    for step in READY[key].definition.steps:
        if isinstance(step, Send):
            allowed.add((step.id, step.channel, step.template))
            if step.fallback_channel and step.fallback_template:
                allowed.add((step.id, step.fallback_channel, step.fallback_template))
    got = {(m.step_id, m.channel, m.template) for m in r.messages}
    assert got and got <= allowed, (key, got)
    # Never two messages of one step for one customer and occurrence's entry.
    entered = {c for c, _, _ in r.entered}
    assert {m.customer_id for m in r.messages} <= entered
    # Every message in quiet-free hours (09:00-21:00 JST).
    assert all(9 <= (m.at.hour + 9) % 24 < 21 for m in r.messages), key


def test_dry_run_writes_nothing(shop: Workspace, reports: dict[str, DryRun]) -> None:
    with session_scope(shop.sessions) as db:
        assert db.query(Enrollment).count() == 0
        assert {s.trigger_checked_at for s in db.query(Scenario)} == {None}
