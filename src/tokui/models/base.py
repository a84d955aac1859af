"""What every maximum-likelihood model shares: compressed data, fitting, the summary.

The habit is lifetimes': `fit()` returns self, fitted values end in `_` (`params_`,
`log_likelihood_`), `summary` is a table. Customers with the same (frequency, recency,
T) contribute the same likelihood term, so data are compressed to unique rows with
weights before fitting: a million customers measured in days are a few hundred thousand
rows at most, and each likelihood evaluation touches only those.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

FloatArray = NDArray[np.float64]
# (negative log-likelihood, its gradient) with respect to the log of each parameter
Objective = Callable[[FloatArray], tuple[float, FloatArray]]


class ConvergenceError(RuntimeError):
    """The optimiser stopped without a maximum; the message says why."""


def as_float(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: every value must be a finite number")
    return arr


def compress(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Unique rows of the given columns and how many times each occurs."""
    frame = pd.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    counts = frame.groupby(list(frame.columns), sort=False).size()
    index = counts.index.to_frame(index=False)
    return [index[f"c{i}"].to_numpy(np.float64) for i in range(len(columns))], counts.to_numpy(
        np.float64
    )


def check_rfm(frequency: FloatArray, recency: FloatArray, T: FloatArray) -> None:
    """Reject impossible summaries before fitting (they would give a silent nonsense fit)."""
    if not (len(frequency) == len(recency) == len(T)):
        raise ValueError("frequency, recency and T must have the same length")
    if np.any(frequency < 0) or np.any(frequency != np.floor(frequency)):
        raise ValueError("frequency: repeat purchase counts must be whole numbers >= 0")
    if np.any(recency < 0) or np.any(recency > T + 1e-9):
        raise ValueError("recency: must lie between 0 and T for every customer")
    if np.any((frequency == 0) & (recency != 0)):
        raise ValueError("recency: must be 0 for customers without repeat purchases")
    if np.any(T < 0):
        raise ValueError("T: the observation period cannot end before the first purchase")


def maximise(
    objective: Objective, start: FloatArray, names: Sequence[str], what: str
) -> tuple[FloatArray, float, Callable[[], FloatArray]]:
    """Minimise a negative log-likelihood over log-parameters (which keeps them positive).

    Returns the parameters, the maximised log-likelihood and a function giving their
    standard errors (the Hessian costs 2k more evaluations, so only on demand).
    """
    # One BLAS thread: the optimiser and the likelihood make many tiny BLAS calls, and
    # on a busy machine a threaded BLAS spends 100x longer waking threads than working.
    with threadpool_limits(limits=1, user_api="blas"):
        return _maximise(objective, start, names, what)


def _maximise(
    objective: Objective, start: FloatArray, names: Sequence[str], what: str
) -> tuple[FloatArray, float, Callable[[], FloatArray]]:
    result = minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ConvergenceError(f"{what}: the likelihood became non-finite ({result.message})")
    if not result.success:
        # L-BFGS-B sometimes stops on a flat stretch; a second run from there moves on.
        again = minimize(objective, result.x, jac=True, method="L-BFGS-B")
        if again.fun <= result.fun:
            result = again
    grad = np.abs(np.asarray(result.jac))
    if np.max(grad) > 1e-3 * max(1.0, abs(result.fun)):
        raise ConvergenceError(f"{what}: no maximum found ({result.message}; gradient {grad})")
    params = np.exp(result.x)
    x = np.array(result.x)
    return params, -float(result.fun), lambda: _standard_errors(objective, x, names)


def _standard_errors(
    objective: Objective, log_params: FloatArray, names: Sequence[str]
) -> FloatArray:
    # Hessian of the negative log-likelihood in log-parameters from central differences of
    # the analytic gradient, then the delta method back to the natural parameters.
    k = len(log_params)
    hess = np.empty((k, k))
    for i in range(k):
        h = 1e-5 * max(1.0, abs(log_params[i]))
        up, down = log_params.copy(), log_params.copy()
        up[i] += h
        down[i] -= h
        hess[i] = (objective(up)[1] - objective(down)[1]) / (2 * h)
    hess = (hess + hess.T) / 2
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    params = np.exp(log_params)
    return np.asarray(np.sqrt(np.clip(np.diag(cov), 0, None)) * params, dtype=np.float64)


class Fitter:
    """Base of the models: named parameters, `params_`, `summary`."""

    param_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.params_: dict[str, float] = {}
        self.log_likelihood_: float = float("nan")
        self.n_: int = 0
        self._se: FloatArray | Callable[[], FloatArray] = np.zeros(0)

    def _set_fit(
        self, params: FloatArray, ll: float, se: FloatArray | Callable[[], FloatArray], n: int
    ) -> None:
        self.params_ = {k: float(v) for k, v in zip(self.param_names, params, strict=True)}
        self._se = se
        self.log_likelihood_ = ll
        self.n_ = n

    @property
    def standard_errors_(self) -> dict[str, float]:
        """Standard errors from the observed information (computed on first use)."""
        self._require_fit()
        if callable(self._se):
            self._se = self._se()
        return {k: float(v) for k, v in zip(self.param_names, self._se, strict=True)}

    def _require_fit(self) -> tuple[float, ...]:
        if not self.params_:
            raise RuntimeError(f"{type(self).__name__}: call fit() first")
        return tuple(self.params_[k] for k in self.param_names)

    @property
    def summary(self) -> pd.DataFrame:
        """Parameters with standard errors and 95 % intervals (normal approximation)."""
        self._require_fit()
        coef = pd.Series(self.params_)
        se = pd.Series(self.standard_errors_)
        return pd.DataFrame(
            {
                "coef": coef,
                "se(coef)": se,
                "lower 95% bound": coef - 1.96 * se,
                "upper 95% bound": coef + 1.96 * se,
            }
        )

    def __repr__(self) -> str:
        if not self.params_:
            return f"<{type(self).__name__}: not fitted>"
        shown = ", ".join(f"{k}: {v:.3g}" for k, v in self.params_.items())
        return f"<{type(self).__name__}: fitted with {self.n_} subjects, {shown}>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": type(self).__name__,
            "params": self.params_,
            "log_likelihood": self.log_likelihood_,
            "n": self.n_,
        }
