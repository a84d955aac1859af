"""Simulated customers: demographics, consents and the hidden truth about each one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tokui.demo.addresses import street_addresses
from tokui.demo.calendar import Calendar
from tokui.demo.catalog import CATEGORIES, SHOPPING_CATEGORIES
from tokui.demo.config import PERSONA_MODELS, PERSONAS, SPEND_Q, SPEND_SHAPE, SimConfig
from tokui.demo.names import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES, PREFECTURES

CHANNELS = ("organic_search", "search_ad", "sns_ad", "affiliate", "line", "referral", "direct")
CHANNEL_WEIGHTS = (0.28, 0.2, 0.18, 0.1, 0.08, 0.06, 0.1)


@dataclass
class Customers:
    """Customers as columns; index i is customer C{i+1:07d}."""

    customer_id: np.ndarray
    persona: np.ndarray  # index into PERSONAS
    reg_day: np.ndarray
    buyer: np.ndarray  # will buy at least once if time allows
    first_day: np.ndarray  # planned first purchase (may fall after the end)
    rate: np.ndarray  # purchases per day of demand 1.0 (lambda)
    dropout: np.ndarray  # p: chance to become inactive after each purchase
    purchases_until_dropout: np.ndarray  # K >= 1: the K-th purchase is the last
    spend_nu: np.ndarray  # gamma-gamma nu: order values ~ Gamma(SPEND_SHAPE, scale=1/nu)
    favourite: np.ndarray  # favourite category (index into CATEGORIES)
    point_user: np.ndarray
    gender: np.ndarray
    birth: np.ndarray  # datetime64[D]
    prefecture: np.ndarray
    email_opt_in: np.ndarray
    line_opt_in: np.ndarray
    dm_opt_in: np.ndarray
    push_opt_in: np.ndarray

    def __len__(self) -> int:
        return len(self.customer_id)

    @property
    def mean_spend(self) -> np.ndarray:
        return SPEND_SHAPE / self.spend_nu


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    numbers = pc.cast(pa.array(np.arange(1, n + 1)), pa.string())
    padded = pc.utf8_lpad(numbers, width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), padded, "")


def make_customers(rng: np.random.Generator, cfg: SimConfig, cal: Calendar) -> Customers:
    n = cfg.customers
    shares = np.array([PERSONA_MODELS[p].share for p in PERSONAS])
    persona = rng.choice(len(PERSONAS), size=n, p=shares / shares.sum()).astype(np.int8)
    # registrations grow linearly over time: density ~ 1 + g t / T, sampled by inverse CDF
    g = cfg.registration_growth
    u = rng.random(n)
    x = u if g == 0 else (np.sqrt(1 + g * (2 + g) * u) - 1) / g
    reg_day = x * cal.days
    buyer = rng.random(n) >= cfg.never_buy_share
    delayed = rng.random(n) < cfg.first_purchase_delay_share
    first_day = reg_day + np.where(
        delayed, rng.exponential(cfg.first_purchase_delay_days, n), rng.random(n) * 0.02
    )
    rate = np.empty(n)
    dropout = np.empty(n)
    nu = np.empty(n)
    for k, name in enumerate(PERSONAS):
        m = PERSONA_MODELS[name]
        sel = persona == k
        cnt = int(sel.sum())
        rate[sel] = rng.gamma(m.rate_shape, m.rate_mean / m.rate_shape, cnt)
        dropout[sel] = rng.beta(m.dropout_a, m.dropout_b, cnt)
        gamma_scale = m.spend_mean * (SPEND_Q - 1) / SPEND_SHAPE
        nu[sel] = rng.gamma(SPEND_Q, 1.0 / gamma_scale, cnt)
    k_purchases = rng.geometric(np.clip(dropout, 1e-6, 1.0))
    shop = [CATEGORIES.index(c) for c in SHOPPING_CATEGORIES if c != "ギフトセット"]
    favourite = rng.choice(shop, size=n).astype(np.int16)
    gender = rng.choice(
        np.array(["female", "male", "other", "unknown"], dtype=object),
        size=n,
        p=[0.64, 0.33, 0.01, 0.02],
    )
    age = np.clip(rng.normal(50, 13, n), 20, 90)
    end = np.datetime64(cal.start, "D") + np.timedelta64(cal.days, "D")
    birth = end - (age * 365.25).astype("timedelta64[D]")
    pops = np.array([p[1] for p in PREFECTURES], dtype=np.float64)
    prefecture = rng.choice(len(PREFECTURES), size=n, p=pops / pops.sum()).astype(np.int16)
    line = rng.random(n) < 0.35
    return Customers(
        customer_id=_ids("C", n, 7).to_numpy(zero_copy_only=False),
        persona=persona,
        reg_day=reg_day,
        buyer=buyer,
        first_day=first_day,
        rate=rate,
        dropout=dropout,
        purchases_until_dropout=k_purchases,
        spend_nu=nu,
        favourite=favourite,
        point_user=rng.random(n) < 0.4,
        gender=gender,
        birth=birth,
        prefecture=prefecture,
        email_opt_in=rng.random(n) < 0.7,
        line_opt_in=line,
        dm_opt_in=rng.random(n) < 0.5,
        push_opt_in=rng.random(n) < 0.2,
    )


def customers_table(
    rng: np.random.Generator, c: Customers, cal: Calendar, rank: np.ndarray
) -> pa.Table:
    n = len(c)
    fam = rng.integers(len(FAMILY_NAMES), size=n)
    female = c.gender == "female"
    given_f = rng.integers(len(FEMALE_NAMES), size=n)
    given_m = rng.integers(len(MALE_NAMES), size=n)
    fam_kanji = np.array([f[0] for f in FAMILY_NAMES], dtype=object)[fam]
    fam_kana = np.array([f[1] for f in FAMILY_NAMES], dtype=object)[fam]
    g_kanji = np.where(
        female,
        np.array([f[0] for f in FEMALE_NAMES], dtype=object)[given_f],
        np.array([m[0] for m in MALE_NAMES], dtype=object)[given_m],
    )
    g_kana = np.where(
        female,
        np.array([f[1] for f in FEMALE_NAMES], dtype=object)[given_f],
        np.array([m[1] for m in MALE_NAMES], dtype=object)[given_m],
    )
    ids = pa.array(c.customer_id)
    name = pc.binary_join_element_wise(pa.array(fam_kanji), pa.array(g_kanji), " ")
    kana = pc.binary_join_element_wise(pa.array(fam_kana), pa.array(g_kana), " ")
    email = pc.binary_join_element_wise(
        pc.utf8_lower(ids), pa.array(rng.choice(["example.jp", "example.com"], n)), "@"
    )
    pref_names = np.array([p[0] for p in PREFECTURES], dtype=object)
    # Streets come from a generator of their own (spawning does not advance `rng`), so
    # every other column keeps the values it had before addresses were simulated.
    prefixes, address1, address2 = street_addresses(
        rng.spawn(1)[0], c.prefecture, [p[0] for p in PREFECTURES]
    )
    tail = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10_000, n)), pa.string()), 4, "0")
    postal = pc.binary_join_element_wise(prefixes, tail, "")
    phone_mid = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10_000, n)), pa.string()), 4, "0")
    phone_end = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10_000, n)), pa.string()), 4, "0")
    phone_pre = pa.array(rng.choice(["090", "080", "070"], n))
    phone = pc.binary_join_element_wise(phone_pre, phone_mid, phone_end, "-")
    halves = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
    line_hex = pa.array([f"{a:016x}{b:016x}" for a, b in halves.tolist()])
    line_id = pc.if_else(
        pa.array(c.line_opt_in), pc.binary_join_element_wise(pa.scalar("U"), line_hex, ""), None
    )
    reg_ts = cal.to_utc(c.reg_day)
    channel = rng.choice(np.array(CHANNELS, dtype=object), size=n, p=CHANNEL_WEIGHTS)
    return pa.table(
        {
            "customer_id": ids,
            "email": email,
            "name": name,
            "name_kana": kana,
            "gender": c.gender,
            "birth_date": c.birth,
            "prefecture": pref_names[c.prefecture],
            "postal_code": postal,
            "address1": address1,
            "address2": address2,
            "phone": phone,
            "registered_at": reg_ts,
            "rank": rank,
            "email_opt_in": c.email_opt_in,
            "line_opt_in": c.line_opt_in,
            "dm_opt_in": c.dm_opt_in,
            "push_opt_in": c.push_opt_in,
            "line_user_id": line_id,
            "time_zone": pc.fill_null(pa.nulls(n, pa.string()), "Asia/Tokyo"),
            "acquisition_channel": channel,
            "updated_at": reg_ts,
        }
    )
