"""Statistics of experiments: holdout uplift, A/B/n significance, sample sizes.

Pure functions over counts and per-customer values, so the same numbers appear in the
UI, the weekly report and the tests. Formulas:

- difference of proportions: Wald interval with unpooled variance; test statistic with
  the pooled variance (as statsmodels' proportions_ztest);
- relative uplift: interval by the delta method on log(p_t / p_c);
- revenue per customer: Welch's t interval and test;
- n > 2 arms: Pearson's chi-squared test without continuity correction;
- probability to be best: Monte Carlo over Beta(1 + conversions, 1 + failures) posteriors
  with a fixed seed, so a report shows the same number twice;
- sample size per arm for a two-sided test of two proportions (normal approximation,
  no continuity correction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class ProportionComparison:
    rate_treatment: float
    rate_control: float
    difference: float
    difference_ci: tuple[float, float]
    relative_uplift: float | None
    relative_ci: tuple[float, float] | None
    z: float
    p_value: float


def compare_proportions(
    conv_t: int, n_t: int, conv_c: int, n_c: int, alpha: float = 0.05
) -> ProportionComparison:
    if n_t <= 0 or n_c <= 0:
        raise ValueError("both groups need at least one customer")
    if not (0 <= conv_t <= n_t and 0 <= conv_c <= n_c):
        raise ValueError("conversions must be between 0 and the group size")
    p_t, p_c = conv_t / n_t, conv_c / n_c
    diff = p_t - p_c
    zcrit = float(stats.norm.ppf(1 - alpha / 2))
    se_unpooled = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    ci = (diff - zcrit * se_unpooled, diff + zcrit * se_unpooled)
    pooled = (conv_t + conv_c) / (n_t + n_c)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    z = diff / se_pooled if se_pooled > 0 else 0.0
    p_value = float(2 * stats.norm.sf(abs(z)))
    rel: float | None = None
    rel_ci: tuple[float, float] | None = None
    if conv_c > 0 and conv_t > 0:
        rel = p_t / p_c - 1
        se_log = math.sqrt((1 - p_t) / conv_t + (1 - p_c) / conv_c)
        log_ratio = math.log(p_t / p_c)
        rel_ci = (
            math.exp(log_ratio - zcrit * se_log) - 1,
            math.exp(log_ratio + zcrit * se_log) - 1,
        )
    return ProportionComparison(p_t, p_c, diff, ci, rel, rel_ci, z, p_value)


@dataclass(frozen=True)
class MeanComparison:
    mean_treatment: float
    mean_control: float
    difference: float
    difference_ci: tuple[float, float]
    t: float
    p_value: float


def compare_means(
    treatment: Sequence[float] | np.ndarray,
    control: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
) -> MeanComparison:
    """Welch's comparison of e.g. revenue per customer (zeros included for non-buyers)."""
    a = np.asarray(treatment, dtype=float)
    b = np.asarray(control, dtype=float)
    if a.size < 2 or b.size < 2:
        raise ValueError("each group needs at least two customers")
    return _welch(
        float(a.mean()),
        float(a.var(ddof=1)),
        a.size,
        float(b.mean()),
        float(b.var(ddof=1)),
        b.size,
        alpha,
    )


def compare_means_from_sums(
    n_t: int,
    sum_t: float,
    sumsq_t: float,
    n_c: int,
    sum_c: float,
    sumsq_c: float,
    alpha: float = 0.05,
) -> MeanComparison:
    """compare_means from each group's count, sum and sum of squares, so the per-customer
    values can stay in the database (they are summed there)."""
    if n_t < 2 or n_c < 2:
        raise ValueError("each group needs at least two customers")
    return _welch(
        sum_t / n_t,
        _variance(n_t, sum_t, sumsq_t),
        n_t,
        sum_c / n_c,
        _variance(n_c, sum_c, sumsq_c),
        n_c,
        alpha,
    )


def _variance(n: int, total: float, sumsq: float) -> float:
    # max(0, ...): rounding can leave a tiny negative for constant values.
    return max(0.0, (sumsq - total * total / n) / (n - 1))


def _welch(
    mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int, alpha: float
) -> MeanComparison:
    va, vb = var_a / n_a, var_b / n_b
    diff = mean_a - mean_b
    se = math.sqrt(va + vb)
    if se == 0:
        return MeanComparison(mean_a, mean_b, diff, (diff, diff), 0.0, 1.0)
    df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    tcrit = float(stats.t.ppf(1 - alpha / 2, df))
    t = diff / se
    p = float(2 * stats.t.sf(abs(t), df))
    return MeanComparison(mean_a, mean_b, diff, (diff - tcrit * se, diff + tcrit * se), t, p)


@dataclass(frozen=True)
class ChiSquared:
    statistic: float
    dof: int
    p_value: float


def chi_squared(conversions: Sequence[int], sizes: Sequence[int]) -> ChiSquared:
    """Pearson's test that all arms convert at the same rate."""
    if len(conversions) != len(sizes) or len(sizes) < 2:
        raise ValueError("give conversions and sizes for at least two arms")
    table = np.array([[c, n - c] for c, n in zip(conversions, sizes, strict=True)], dtype=float)
    if (table < 0).any():
        raise ValueError("conversions must be between 0 and the arm size")
    if (table.sum(axis=0) == 0).any():
        return ChiSquared(0.0, len(sizes) - 1, 1.0)
    result = stats.chi2_contingency(table, correction=False)
    return ChiSquared(float(result.statistic), int(result.dof), float(result.pvalue))


def probability_to_be_best(
    conversions: Sequence[int], sizes: Sequence[int], draws: int = 200_000, seed: int = 0
) -> list[float]:
    rng = np.random.default_rng(seed)
    samples = np.column_stack(
        [rng.beta(1 + c, 1 + n - c, size=draws) for c, n in zip(conversions, sizes, strict=True)]
    )
    best = samples.argmax(axis=1)
    return [float(np.mean(best == i)) for i in range(len(sizes))]


def sample_size_per_arm(
    baseline: float, minimum_effect: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Customers per arm to detect an absolute lift `minimum_effect` over `baseline`."""
    p1, p2 = baseline, baseline + minimum_effect
    if not (0 < p1 < 1 and 0 < p2 < 1) or minimum_effect == 0:
        raise ValueError("baseline and baseline + effect must be rates strictly between 0 and 1")
    za = float(stats.norm.ppf(1 - alpha / 2))
    zb = float(stats.norm.ppf(power))
    pbar = (p1 + p2) / 2
    n = (
        za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    ) ** 2 / minimum_effect**2
    return math.ceil(n)


def incremental_revenue(
    revenue_per_customer_t: float, revenue_per_customer_c: float, treated: int
) -> float:
    """Revenue the treatment added over what the treated would have spent anyway."""
    return (revenue_per_customer_t - revenue_per_customer_c) * treated
