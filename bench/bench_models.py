"""BG/NBD + Gamma-Gamma fit on N customers (default 1,000,000), and lifetimes if installed.

Data are drawn from a BG/NBD process measured in days over two years, so recency and T
take realistic numbers of distinct values. Prints Markdown table rows.
Then churn scoring (features in the warehouse, LightGBM, calibrated probabilities, deciles,
tree SHAP reasons for the riskiest deciles) of every customer of a simulated shop of the
same size (target under 60 s at 1,000,000 customers), trained on that shop first.
Usage: python bench/bench_models.py [customers]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from tokui.models.bgnbd import BetaGeoFitter
from tokui.models.gamma_gamma import GammaGammaFitter


def draw(n: int, seed: int = 1) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.6, 1 / 30.0, n)
    p = rng.beta(0.8, 2.5, n)
    T = rng.integers(1, 730, n).astype(np.float64)
    x = np.zeros(n)
    tx = np.zeros(n)
    now = np.zeros(n)
    alive = np.ones(n, bool)
    while alive.any():
        now = np.where(alive, now + rng.exponential(1 / np.maximum(lam, 1e-12)), now)
        bought = alive & (now <= T)
        x[bought] += 1
        tx[bought] = np.floor(now[bought])
        alive = bought & (rng.random(n) >= p)
    nu = rng.gamma(4.0, 1 / 15_000.0, n)
    spend = np.where(x > 0, rng.gamma(6.0 * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0)
    return x, tx, T, spend


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    fit_clv(n)
    churn_scoring(n)


def fit_clv(n: int) -> None:
    x, tx, T, spend = draw(n)
    repeat = x > 0
    print("| what | customers | seconds | note |")
    print("|---|---:|---:|---|")
    t0 = time.perf_counter()
    bg = BetaGeoFitter().fit(x, tx, T)
    t1 = time.perf_counter()
    gg = GammaGammaFitter().fit(x[repeat], spend[repeat])
    t2 = time.perf_counter()
    ours = t2 - t0
    print(f"| tokui BG/NBD fit | {n:,} | {t1 - t0:.2f} | {bg!r} |")
    print(f"| tokui Gamma-Gamma fit | {int(repeat.sum()):,} | {t2 - t1:.2f} | {gg!r} |")
    print(f"| tokui BG/NBD + Gamma-Gamma | {n:,} | {ours:.2f} | target < 3 s |")
    try:
        import pandas as pd
        from lifetimes import BetaGeoFitter as LtBG
        from lifetimes import GammaGammaFitter as LtGG
    except ImportError:
        print("| lifetimes | - | - | not installed (`make bench` installs the bench extra) |")
        return
    try:
        t0 = time.perf_counter()
        lt_bg = LtBG().fit(pd.Series(x), pd.Series(tx), pd.Series(T))
        LtGG().fit(pd.Series(x[repeat]), pd.Series(spend[repeat]))
        theirs = time.perf_counter() - t0
    except Exception as exc:  # lifetimes is unmaintained; say how it failed
        print(f"| lifetimes | {n:,} | - | failed on this pandas: {type(exc).__name__} |")
        return
    same = ", ".join(f"{k}: {float(v):.3g}" for k, v in lt_bg.params_.items())
    print(
        f"| lifetimes BG/NBD + Gamma-Gamma | {n:,} | {theirs:.2f} | ours is "
        f"{theirs / ours:.1f}x faster; lifetimes' BG/NBD {same} |"
    )


def churn_scoring(n: int) -> None:
    """Train both risk models on the cached demo shop, then time scoring everyone."""
    from common import shop

    from tokui.models.churn import SPECS, ChurnConfig, score_churn, train_churn
    from tokui.warehouse import connect

    bench = shop(n)
    con = connect(bench.url)
    total = 0.0
    for name, spec in SPECS.items():
        t0 = time.perf_counter()
        result = train_churn(con, spec, bench.config.end_date, ChurnConfig())
        trained = time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = score_churn(con, result, bench.config.end_date)
        took = time.perf_counter() - t0
        total += took
        auc = result.metrics.get("evaluation", {}).get("auc", float("nan"))
        print(f"| tokui {name} train | {n:,} | {trained:.2f} | held-out AUC {auc:.3f} |")
        print(f"| tokui {name} score | {n:,} | {took:.2f} | {len(scores):,} customers scored |")
    print(f"| tokui churn + dormancy scoring | {n:,} | {total:.2f} | target < 60 s |")
    con.disconnect()


if __name__ == "__main__":
    main()
