"""The global control group: a stable share of customers that no scenario messages.

Membership must be the same in the engine (Python, one customer at a time) and in
measurement (an Ibis expression over every customer of the warehouse), so it is defined
on the per-customer hash the refresh already keeps in the warehouse
(tokui.features.hashing: the first 20 bits of the MD5 of the id), mixed by an affine
permutation salted with "global-control" exactly like a segment's random bucket
(tokui.segments.compile). A segment `random bucket` with the salt "global-control" and
the range [0, percent) therefore names the same customers. Scenario holdouts and splits
hash the id with their own salts, so they are independent of this group.
"""

from __future__ import annotations

import hashlib

import ibis

from tokui.features.hashing import HASH_SPACE, stable_hash

SALT = "global-control"


def _mix() -> tuple[int, int]:
    digest = hashlib.sha256(SALT.encode("utf-8")).digest()
    a = int.from_bytes(digest[:4], "big") % HASH_SPACE | 1  # odd: a permutation mod 2^20
    c = int.from_bytes(digest[4:8], "big") % HASH_SPACE
    return a, c


A, C = _mix()


def control_point(customer_id: str) -> float:
    """The customer's place in [0, 100): in the control group when below the percent."""
    mixed = (stable_hash(customer_id) * A + C) % HASH_SPACE
    return mixed * 100 / HASH_SPACE


def in_global_control(customer_id: str, percent: float) -> bool:
    if percent <= 0:
        return False
    mixed = (stable_hash(customer_id) * A + C) % HASH_SPACE
    return mixed * 100 < percent * HASH_SPACE


def control_expr(customer_hash: ibis.Value, percent: float) -> ibis.Value:
    """The same test as in_global_control, over the warehouse's customer_hash column.

    mixed * 100 < percent * 2^20 is exact in int64 and float64 alike (both sides stay
    below 2^27), so Python and every engine agree at the boundary.
    """
    mixed = (customer_hash * A + C) % HASH_SPACE
    return (mixed * 100) < ibis.literal(float(percent) * HASH_SPACE)
