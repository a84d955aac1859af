"""A/B/n tests: one per split step of a scenario.

Units are the enrollments the split assigned, anchored at the split and followed for
the scenario's goal window (7 days without a goal), like a holdout (tokui.measure
.outcomes). Per arm: enrollments, the messages queued to the arm after the split and
their sent / delivered / opened / clicked / unsubscribed counts, conversions and
revenue. Significance: the two-proportion z-test of the second arm against the first
with two arms; Pearson's chi-squared over all arms with more (each arm is also compared
with the first, for the table). Bayesian probability to be best from Beta posteriors.
The minimum sample size per arm is for detecting a relative lift `mde` over the first
arm's rate (alpha 0.05, power 0.8).

Promotion: a split with `promote:` set is promoted once every arm has at least
`min_per_arm` enrollments and the test's p-value is below `alpha` (with more than two
arms the leader must also have a probability to be best of at least 1 - alpha). It
writes a new version of the scenario with `winner:` set on the split: from then on the
engine sends everyone to that arm and the journal keeps recording it. Looking at a test
again and again and stopping at the first p < alpha inflates false positives; the
minimum per arm is the guard, so set it near the sample size the calculator gives.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from ibis.backends import BaseBackend
from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.measure.journeys import Period, arm_units, definitions, split_steps
from tokui.measure.messages import arm_messages, rollup
from tokui.measure.outcomes import GroupOutcome, Rule, group_outcomes
from tokui.measure.stats import (
    ProportionComparison,
    chi_squared,
    compare_proportions,
    probability_to_be_best,
    sample_size_per_arm,
)
from tokui.scenarios import store
from tokui.scenarios.definition import ScenarioDefinition, Split
from tokui.state.scenarios import Scenario

MDE = 0.10  # relative lift the sample-size calculator is asked to detect


@dataclass(frozen=True)
class ArmResult:
    name: str
    n: int
    messages: int
    sent: int
    delivered: int
    opened: int
    clicked: int
    unsubscribed: int
    bounced: int
    conversions: int
    revenue: float
    probability_best: float
    vs_first: ProportionComparison | None

    @property
    def rate(self) -> float:
        return self.conversions / self.n if self.n else 0.0

    @property
    def revenue_per_unit(self) -> float:
        return self.revenue / self.n if self.n else 0.0


@dataclass(frozen=True)
class ABResult:
    scenario_key: str
    step_id: str
    window_days: float
    arms: list[ArmResult]
    test: str  # z | chi2 | none
    statistic: float | None
    p_value: float | None
    leader: str | None
    required_per_arm: int | None
    winner: str | None  # already promoted
    promotable: str | None  # would be promoted now (auto promotion on and criteria met)

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 0.05

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for arm, d in zip(self.arms, out["arms"], strict=True):
            d |= {"rate": arm.rate, "revenue_per_customer": arm.revenue_per_unit}
        return out


def evaluate(
    scenario_key: str,
    step: Split,
    window: timedelta,
    outcomes: dict[str, GroupOutcome],
    engagement: dict[str, dict[str, int]],
    alpha: float = 0.05,
    mde: float = MDE,
) -> ABResult:
    """The statistics of one split from per-arm outcomes and message counts."""
    names = [a.name for a in step.arms]
    empty = GroupOutcome(0, 0, 0, 0.0, 0.0)
    groups = [outcomes.get(n, empty) for n in names]
    active = [i for i, g in enumerate(groups) if g.n > 0]
    conv = [g.conversions for g in groups]
    sizes = [g.n for g in groups]
    p_best = [0.0] * len(names)
    if active:
        best = probability_to_be_best([conv[i] for i in active], [sizes[i] for i in active])
        for i, p in zip(active, best, strict=True):
            p_best[i] = p
    first = groups[0]
    arms = []
    for i, (name, g) in enumerate(zip(names, groups, strict=True)):
        vs = None
        if i > 0 and g.n > 0 and first.n > 0:
            vs = compare_proportions(g.conversions, g.n, first.conversions, first.n, alpha)
        e = engagement.get(name, {})
        arms.append(
            ArmResult(
                name,
                g.n,
                e.get("messages", 0),
                e.get("sent", 0),
                e.get("delivered", 0),
                e.get("opened", 0),
                e.get("clicked", 0),
                e.get("unsubscribed", 0),
                e.get("bounced", 0),
                g.conversions,
                g.revenue,
                p_best[i],
                vs,
            )
        )
    test, statistic, p_value = "none", None, None
    if len(active) == len(names) == 2:
        assert arms[1].vs_first is not None
        test, statistic, p_value = "z", arms[1].vs_first.z, arms[1].vs_first.p_value
    elif len(active) == len(names):
        chi = chi_squared(conv, sizes)
        test, statistic, p_value = "chi2", chi.statistic, chi.p_value
    leader = None
    if active:
        leader = names[max(active, key=lambda i: (groups[i].rate, p_best[i]))]
    required = None
    base = first.rate
    if base > 0 and base * (1 + mde) < 1:
        required = sample_size_per_arm(base, base * mde)
    promotable = None
    rule = step.promote
    if (
        rule is not None
        and step.winner is None
        and p_value is not None
        and leader is not None
        and min(sizes) >= rule.min_per_arm
        and p_value < rule.alpha
        and (len(names) == 2 or p_best[names.index(leader)] >= 1 - rule.alpha)
    ):
        promotable = leader
    return ABResult(
        scenario_key,
        step.id,
        window.total_seconds() / 86400,
        arms,
        test,
        statistic,
        p_value,
        leader,
        required,
        step.winner,
        promotable,
    )


def scenario_tests(
    con: BaseBackend,
    db: Session,
    scenario_key: str,
    as_of: datetime,
    window: timedelta | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    alpha: float = 0.05,
    mde: float = MDE,
    force: str | None = None,
) -> list[ABResult]:
    """One result per split step of the scenario (any version); naive UTC times."""
    scenario = store.get(db, scenario_key)
    versions = definitions(db, scenario)
    current = store.load_version(store.version_row(db, scenario))
    rule = Rule.of(current.goal, window)
    period = Period(as_of, start, end)
    out = []
    for step in split_steps(versions):
        live = _current_split(current, step.id) or step
        units = arm_units(db, scenario.id, step.id, period, rule.window)
        outcomes = group_outcomes(con, units, rule, force)
        counts = rollup(db, arm_messages(scenario.id, step.id, period, rule.window), ["arm"])
        engagement = {str(r["arm"]): r for r in counts.to_dict("records")}
        out.append(evaluate(scenario_key, live, rule.window, outcomes, engagement, alpha, mde))
    return out


def _current_split(definition: ScenarioDefinition, step_id: str) -> Split | None:
    for s in definition.steps:
        if isinstance(s, Split) and s.id == step_id:
            return s
    return None


def promote(
    db: Session, scenario_key: str, step_id: str, arm: str, at: datetime, user_id: int | None = None
) -> int:
    """Write a new version of the scenario whose split sends everyone to `arm`; returns
    the new version number. Customers already past the split keep their arm."""
    scenario = store.get(db, scenario_key)
    current = store.load_version(store.version_row(db, scenario))
    split = _current_split(current, step_id)
    if split is None:
        raise store.ScenarioStoreError(f"{scenario_key}: no split step {step_id!r}")
    if arm not in [a.name for a in split.arms]:
        raise store.ScenarioStoreError(f"{scenario_key}/{step_id}: no arm {arm!r}")
    steps = [s.model_copy(update={"winner": arm}) if s is split else s for s in current.steps]
    # Validate the new definition whole, as an import would.
    new = ScenarioDefinition.model_validate(
        current.model_copy(update={"steps": steps}).model_dump(mode="json")
    )
    saved = store.save(db, new, at, user_id)
    return saved.version.version


def promote_winners(
    con: BaseBackend, db: Session, as_of: datetime, at: datetime
) -> list[tuple[str, str, str, int]]:
    """Promote every significant winner of enabled scenarios that asked for it.

    Returns (scenario, step, arm, new version) per promotion. Meant to run after the
    scheduler's tick, or from `tokui measure ab --promote`.
    """
    done = []
    enabled = select(Scenario).where(Scenario.status == "enabled").order_by(Scenario.key)
    for scenario in db.scalars(enabled).all():
        current = store.load_version(store.version_row(db, scenario))
        if not any(isinstance(s, Split) and s.promote is not None for s in current.steps):
            continue
        for result in scenario_tests(con, db, scenario.key, as_of):
            if result.promotable is not None:
                version = promote(db, scenario.key, result.step_id, result.promotable, at)
                done.append((scenario.key, result.step_id, result.promotable, version))
    return done
