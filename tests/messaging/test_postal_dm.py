"""Postal DM export: exact CSV rows for the print vendor, consent and address filtering
(each skipped message listed with its reason in the batch), UTF-8 with BOM and
Shift_JIS, handed-over status and events in one transaction, an idempotent re-export,
and an encoding error naming the customer and column that changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.messaging.conftest import NOW
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.consent import record_consent
from tokui.messaging.postal import DMExportError, batch_bytes, export_batch, skipped_of
from tokui.messaging.recipients import resolve
from tokui.messaging.service import Messaging
from tokui.messaging.store import TemplateDraft, create_template, get_version
from tokui.state.db import session_scope
from tokui.state.messages import MessageEventRecord, OutboxMessage
from tokui.workspace import Workspace

NO_STREET = "unusable address: no street address (住所1 / address1)"
FIELDS = (
    '{"メッセージ": "{{ customer.name }}様へ冬のご案内", '
    '"ポイント": "{{ points.balance | number }}"}'
)


def _addresses(ws: Workspace, c1_name: str = "山田 太郎") -> None:
    con = ws.warehouse
    rows = [
        ("c1", c1_name, "100-0005", "東京都", "千代田区丸の内1-1-1", "とくいビル5F", True),
        ("c2", "佐藤 花子", "５３００００１", "大阪府", "北区梅田1-1", "", True),
        ("x", "X", "1234567", "京都府", "", "", True),
    ]
    for cid, name, postal, pref, a1, a2, opt in rows:
        con.con.execute(
            "UPDATE customers SET name = ?, postal_code = ?, prefecture = ?, address1 = ?, "
            "address2 = ?, dm_opt_in = ? WHERE customer_id = ?",
            [name, postal, pref, a1, a2, opt, cid],
        )


def _queue(messaging: Messaging) -> list[int]:
    with session_scope(messaging.ws.sessions) as db:
        template = create_template(
            db,
            key="winter-dm",
            channel="postal_dm",
            draft=TemplateDraft(name="冬DM", text=FIELDS),
            is_marketing=True,
            at=utc_naive(NOW),
            user_id=None,
            check_context=messaging.sample_context(),
        )
        # c2 agreed through the cart, then withdrew: the consent log decides.
        record_consent(
            db,
            customer_id="c2",
            channel="postal_dm",
            granted=False,
            method="admin",
            at=utc_naive(NOW),
        )
        resolved = resolve(messaging, db, "postal_dm", ["c1", "c2", "x"])
        rows = messaging.queue(
            db, template, get_version(db, template, None), resolved.recipients, "dm-winter"
        )
        return [r.id for r in rows]


def _statuses(ws: Workspace) -> dict[str, tuple[str, str | None]]:
    with session_scope(ws.sessions) as db:
        return {
            str(c): (s, e)
            for c, s, e in db.execute(
                select(OutboxMessage.customer_id, OutboxMessage.status, OutboxMessage.last_error)
            )
        }


def test_export_rows_consent_and_handover(mws: Workspace, clock: FixedClock) -> None:
    _addresses(mws)
    messaging = Messaging(mws, clock)
    ids = _queue(messaging)
    # The worker never sends postal DMs: they wait for the export.
    stats = asyncio.run(messaging.worker().run_once())
    assert stats.claimed == 0
    with session_scope(mws.sessions) as db:
        batch = export_batch(
            db,
            mws.warehouse,
            key="dm-2025-12",
            encoding="utf-8-sig",
            now=utc_naive(NOW),
            secret=mws.settings.secret_key,
        )
        data = batch_bytes(batch)
        counts = (batch.row_count, batch.excluded_count)
        skipped = skipped_of(batch)
    c1 = ids[0]
    assert (
        data
        == (
            "\ufeff郵便番号,住所1,住所2,氏名,敬称,顧客ID,メッセージID,メッセージ,ポイント\r\n"
            f"100-0005,東京都千代田区丸の内1-1-1,とくいビル5F,山田 太郎,様,c1,{c1},"
            '山田 太郎様へ冬のご案内,"1,200"\r\n'
        ).encode()
    )
    assert counts == (1, 2)
    assert skipped == [
        {"message_id": ids[1], "customer_id": "c2", "reason": "no consent to postal DM"},
        {"message_id": ids[2], "customer_id": "x", "reason": NO_STREET},
    ]
    assert _statuses(mws) == {
        "c1": ("handed_over", None),
        "c2": ("suppressed", "no consent to postal DM"),
        "x": ("suppressed", NO_STREET),
    }
    with session_scope(mws.sessions) as db:
        events = [
            (c, e, d)
            for c, e, d in db.execute(
                select(
                    MessageEventRecord.customer_id,
                    MessageEventRecord.event,
                    MessageEventRecord.detail,
                )
                .where(MessageEventRecord.event != "queued")
                .order_by(MessageEventRecord.id)
            )
        ]
    assert sorted(events) == [
        ("c1", "handed_over", "dm-2025-12"),
        ("c2", "suppressed", "no consent to postal DM"),
        ("x", "suppressed", NO_STREET),
    ]
    # The same key again: the same bytes, nothing else changes.
    clock.advance(timedelta(days=1))
    with session_scope(mws.sessions) as db:
        again = export_batch(
            db,
            mws.warehouse,
            key="dm-2025-12",
            encoding="utf-8-sig",
            now=utc_naive(clock.now()),
            secret=mws.settings.secret_key,
        )
        assert batch_bytes(again) == data
        n_events = len(list(db.scalars(select(MessageEventRecord.id))))
    assert n_events == 3 + 3


def test_shift_jis_export_and_unencodable_name_changes_nothing(
    mws: Workspace, clock: FixedClock
) -> None:
    _addresses(mws, c1_name="𠮷田 太郎")
    messaging = Messaging(mws, clock)
    _queue(messaging)
    with pytest.raises(DMExportError) as caught, session_scope(mws.sessions) as db:
        export_batch(
            db,
            mws.warehouse,
            key="dm-sjis",
            encoding="cp932",
            now=utc_naive(NOW),
            secret=mws.settings.secret_key,
        )
    assert str(caught.value) == (
        "customer c1, 氏名: '𠮷' cannot be written in cp932 (Shift_JIS); export as "
        "utf-8-sig or fix the data"
    )
    assert {s for s, _ in _statuses(mws).values()} == {"queued"}
    with session_scope(mws.sessions) as db:
        batch = export_batch(
            db,
            mws.warehouse,
            key="dm-sjis",
            encoding="utf-8-sig",
            now=utc_naive(NOW),
            secret=mws.settings.secret_key,
        )
        assert "𠮷田 太郎,様,c1" in batch_bytes(batch).decode("utf-8-sig")


def test_shift_jis_export(mws: Workspace, clock: FixedClock) -> None:
    _addresses(mws)
    _queue(Messaging(mws, clock))
    with session_scope(mws.sessions) as db:
        batch = export_batch(
            db,
            mws.warehouse,
            key="dm-sjis",
            encoding="cp932",
            now=utc_naive(NOW),
            secret=mws.settings.secret_key,
        )
        data = batch_bytes(batch)
    assert not data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("cp932").split("\r\n")
    assert lines[0] == "郵便番号,住所1,住所2,氏名,敬称,顧客ID,メッセージID,メッセージ,ポイント"
    assert lines[1].startswith("100-0005,東京都千代田区丸の内1-1-1,とくいビル5F,山田 太郎,様,c1,")


def test_bad_batch_key_is_refused(mws: Workspace) -> None:
    with pytest.raises(DMExportError, match="batch key"), session_scope(mws.sessions) as db:
        export_batch(
            db, mws.warehouse, key="../x", encoding="utf-8-sig", now=utc_naive(NOW), secret="s"
        )


def test_each_unusable_address_is_skipped_with_its_reason(
    mws: Workspace, clock: FixedClock
) -> None:
    """One customer per way an address can be unusable, one whose import put the
    prefecture into address1 too, and one typed with characters Shift_JIS lacks."""
    con = mws.warehouse
    people = [
        # id, name, postal, prefecture, address1, address2
        ("c1", "山田 太郎", "1000005", "東京都", "千代田区丸の内", "1–1–1\u00a0とくいビル"),
        ("c2", "佐藤 花子", "5300001", "大阪府", "大阪府大阪市北区梅田", "1-1"),
        ("x", "", "6008001", "京都府", "京都市下京区", "1"),
        ("d1", "鈴木 一郎", None, "北海道", "札幌市中央区", "1"),
        ("d2", "高橋 二郎", "123456", "青森県", "青森市", "1"),
        ("d3", "田中 三郎", "9800001", None, "仙台市青葉区", "1"),
    ]
    for cid, name, postal, pref, a1, a2 in people:
        if cid.startswith("d"):
            con.con.execute(
                "INSERT INTO customers (customer_id, registered_at, email_opt_in, line_opt_in, "
                "dm_opt_in, push_opt_in, time_zone) VALUES (?, TIMESTAMP '2024-01-01 03:00', "
                "false, false, true, false, 'Asia/Tokyo')",
                [cid],
            )
        con.con.execute(
            "UPDATE customers SET name = ?, postal_code = ?, prefecture = ?, address1 = ?, "
            "address2 = ?, dm_opt_in = true WHERE customer_id = ?",
            [name, postal, pref, a1, a2, cid],
        )
    messaging = Messaging(mws, clock)
    with session_scope(mws.sessions) as db:
        template = create_template(
            db,
            key="plain-dm",
            channel="postal_dm",
            draft=TemplateDraft(name="DM", text='{"コード": "W25"}'),
            is_marketing=True,
            at=utc_naive(NOW),
            user_id=None,
            check_context=messaging.sample_context(),
        )
        resolved = resolve(messaging, db, "postal_dm", [p[0] for p in people])
        rows = messaging.queue(
            db, template, get_version(db, template, None), resolved.recipients, "dm-x"
        )
        ids = {r.customer_id: r.id for r in rows}
        batch = export_batch(
            db,
            mws.warehouse,
            key="dm-x",
            encoding="cp932",
            now=utc_naive(NOW),
            secret=mws.settings.secret_key,
        )
        lines = batch_bytes(batch).decode("cp932").split("\r\n")
        skipped = skipped_of(batch)
    assert lines == [
        "郵便番号,住所1,住所2,氏名,敬称,顧客ID,メッセージID,コード",
        f"100-0005,東京都千代田区丸の内,1-1-1 とくいビル,山田 太郎,様,c1,{ids['c1']},W25",
        f"530-0001,大阪府大阪市北区梅田,1-1,佐藤 花子,様,c2,{ids['c2']},W25",
        "",
    ]
    assert [(s["customer_id"], s["message_id"], s["reason"]) for s in skipped] == [
        ("x", ids["x"], "unusable address: no name (氏名)"),
        ("d1", ids["d1"], "unusable address: no postal code (郵便番号)"),
        ("d2", ids["d2"], "unusable address: postal code '123456' is not 7 digits (郵便番号)"),
        ("d3", ids["d3"], "unusable address: no prefecture (都道府県)"),
    ]
