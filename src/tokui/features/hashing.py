"""Stable per-customer hashes for random buckets (holdouts, A/B splits).

The hash must be the same on every engine and across refreshes, and Ibis has no portable
hash function (md5 is missing on PostgreSQL), so it is computed here once per customer
(the first 20 bits of the MD5 of the id) and kept in the warehouse table
`customer_hashes`, to which each refresh adds only new customers.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa
from ibis.backends import BaseBackend

HASHES = "customer_hashes"
HASH_BITS = 20
HASH_SPACE = 1 << HASH_BITS


def stable_hash(customer_id: str) -> int:
    digest = hashlib.md5(customer_id.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:3], "big") >> (24 - HASH_BITS)


def ensure_customer_hashes(con: BaseBackend) -> int:
    """Add hashes of customers that have none yet; returns how many were added."""
    if HASHES not in con.list_tables():
        con.create_table(HASHES, schema={"customer_id": "!string", "customer_hash": "!int64"})
    customers = con.table("customers").select("customer_id")
    known = con.table(HASHES)
    missing = customers.anti_join(known, "customer_id").customer_id.to_pyarrow()
    ids = missing.to_pylist()
    if not ids:
        return 0
    table = pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "customer_hash": pa.array([stable_hash(i) for i in ids], pa.int64()),
        }
    )
    con.insert(HASHES, table)
    return len(ids)
