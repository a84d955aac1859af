"""Postal DM export: exact CSV rows for the print vendor, consent and address filtering,
UTF-8 with BOM and Shift_JIS, handed-over status and events in one transaction, an
idempotent re-export, and an encoding error that changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.messaging.conftest import NOW
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.consent import record_consent
from tokui.messaging.postal import DMExportError, batch_bytes, export_batch
from tokui.messaging.recipients import resolve
from tokui.messaging.service import Messaging
from tokui.messaging.store import TemplateDraft, create_template, get_version
from tokui.state.db import session_scope
from tokui.state.messages import MessageEventRecord, OutboxMessage
from tokui.workspace import Workspace

FIELDS = (
    '{"メッセージ": "{{ customer.name }}様へ冬のご案内", '
    '"ポイント": "{{ points.balance | number }}"}'
)


def _addresses(ws: Workspace, c1_name: str = "山田 太郎") -> None:
    con = ws.warehouse
    con.raw_sql("ALTER TABLE customers ADD COLUMN address1 VARCHAR")
    con.raw_sql("ALTER TABLE customers ADD COLUMN address2 VARCHAR")
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
    assert _statuses(mws) == {
        "c1": ("handed_over", None),
        "c2": ("suppressed", "no consent to postal DM"),
        "x": ("suppressed", "incomplete address (郵便番号 7 digits, 都道府県, address1, 氏名)"),
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
        ("x", "suppressed", "incomplete address (郵便番号 7 digits, 都道府県, address1, 氏名)"),
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
        "row 2, column 氏名: '𠮷' cannot be written in cp932 (Shift_JIS); export as "
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
