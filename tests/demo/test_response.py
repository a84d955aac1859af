"""The marketing response model: a true uplift that an A/B test can measure."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from tokui.demo import SimConfig, World, simulate
from tokui.demo.response import Message, ResponseModel
from tokui.measure.stats import compare_proportions


@pytest.fixture(scope="module")
def world() -> World:
    return simulate(SimConfig(customers=60_000, years=1.5, seed=11, end_date=date(2026, 10, 31)))


def test_ab_test_recovers_the_true_uplift(world: World) -> None:
    model = ResponseModel(world, seed=5)
    day = float(world.calendar.days - 150)  # early June: a gift message before お中元
    c = world.customers
    ids = c.customer_id[(c.reg_day < day) & c.line_opt_in]  # the LINE friends segment
    rng = np.random.default_rng(0)
    treated = rng.random(len(ids)) < 0.5
    msg = Message(key="chugen-2026", channel="line", kind="seasonal_gift")
    a = model.respond(ids[~treated], msg, day, treated=False)
    b = model.respond(ids[treated], msg, day, treated=True)
    truth = model.probabilities(ids, msg, day)
    true_uplift = truth.uplift.mean()
    assert true_uplift > 0.01
    result = compare_proportions(int(b.purchased.sum()), len(b), int(a.purchased.sum()), len(a))
    low, high = result.difference_ci
    assert low <= true_uplift <= high
    assert not a.opened.any()
    assert b.opened.mean() == pytest.approx(0.6, abs=0.02)
    assert low > 0  # the campaign works and the test can tell


def test_uplift_depends_on_persona_and_activity(world: World) -> None:
    model = ResponseModel(world, seed=5)
    day = float(world.calendar.days - 10)
    c = world.customers
    ids = c.customer_id[c.reg_day < day]
    pr = model.probabilities(ids, Message(key="x", channel="line", kind="seasonal_gift"), day)
    persona = c.persona[model.indices(ids)]
    gift = pr.uplift[persona == 3].mean()
    ingredient = pr.uplift[persona == 0].mean()
    assert gift > 2.5 * ingredient
    active = world.inactive_t[model.indices(ids)] > day
    reach = c.line_opt_in[model.indices(ids)]
    assert pr.uplift[active & reach].mean() > 2 * pr.uplift[~active & reach].mean()
    assert (pr.uplift[~reach] == 0).all()


def test_reactions_are_deterministic_per_customer(world: World) -> None:
    model = ResponseModel(world, seed=5)
    ids = world.customers.customer_id[:2000]
    msg = Message(key="k", channel="line", kind="new_product")
    whole = model.respond(ids, msg, 300.0)
    part = model.respond(ids[::-1][:500], msg, 300.0)
    merged = whole.set_index("customer_id").loc[part.customer_id]
    assert (merged.purchased.to_numpy() == part.purchased.to_numpy()).all()
    assert (merged.revenue.to_numpy() == part.revenue.to_numpy()).all()
    other = ResponseModel(world, seed=6).respond(ids, msg, 300.0)
    assert not (other.opened.to_numpy() == whole.opened.to_numpy()).all()
    with pytest.raises(KeyError, match="not customers"):
        model.respond(["nobody"], msg, 300.0)
