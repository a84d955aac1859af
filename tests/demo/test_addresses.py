"""Simulated customers carry plausible Japanese addresses: the city belongs to the
customer's prefecture, the postal code is 7 digits starting with that city's prefix, the
street line has the 丁目-番-号 form, and every character fits Shift_JIS (cp932), so the
demo's postal DM exports in either encoding."""

from __future__ import annotations

import re
from datetime import date

import numpy as np

from tokui.demo import SimConfig, simulate
from tokui.demo.addresses import CITIES, street_addresses
from tokui.demo.names import PREFECTURES

CONFIG = SimConfig(customers=400, years=0.5, seed=21, end_date=date(2026, 6, 30))
NUMBER = r"[1-5]-([1-9]|[12]\d|30)-([1-9]|1\d|20)"
ADDRESS2 = re.compile(rf"^{NUMBER}( \S+[1-5]0[1-9]号室)?$")


def test_every_customer_has_a_usable_address() -> None:
    customers = simulate(CONFIG).tables["customers"].to_pylist()
    assert len(customers) == 400
    with_building = 0
    for c in customers:
        cities = dict(CITIES[c["prefecture"]])
        [city] = [name for name in cities if c["address1"].startswith(name)]
        assert c["postal_code"][:3] == cities[city], c
        assert re.fullmatch(r"\d{7}", c["postal_code"]), c
        assert ADDRESS2.match(c["address2"]), c
        with_building += " " in c["address2"]
        for field in ("name", "name_kana", "address1", "address2"):
            c[field].encode("cp932")
    # About a third live in a named building (0.35 ± 4 standard errors at n=400).
    assert 0.35 - 0.096 < with_building / 400 < 0.35 + 0.096


def test_addresses_leave_the_main_stream_alone() -> None:
    """Streets are drawn from a spawned generator, which does not advance the one the
    other columns come from: names, phones and postal tails keep the values a seed gave
    them before addresses existed, so analyses pinned to a seed keep their numbers."""
    assert simulate(CONFIG).tables["customers"].equals(simulate(CONFIG).tables["customers"])
    rng, untouched = np.random.default_rng(3), np.random.default_rng(3)
    names = [p[0] for p in PREFECTURES]
    prefix, address1, _ = street_addresses(rng.spawn(1)[0], np.array([12, 12]), names)
    assert rng.integers(0, 10**9, 5).tolist() == untouched.integers(0, 10**9, 5).tolist()
    tokyo = dict(CITIES["東京都"])
    assert all(p in tokyo.values() for p in prefix.to_pylist())
    assert all(a.startswith(tuple(tokyo)) for a in address1.to_pylist())
