"""Tree SHAP contributions of a LightGBM model, fast enough for a million rows.

LightGBM's `pred_contrib` runs path-dependent tree SHAP for every row and every tree;
on a busy two-core machine that was measured at about 0.3 ms per row for a 150-tree
model, minutes for a million customers. But within one tree, that algorithm looks at
a row only through the split decisions at the tree's internal nodes, so rows that make
the same decision at every node get the same contributions from that tree. Per tree we
key each row by (value <= threshold, is NaN, is zero) at every node, which determines
the decision under any of LightGBM's missing-value rules, run LightGBM's own
`pred_contrib` on one representative row per key, and scatter the result back. Rows
share keys massively (a 15-leaf tree sees a few hundred patterns), so this is exact and
two orders of magnitude cheaper.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
_ZERO = 1e-35  # LightGBM's kZeroThreshold
_MAX_NODES = 21  # 3 bits per node in an int64 key


def _splits(node: dict[str, Any], out: list[tuple[int, float]]) -> None:
    if "split_feature" not in node:
        return
    out.append((int(node["split_feature"]), float(node["threshold"])))
    _splits(node["left_child"], out)
    _splits(node["right_child"], out)


def tree_contributions(booster: lgb.Booster, x: FloatArray, num_iteration: int) -> FloatArray:
    """(n, features + 1) contributions, last column the bias; rows sum to the raw score."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    n, k = x.shape
    trees = booster.dump_model(num_iteration=num_iteration)["tree_info"]
    out_t = np.zeros((k + 1, n))  # feature-major: every update below is contiguous
    if n == 0:
        return out_t.T.copy()
    x_t = np.ascontiguousarray(x.T)
    # the NaN and zero bits of every value, computed once for all trees
    extra = (np.isnan(x_t).astype(np.int64) << 1) | (
        (np.abs(np.nan_to_num(x_t, nan=1.0)) <= _ZERO).astype(np.int64) << 2
    )
    key = np.empty(n, dtype=np.int64)
    for t, tree in enumerate(trees):
        nodes: list[tuple[int, float]] = []
        _splits(tree["tree_structure"], nodes)
        if len(nodes) > _MAX_NODES:
            part = booster.predict(x, start_iteration=t, num_iteration=1, pred_contrib=True)
            out_t += np.asarray(part, dtype=np.float64).T
            continue
        key.fill(0)
        for f, threshold in nodes:
            key <<= 3
            key += extra[f]
            key += x_t[f] <= threshold
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        part = booster.predict(x[first], start_iteration=t, num_iteration=1, pred_contrib=True)
        part = np.asarray(part, dtype=np.float64)
        inverse = inverse.ravel()
        # a tree contributes only to the features it splits on, and to the bias
        for c in {f for f, _ in nodes} | {k}:
            out_t[c] += part[inverse, c]
    return np.ascontiguousarray(out_t.T)
