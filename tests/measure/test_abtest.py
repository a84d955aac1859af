"""A/B/n results and winner promotion on the hand-made shop."""

from __future__ import annotations

import math

import pytest
from scipy import integrate
from scipy import stats as sps

from tests.measure.conftest import Stores
from tests.measure.shop import AS_OF, T0
from tokui.measure.abtest import promote, promote_winners, scenario_tests
from tokui.measure.stats import sample_size_per_arm
from tokui.scenarios import store
from tokui.scenarios.definition import Split
from tokui.state.db import session_scope


def test_two_arms(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        [r] = scenario_tests(stores.con, db, "ab", AS_OF)
    a, b = r.arms
    assert (a.name, a.n, a.conversions, a.revenue) == ("a", 20, 2, 2000.0)
    assert (b.name, b.n, b.conversions, b.revenue) == ("b", 20, 8, 8000.0)
    assert (a.messages, a.sent, a.delivered, a.opened, a.clicked) == (20, 20, 20, 5, 0)
    assert (b.messages, b.opened, b.unsubscribed) == (20, 10, 0)
    # z = (0.4 - 0.1) / sqrt(0.25 * 0.75 * (1/20 + 1/20)) = 2.190890
    assert r.test == "z"
    assert r.statistic == pytest.approx(0.3 / math.sqrt(0.25 * 0.75 * 0.1))
    assert r.statistic == pytest.approx(2.190890, abs=1e-6)
    assert r.p_value == pytest.approx(math.erfc(2.190890 / math.sqrt(2)), abs=1e-6)
    assert b.vs_first is not None and b.vs_first.relative_uplift == pytest.approx(3.0)
    # P(p_b > p_a) with Beta(9, 13) and Beta(3, 19) posteriors, by numerical integration.
    exact, _ = integrate.quad(lambda x: sps.beta.pdf(x, 9, 13) * sps.beta.cdf(x, 3, 19), 0, 1)
    assert b.probability_best == pytest.approx(exact, abs=0.003)
    assert a.probability_best + b.probability_best == pytest.approx(1.0)
    assert r.leader == "b"
    # 10 % relative lift over the first arm's 10 %: the textbook formula.
    assert r.required_per_arm == sample_size_per_arm(0.1, 0.01)
    za, zb = sps.norm.ppf(0.975), sps.norm.ppf(0.8)
    n = (za * math.sqrt(2 * 0.105 * 0.895) + zb * math.sqrt(0.1 * 0.9 + 0.11 * 0.89)) ** 2 / 1e-4
    assert r.required_per_arm == math.ceil(n)
    assert (r.winner, r.promotable) == (None, "b")


def test_three_arms_chi_squared(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        [r] = scenario_tests(stores.con, db, "ab3", AS_OF)
    assert [(x.name, x.n, x.conversions) for x in r.arms] == [
        ("x", 10, 1),
        ("y", 10, 3),
        ("z", 10, 6),
    ]
    ref = sps.chi2_contingency([[1, 9], [3, 7], [6, 4]], correction=False)
    assert r.test == "chi2"
    assert r.statistic == pytest.approx(ref.statistic) and r.p_value == pytest.approx(ref.pvalue)
    assert r.leader == "z" and r.promotable is None  # no promotion asked for
    assert sum(x.probability_best for x in r.arms) == pytest.approx(1.0)
    assert r.arms[2].vs_first is not None and r.arms[2].vs_first.difference == pytest.approx(0.5)


def test_promotion_writes_a_version_routing_everyone_to_the_winner(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        done = promote_winners(stores.con, db, AS_OF, AS_OF)
    assert done == [("ab", "split", "b", 2)]
    with session_scope(stores.sessions) as db:
        scenario = store.get(db, "ab")
        assert scenario.current_version == 2
        split = store.load_version(store.version_row(db, scenario)).steps[0]
        assert isinstance(split, Split) and split.winner == "b"
        # The test still reads the arms recorded before; nothing more to promote.
        [r] = scenario_tests(stores.con, db, "ab", AS_OF)
        assert (r.winner, r.promotable, r.arms[1].conversions) == ("b", None, 8)
        assert promote_winners(stores.con, db, AS_OF, AS_OF) == []
        with pytest.raises(store.ScenarioStoreError):
            promote(db, "ab", "split", "c", AS_OF)


def test_no_promotion_below_the_minimum_or_when_not_significant(stores: Stores) -> None:
    with session_scope(stores.sessions) as db:
        # Before T0 + 7d no window has ended: no units, no test.
        [early] = scenario_tests(stores.con, db, "ab", T0)
        assert (early.arms[0].n, early.test, early.promotable) == (0, "none", None)
        assert promote_winners(stores.con, db, T0, T0) == []
