"""Which product and cohort groups get their own sBG fit."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from tokui.models.run import ModelsConfig, Trained, _train_retention


def _subs(product: str, cohort: str, thetas: np.ndarray, horizon: int, seed: int) -> pd.DataFrame:
    """Subscriptions with churn probability theta per renewal, observed `horizon` periods."""
    rng = np.random.default_rng(seed)
    periods = rng.geometric(thetas)  # the period in which each one would cancel
    churned = periods <= horizon
    return pd.DataFrame(
        {
            "product_id": product,
            "cohort": cohort,
            "churned": churned,
            "periods": np.minimum(periods, horizon),
            "renewals": np.where(churned, periods - 1, horizon),
        }
    )


def test_young_homogeneous_cohort_falls_back_to_the_product() -> None:
    rng = np.random.default_rng(3)
    old = _subs("rice", "2025-01", rng.beta(1.0, 5.0, 3000), horizon=20, seed=1)
    # Seen for two periods only: no heterogeneity can show, the Beta degenerates.
    young = _subs("rice", "2026-07", np.full(400, 0.2), horizon=2, seed=2)
    tiny = _subs("rice", "2026-08", rng.beta(1.0, 5.0, 20), horizon=3, seed=4)
    out = Trained(date(2026, 10, 31), ModelsConfig(), pd.DataFrame())
    out.subscriptions = pd.concat([old, young, tiny], ignore_index=True)
    _train_retention(out)
    assert ("all", "", "") in out.retention
    assert ("product", "rice", "") in out.retention
    assert ("product_cohort", "rice", "2025-01") in out.retention
    old_fit = out.retention[("product_cohort", "rice", "2025-01")].params_
    assert 0.7 < old_fit["alpha"] < 1.4 and 3.5 < old_fit["beta"] < 7.0
    assert ("product_cohort", "rice", "2026-07") not in out.retention  # degenerate
    assert ("product_cohort", "rice", "2026-08") not in out.retention  # too few
