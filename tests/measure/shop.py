"""A hand-made shop for the measurement tests: every number the tests expect is worked
out here from these rows.

T0 = 2026-01-05 03:00 UTC (Monday 12:00 JST). Scenario `s1` (holdout 50 %, then an
email) enrolled at T0:

treatment (journal `treated` at T0; each got an email `sent` at T0):
  t01  order T0+1d ¥3,000; opened and clicked (T0+2h)         → converted
  t02  order T0+7d exactly ¥2,000 (window end counts); opened   → converted
  t03  order at T0 exactly ¥800 (not after the anchor)          → not
  t04  order T0+7d+1s ¥900 (after the window)                   → not
  t05  order T0+2d cancelled ¥5,000                             → not
  t06  orders T0+1d ¥1,000 and T0+3d ¥1,500 (a 茶 order)        → converted, ¥2,500
       also in scenario s2 (goal: 茶 within 7 days): LINE `sent` T0+2d, opened
  t07  order T0-1d ¥700 (before)                                → not
  t08  nothing; an active 定期便 since T0-30d; a transactional email at T0
  t09  nothing; email bounced; 定期便 cancelled at T0+3d
  t10  nothing; opened and unsubscribed
  t11  treated at T0+8d: its window is not over at AS_OF (T0+10d), left out
holdout (journal `holdout` at T0, nothing sent):
  h01  order T0+2d ¥4,000                                       → converted
  h02  order T0-5d ¥500 and T0+4d ¥1,000 (an F2)                → converted
  h03  定期便 since T0-10d, cancelled T0+20d (still on at T0+7d)
  h04  定期便 started T0+1d (not on at T0)
  h05..h10 nothing
global control (journal `global_control` at entry T0):
  g01  order T0+1d ¥1,000;  g02 nothing

Treatment 3 of 10, revenue [3000, 2000, 0, 0, 0, 2500, 0, 0, 0, 0];
holdout 2 of 10, revenue [4000, 1000, 0 x 8].

Scenario `ab` splits at T0 into arms a and b (20 each, customers a01.. and b01..):
arm a: 2 converted (a01, a02: ¥1,000 at T0+1d), arm b: 8 (b01..b08). Each got one email;
a01..a05 and b01..b10 opened. `ab3` splits into x, y, z (10 each): 1, 3 and 6 converted
(customers x01, y01..y03, z01..z06, ¥1,000 at T0+2d); nothing sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session, sessionmaker

from tokui.clock import utc_naive
from tokui.messaging.context import ShopInfo, sample_context
from tokui.messaging.store import TemplateDraft, create_template
from tokui.scenarios import store
from tokui.scenarios.definition import parse_definition
from tokui.state.db import session_scope
from tokui.state.messages import MessageEventRecord, OutboxMessage
from tokui.state.scenarios import Enrollment, JourneyEntry
from tokui.warehouse import bulk_load

T0 = datetime(2026, 1, 5, 3)  # naive UTC, Monday 12:00 JST
AS_OF = T0 + timedelta(days=10)
DAY = timedelta(days=1)

TREATMENT = [f"t{i:02d}" for i in range(1, 11)]
HOLDOUT = [f"h{i:02d}" for i in range(1, 11)]
CONTROL = ["g01", "g02"]
ARM_A = [f"a{i:02d}" for i in range(1, 21)]
ARM_B = [f"b{i:02d}" for i in range(1, 21)]
ARMS3 = {
    "x": [f"x{i:02d}" for i in range(1, 11)],
    "y": [f"y{i:02d}" for i in range(1, 11)],
    "z": [f"z{i:02d}" for i in range(1, 11)],
}
ALL = [*TREATMENT, "t11", *HOLDOUT, *CONTROL, *ARM_A, *ARM_B, *ARMS3["x"], *ARMS3["y"], *ARMS3["z"]]

# (order id, customer, time, status, total, category)
ORDERS: list[tuple[str, str, datetime, str, int, str]] = [
    ("o-t01", "t01", T0 + DAY, "completed", 3000, "米"),
    ("o-t02", "t02", T0 + 7 * DAY, "completed", 2000, "米"),
    ("o-t03", "t03", T0, "completed", 800, "米"),
    ("o-t04", "t04", T0 + 7 * DAY + timedelta(seconds=1), "completed", 900, "米"),
    ("o-t05", "t05", T0 + 2 * DAY, "cancelled", 5000, "米"),
    ("o-t06a", "t06", T0 + DAY, "completed", 1000, "米"),
    ("o-t06b", "t06", T0 + 3 * DAY, "completed", 1500, "茶"),
    ("o-t07", "t07", T0 - DAY, "completed", 700, "米"),
    ("o-h01", "h01", T0 + 2 * DAY, "completed", 4000, "米"),
    ("o-h02a", "h02", T0 - 5 * DAY, "completed", 500, "米"),
    ("o-h02b", "h02", T0 + 4 * DAY, "completed", 1000, "米"),
    ("o-g01", "g01", T0 + DAY, "completed", 1000, "米"),
    *[(f"o-{c}", c, T0 + DAY, "completed", 1000, "米") for c in ARM_A[:2] + ARM_B[:8]],
    *[
        (f"o-{c}", c, T0 + 2 * DAY, "completed", 1000, "米")
        for c in ARMS3["x"][:1] + ARMS3["y"][:3] + ARMS3["z"][:6]
    ],
]

S1 = {
    "key": "s1",
    "name_ja": "測定1",
    "name_en": "Measure 1",
    "trigger": {"type": "broadcast", "at": "2026-01-05T12:00:00+09:00"},
    "steps": [
        {"id": "hold", "type": "holdout", "percent": 50},
        {"id": "mail", "type": "send", "channel": "email", "template": "m-mail"},
    ],
}
S2 = {
    "key": "s2",
    "name_ja": "測定2",
    "name_en": "Measure 2",
    "trigger": {"type": "ordered"},
    "goal": {"within_days": 7, "category": "茶"},
    "steps": [{"id": "line", "type": "send", "channel": "line", "template": "m-line"}],
}
AB = {
    "key": "ab",
    "name_ja": "AB",
    "name_en": "AB",
    "trigger": {"type": "broadcast", "at": "2026-01-05T12:00:00+09:00"},
    "steps": [
        {
            "id": "split",
            "type": "split",
            "arms": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}],
            "promote": {"min_per_arm": 20, "alpha": 0.05},
        },
        {"id": "mail", "type": "send", "channel": "email", "template": "m-mail"},
    ],
}
AB3 = {
    "key": "ab3",
    "name_ja": "ABC",
    "name_en": "ABC",
    "trigger": {"type": "broadcast", "at": "2026-01-05T12:00:00+09:00"},
    "steps": [
        {
            "id": "split",
            "type": "split",
            "arms": [{"name": n, "weight": 1} for n in ARMS3],
        },
        {"id": "end", "type": "end"},
    ],
}


def load_warehouse(con: BaseBackend) -> None:
    bulk_load(
        con,
        "customers",
        pd.DataFrame(
            {
                "customer_id": ALL,
                "email": [f"{c}@example.jp" for c in ALL],
                "registered_at": [datetime(2025, 1, 1)] * len(ALL),
                "email_opt_in": [True] * len(ALL),
                "line_opt_in": [False] * len(ALL),
                "dm_opt_in": [False] * len(ALL),
                "push_opt_in": [False] * len(ALL),
                "time_zone": ["Asia/Tokyo"] * len(ALL),
            }
        ),
    )
    bulk_load(
        con,
        "orders",
        pd.DataFrame(
            {
                "order_id": [o[0] for o in ORDERS],
                "customer_id": [o[1] for o in ORDERS],
                "ordered_at": [o[2] for o in ORDERS],
                "status": [o[3] for o in ORDERS],
                "subtotal": [o[4] for o in ORDERS],
                "discount": 0,
                "shipping_fee": 0,
                "points_used": 0,
                "total": [o[4] for o in ORDERS],
                "points_earned": 0,
                "is_gift": False,
            }
        ),
    )
    bulk_load(
        con,
        "order_items",
        pd.DataFrame(
            {
                "order_id": [o[0] for o in ORDERS],
                "line_no": 1,
                "product_id": ["tea" if o[5] == "茶" else "rice" for o in ORDERS],
                "category": [o[5] for o in ORDERS],
                "quantity": 1,
                "unit_price": [o[4] for o in ORDERS],
                "amount": [o[4] for o in ORDERS],
            }
        ),
    )
    bulk_load(
        con,
        "subscriptions",
        pd.DataFrame(
            {
                "subscription_id": ["s-t08", "s-t09", "s-h03", "s-h04"],
                "customer_id": ["t08", "t09", "h03", "h04"],
                "product_id": ["rice"] * 4,
                "quantity": 1,
                "unit_price": 3000,
                "cycle_unit": "month",
                "cycle_interval": 1,
                "status": ["active", "cancelled", "cancelled", "active"],
                "started_at": [T0 - 30 * DAY, T0 - 30 * DAY, T0 - 10 * DAY, T0 + DAY],
                "cancelled_at": [None, T0 + 3 * DAY, T0 + 20 * DAY, None],
            }
        ),
    )
    con.create_table(
        "segment_memberships",
        pd.DataFrame(
            {
                "segment_key": ["vip", "vip", "vip"],
                "customer_id": ["t01", "t02", "h01"],
                "as_of": [date(2026, 1, 5)] * 3,
            }
        ),
        overwrite=True,
    )


@dataclass
class Builder:
    db: Session
    next_message: int = 1

    def enroll(self, key: str, customer: str, at: datetime) -> Enrollment:
        scenario = store.get(self.db, key)
        version = store.version_row(self.db, scenario)
        e = Enrollment(
            scenario_id=scenario.id,
            version_id=version.id,
            customer_id=customer,
            occurrence="x",
            status="completed",
            step_id=None,
            due_at=at,
            entered_at=at,
            updated_at=at,
        )
        self.db.add(e)
        self.db.flush()
        return e

    def journal(self, e: Enrollment, step: str, outcome: str, at: datetime, **kw: Any) -> int:
        j = JourneyEntry(enrollment_id=e.id, step_id=step, outcome=outcome, at=at, **kw)
        self.db.add(j)
        self.db.flush()
        return int(j.id)

    def message(
        self,
        customer: str,
        channel: str,
        at: datetime,
        events: list[tuple[str, datetime]],
        e: Enrollment | None = None,
        step: str = "mail",
        marketing: bool = True,
    ) -> int:
        n = self.next_message
        self.next_message += 1
        o = OutboxMessage(
            idempotency_key=f"k{n}",
            channel=channel,
            customer_id=customer,
            recipient=f"{customer}@example.jp",
            is_marketing=marketing,
            payload="{}",
            status="sent",
            attempts=1,
            next_attempt_at=at,
            created_at=at,
            updated_at=at,
            sent_at=at,
        )
        self.db.add(o)
        self.db.flush()
        if e is not None:
            self.journal(e, step, "queued", at, detail=channel, outbox_id=o.id)
        for event, when in [("sent", at), *events]:
            self.db.add(
                MessageEventRecord(
                    outbox_id=o.id, customer_id=customer, channel=channel, event=event, at=when
                )
            )
        self.db.flush()
        return int(o.id)


def load_state(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Stores the scenarios and the hand-made journeys; returns message ids by name."""
    ids: dict[str, int] = {}
    with session_scope(sessions) as db:
        # A scenario is enabled only when the templates it sends exist and render.
        for key, channel, draft in (
            ("m-mail", "email", TemplateDraft(name="m-mail", subject="お知らせ", html="<p>x</p>")),
            ("m-line", "line", TemplateDraft(name="m-line", line_text="お知らせ")),
        ):
            create_template(
                db,
                key=key,
                channel=channel,
                draft=draft,
                is_marketing=True,
                at=T0 - DAY,
                user_id=None,
                check_context=sample_context(ShopInfo(name="sample")),
            )
        for d in (S1, S2, AB, AB3):
            store.save(db, parse_definition(d), T0 - DAY)
            store.set_status(db, str(d["key"]), "enabled", T0 - DAY)
        b = Builder(db)
        events: dict[str, list[tuple[str, datetime]]] = {
            "t01": [("opened", T0 + timedelta(hours=1)), ("clicked", T0 + timedelta(hours=2))],
            "t02": [("opened", T0 + timedelta(hours=3))],
            "t09": [("bounced", T0 + timedelta(minutes=5))],
            "t10": [("opened", T0 + DAY), ("unsubscribed", T0 + DAY)],
        }
        for c in TREATMENT:
            e = b.enroll("s1", c, T0)
            b.journal(e, "hold", "treated", T0)
            ids[c] = b.message(c, "email", T0, events.get(c, []), e)
        late = b.enroll("s1", "t11", T0 + 8 * DAY)
        b.journal(late, "hold", "treated", T0 + 8 * DAY)
        ids["t11"] = b.message("t11", "email", T0 + 8 * DAY, [], late)
        for c in HOLDOUT:
            e = b.enroll("s1", c, T0)
            b.journal(e, "hold", "holdout", T0)
        for c in CONTROL:
            e = b.enroll("s1", c, T0)
            b.journal(e, "hold", "global_control", T0)
        ids["t08-receipt"] = b.message("t08", "email", T0, [], None, marketing=False)
        e = b.enroll("s2", "t06", T0 + 2 * DAY)
        ids["t06-line"] = b.message(
            "t06", "line", T0 + 2 * DAY, [("opened", T0 + 2 * DAY + timedelta(hours=1))], e, "line"
        )
        b.journal(e, "line", "goal", T0 + 3 * DAY + timedelta(hours=1))
        for arm, members in (("a", ARM_A), ("b", ARM_B)):
            for i, c in enumerate(members):
                e = b.enroll("ab", c, T0)
                b.journal(e, "split", "arm", T0, detail=arm)
                opened = (
                    [("opened", T0 + timedelta(hours=1))] if i < (5 if arm == "a" else 10) else []
                )
                b.message(c, "email", T0, opened, e)
        for arm, members in ARMS3.items():
            for c in members:
                e = b.enroll("ab3", c, T0)
                b.journal(e, "split", "arm", T0, detail=arm)
    return ids


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


__all__ = ["AS_OF", "T0", "aware", "load_state", "load_warehouse", "utc_naive"]
