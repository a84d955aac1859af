"""Messages queued with their template context and rendered by the delivery worker
(tokui.messaging.deferred): the context comes back exactly, the worker's render is the
one the queuing would have made, a failure stays with its message, and two workers on
PostgreSQL never render one message twice."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.messaging.conftest import NOW, welcome_draft
from tokui.clock import FixedClock, utc_naive
from tokui.messaging import deferred
from tokui.messaging.deferred import (
    decode_context,
    encode_context,
    encode_customer,
    insert_to_render,
    render_pending,
)
from tokui.messaging.outbox import NewMessage, requeue
from tokui.messaging.service import Messaging, Recipient
from tokui.messaging.store import TemplateDraft, create_template, get_template, get_version
from tokui.state.db import session_scope
from tokui.state.messages import MessageEventRecord, OutboxMessage
from tokui.workspace import Workspace

TOKYO = ZoneInfo("Asia/Tokyo")
SHOP = {"name": "とくい食品", "url": "https://shop.tokui.example"}


def test_a_context_comes_back_with_its_types_and_zone() -> None:
    context: dict[str, Any] = {
        "customer": {
            "customer_id": "c1",
            "name": "山田 太郎",
            "registered_at": datetime(2024, 1, 1, 12, 0, tzinfo=TOKYO),
            "first_order": date(2024, 2, 3),
            "monetary": 24800,
            "average_order_value": 4133.5,
            "persona": None,
            "active": True,
        },
        "shop": {"name": "old name"},
        "coupons": [{"code": "AB12", "expires_at": datetime(2026, 1, 9, 23, 59, tzinfo=TOKYO)}],
        "points": {"balance": 1200, "next_expiry": date(2026, 3, 31)},
        "recommendations": [],
    }
    text = encode_context(context)
    assert "old name" not in text  # the shop is the renderer's, as it is then
    back = decode_context(text, SHOP)
    assert back == {**context, "shop": SHOP}
    registered = back["customer"]["registered_at"]
    assert (type(registered), registered.tzinfo) == (datetime, TOKYO)
    assert type(back["customer"]["first_order"]) is date
    assert back["coupons"][0]["expires_at"].tzinfo == TOKYO
    assert type(back["customer"]["average_order_value"]) is float


def test_a_value_templates_cannot_hold_is_refused() -> None:
    with pytest.raises(TypeError, match="set is not a template value"):
        encode_context({"customer": {"tags": {"a"}}})


def _queue(db: Session, m: Messaging, keys: list[tuple[str, str]]) -> list[int]:
    """One `welcome` message to each (key suffix, customer), with the customer's context."""
    template = get_template(db, "welcome")
    assert template is not None
    version = get_version(db, template, None)
    data = m.customers([cid for _, cid in keys])
    items = []
    for suffix, cid in keys:
        r = Recipient(cid, str(data[cid].customer["email"]), data[cid])
        item = m.new_message(template, version, r, f"t:{suffix}")
        items.append((item, encode_context(m.context_for(r))))
    created = insert_to_render(db, items, utc_naive(NOW))
    return [row_id for row_id, _ in created]


def test_the_worker_renders_what_queuing_would_have(mws: Workspace, messaging: Messaging) -> None:
    with session_scope(mws.sessions) as db:
        (row_id,) = _queue(db, messaging, [("a", "c1")])
        template = get_template(db, "welcome")
        assert template is not None
        version = get_version(db, template, None)
        r = Recipient("c1", "taro@example.jp", messaging.customers(["c1"])["c1"])
        item = NewMessage("t:a:c1", "email", "taro@example.jp", "c1", version.id, True)
        expected, pmid = messaging.render_new(
            template,
            _source(template, version),
            messaging.context_for(r),
            row_id,
            item,
        )
    with session_scope(mws.sessions) as db:
        done = render_pending(messaging, db, utc_naive(NOW), 10)
        row = db.get(OutboxMessage, row_id)
        assert row is not None
        assert (done.picked, done.rendered, done.failed) == (1, 1, [])
        assert (row.status, row.provider_message_id) == ("queued", pmid)
        assert json.loads(row.payload) == expected
        assert "山田 太郎様" in expected["html"]


def _source(template: Any, version: Any) -> Any:
    from tokui.messaging.store import source_of

    return source_of(template, version)


def test_a_message_that_cannot_render_fails_alone(
    mws: Workspace, messaging: Messaging, clock: FixedClock
) -> None:
    with session_scope(mws.sessions) as db:
        create_template(
            db,
            key="odd",
            channel="email",
            # Fine for the sample customer and for c2; c1 has no such coupon.
            draft=TemplateDraft(
                name="odd",
                subject="x",
                html='{% if customer.customer_id == "c1" %}{{ coupons[5].code }}{% endif %}',
            ),
            is_marketing=True,
            at=utc_naive(NOW),
            user_id=None,
            check_context=messaging.sample_context(),
        )
        template = get_template(db, "odd")
        assert template is not None
        version = get_version(db, template, None)
        data = messaging.customers(["c1", "c2"])
        items = []
        for cid in ("c1", "c2"):
            r = Recipient(cid, str(data[cid].customer["email"]), data[cid])
            items.append(
                (
                    messaging.new_message(template, version, r, "odd"),
                    encode_context(messaging.context_for(r)),
                )
            )
        created = insert_to_render(db, items, utc_naive(NOW))
    with session_scope(mws.sessions) as db:
        done = render_pending(messaging, db, utc_naive(NOW), 10)
    assert (done.picked, done.rendered) == (2, 1)
    with session_scope(mws.sessions) as db:
        rows = db.execute(
            select(OutboxMessage.customer_id, OutboxMessage.status, OutboxMessage.last_error)
            .where(OutboxMessage.id.in_([i for i, _ in created]))
            .order_by(OutboxMessage.id)
        ).all()
        events = db.execute(
            select(MessageEventRecord.customer_id, MessageEventRecord.event)
            .where(MessageEventRecord.outbox_id.in_([i for i, _ in created]))
            .order_by(MessageEventRecord.id)
        ).all()
    error = (
        "cannot render: template 'odd' v1, html, line 1: undefined value: "
        "list object has no element 5"
    )
    assert [tuple(r) for r in rows] == [("c1", "failed_perm", error), ("c2", "queued", None)]
    assert [tuple(e) for e in events] == [("c1", "queued"), ("c2", "queued"), ("c1", "failed")]
    assert done.failed == [(created[0][0], "email", error)]
    # Sent again by hand: rendered again (its payload is still its context), not sent
    # with the context as its payload.
    with session_scope(mws.sessions) as db:
        assert requeue(db, created[0][0], utc_naive(NOW))
        row = db.get(OutboxMessage, created[0][0])
        assert row is not None
        assert (row.status, row.attempts) == ("to_render", 0)
        assert json.loads(row.payload)["customer"]["customer_id"] == "c1"


def test_two_workers_on_postgresql_never_render_one_message_twice(
    state_sessions: sessionmaker[Session], state_url: str, mws: Workspace, messaging: Messaging
) -> None:
    if not state_url.startswith("postgresql"):
        pytest.skip("SQLite runs one worker; its fence is the status check")
    with session_scope(state_sessions) as db:
        create_template(
            db,
            key="welcome",
            channel="email",
            draft=welcome_draft(),
            is_marketing=True,
            at=utc_naive(NOW),
            user_id=None,
            check_context=messaging.sample_context(),
        )
        ids = _queue(db, messaging, [(str(i), c) for i in range(3) for c in ("c1", "c2")])
    first, second = state_sessions(), state_sessions()
    try:
        a = render_pending(messaging, first, utc_naive(NOW), 4)
        # The first worker holds its four rows: the second passes over them.
        b = render_pending(messaging, second, utc_naive(NOW), 10)
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    assert (a.picked, a.rendered, b.picked, b.rendered) == (4, 4, 2, 2)
    with session_scope(state_sessions) as db:
        rows = db.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.payload).order_by(
                OutboxMessage.id
            )
        ).all()
    assert [r.id for r in rows] == ids
    assert {r.status for r in rows} == {"queued"}
    # Each rendered once, with its own id in its links.
    for r in rows:
        assert messaging.signer.unsubscribe_url(r.id) in json.loads(r.payload)["html"]


class _Meddling(Messaging):
    """Another worker claims every row while this one is rendering (SQLite holds no row
    lock between the pass's read and its write)."""

    def render(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        with session_scope(self.ws.sessions) as other:
            other.execute(update(OutboxMessage).values(status="sending"))
        return super().render(*args, **kwargs)


def test_a_row_another_worker_moved_on_is_left_as_it_is(mws: Workspace, clock: FixedClock) -> None:
    meddling = _Meddling(mws, clock)
    with session_scope(mws.sessions) as db:
        (row_id,) = _queue(db, meddling, [("f", "c1")])
        before = db.get(OutboxMessage, row_id)
        assert before is not None
        context = before.payload
    with session_scope(mws.sessions) as db:
        done = render_pending(meddling, db, utc_naive(NOW), 10)
    assert (done.picked, done.rendered) == (1, 0)
    with session_scope(mws.sessions) as db:
        row = db.get(OutboxMessage, row_id)
        assert row is not None
        assert (row.status, row.payload, row.provider_message_id) == ("sending", context, None)


def test_a_customer_is_encoded_as_their_context_would_be(messaging: Messaging) -> None:
    # c1 has coupons, points and recommendations in the messaging shop.
    for cid, data in messaging.customers(["c1", "c2"]).items():
        context = messaging.context_for(Recipient(cid, "a@example.jp", data))
        assert encode_customer(data) == encode_context(context)
    assert messaging.customers(["c1"])["c1"].coupons


def _decoded(texts: dict[str, str]) -> dict[str, tuple[dict[str, Any], list[tuple[str, str]]]]:
    """Each context decoded, with the type of every customer value (int and float
    decode equal, yet a template shows 7120 and 7120.0 apart)."""
    out = {}
    for cid, text in texts.items():
        context = decode_context(text, SHOP)
        types = [(k, type(v).__name__) for k, v in sorted(context["customer"].items())]
        out[cid] = (context, types)
    return out


def _one_by_one(messaging: Messaging, ids: list[str]) -> dict[str, str]:
    return {cid: encode_customer(data) for cid, data in messaging.customers(ids).items()}


def _bulk_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk contexts may not take the value-by-value way."""

    def refuse(*args: Any) -> None:
        raise AssertionError("load_contexts fell back to load_customers")

    monkeypatch.setattr(deferred, "load_customers", refuse)


def test_contexts_built_in_bulk_decode_as_the_customers_contexts(
    mws: Workspace, messaging: Messaging, monkeypatch: pytest.MonkeyPatch
) -> None:
    # c1 has coupons and points, and here recommendations (in their ranks, the fourth
    # left out); "x" hostile text; "nobody" is unknown.
    con = mws.warehouse
    con.raw_sql(
        "INSERT INTO products (product_id, name, category, price, is_subscription, is_gift, "
        "stock_status) VALUES ('miso', '味噌 1kg', '調味料', 980, false, false, 'in_stock'), "
        "('tea', '緑茶', '飲料', 1500, false, false, 'in_stock')"
    )
    con.raw_sql(
        "CREATE TABLE recommendations AS SELECT * FROM (VALUES ('c1', 2, 'rice'), "
        "('c1', 1, 'tea'), ('c1', 3, 'miso'), ('c1', 4, 'rice'), ('c2', 1, 'miso')) "
        "AS t(customer_id, rank, product_id)"
    )
    ids = ["c1", "c2", "x", "nobody"]
    expected = _decoded(_one_by_one(messaging, ids))
    _bulk_only(monkeypatch)
    bulk = messaging.contexts(ids)
    assert sorted(bulk) == ["c1", "c2", "x"]
    assert _decoded(bulk) == expected
    c1 = decode_context(bulk["c1"], SHOP)
    assert [c["code"] for c in c1["coupons"]] == ["WINTER-500"]
    assert c1["recommendations"] == [
        {"product_id": "tea", "name": "緑茶", "price": 1500, "url": None, "image_url": None},
        {"product_id": "rice", "name": "米 5kg", "price": 2000, "url": None, "image_url": None},
        {"product_id": "miso", "name": "味噌 1kg", "price": 980, "url": None, "image_url": None},
    ]
    assert c1["customer"]["registered_at"] == datetime(2024, 1, 1, 12, tzinfo=TOKYO)
    assert c1["customer"]["registered_at"].tzinfo == TOKYO


def test_awkward_values_come_through_the_bulk_contexts(
    mws: Workspace, messaging: Messaging, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = mws.warehouse
    # Quotes, a backslash, a newline, a control character, an emoji; a time with
    # microseconds and a null one; a NaN and an infinity where a number is expected.
    con.raw_sql(
        "UPDATE customers SET name = 'a\"b\\c' || chr(10) || chr(1) || '😀', "
        "registered_at = TIMESTAMP '2024-03-01 15:04:05.123456' WHERE customer_id = 'c2'"
    )
    con.raw_sql("UPDATE coupon_grants SET expires_at = NULL WHERE grant_id = 'g1'")
    con.raw_sql("ALTER TABLE customer_features ALTER average_order_value TYPE DOUBLE")
    con.raw_sql(
        "UPDATE customer_features SET average_order_value = CASE customer_id "
        "WHEN 'c1' THEN 'NaN'::DOUBLE WHEN 'c2' THEN 'Infinity'::DOUBLE "
        "ELSE average_order_value END"
    )
    expected = _decoded(_one_by_one(messaging, ["c1", "c2"]))
    _bulk_only(monkeypatch)
    bulk = messaging.contexts(["c1", "c2"])
    assert _decoded(bulk) == expected
    c2 = decode_context(bulk["c2"], SHOP)["customer"]
    assert c2["name"] == 'a"b\\c\n\x01😀'
    registered = datetime(2024, 3, 2, 0, 4, 5, 123456, tzinfo=TOKYO)
    assert (c2["registered_at"], c2["average_order_value"]) == (registered, None)
    c1 = decode_context(bulk["c1"], SHOP)
    assert c1["customer"]["average_order_value"] is None
    assert [(c["code"], c["expires_at"]) for c in c1["coupons"]] == [("WINTER-500", None)]


def test_a_column_of_another_type_takes_the_value_by_value_way(
    mws: Workspace, messaging: Messaging
) -> None:
    mws.warehouse.raw_sql("ALTER TABLE customer_features ALTER monetary TYPE DECIMAL(18, 2)")
    ids = ["c1", "c2"]
    expected = _one_by_one(messaging, ids)
    assert decode_context(expected["c1"], SHOP)["customer"]["monetary"] == "6000.00"
    assert messaging.contexts(ids) == expected
