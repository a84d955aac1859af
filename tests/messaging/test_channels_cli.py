"""`tokui messages queue`, `tokui outbox run --once`, `tokui calls list`, `tokui dm
export` and `tokui push devices import` on a workspace."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.messaging.conftest import NOW
from tokui.cli import app
from tokui.clock import FixedClock, utc_naive
from tokui.messaging.service import Messaging
from tokui.messaging.store import TemplateDraft, create_template
from tokui.state.db import session_scope
from tokui.workspace import Workspace

runner = CliRunner()


def test_call_center_and_dm_from_the_cli(mws: Workspace, tmp_path: Path) -> None:
    messaging = Messaging(mws, FixedClock(NOW))
    with session_scope(mws.sessions) as db:
        create_template(
            db,
            key="churn-call",
            channel="call_center",
            draft=TemplateDraft(name="解約防止", subject="次回送料無料"),
            is_marketing=False,
            at=utc_naive(NOW),
            user_id=None,
            check_context=messaging.sample_context(),
        )
    home = str(mws.home)
    mws.close()
    args = ["messages", "queue", "--template", "churn-call", "--customer", "c1",
            "--customer", "nobody", "--key", "churn-2025-12", "--home", home]  # fmt: skip
    queued = runner.invoke(app, args)
    assert queued.exit_code == 0, queued.output
    assert "queued 1 call_center message(s)" in queued.output
    assert "no call_center address: nobody" in queued.output
    again = runner.invoke(app, args)
    assert "queued 0 call_center message(s)" in again.output  # the same key queues once
    ran = runner.invoke(app, ["outbox", "run", "--once", "--home", home])
    assert ran.exit_code == 0, ran.output
    listed = runner.invoke(app, ["calls", "list", "--format", "json", "--home", home])
    assert json.loads(listed.stdout) == [
        {"id": 1, "customer_id": "c1", "offer": "次回送料無料", "outcome": "", "note": ""}
    ]
    out = tmp_path / "dm.csv"
    exported = runner.invoke(
        app, ["dm", "export", "--key", "dm-1", "--out", str(out), "--encoding", "cp932",
              "--home", home],
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes() == "郵便番号,住所1,住所2,氏名,敬称,顧客ID,メッセージID\r\n".encode(
        "cp932"
    )
    devices = tmp_path / "devices.csv"
    devices.write_text("customer_id,token,platform\nc1,tok-1,ios\nc1,tok 2,ios\n")
    bad = runner.invoke(app, ["push", "devices", "import", str(devices), "--home", home])
    assert bad.exit_code == 1
    assert "devices.csv, row 3, column token: 1 to 4096 characters, no spaces" in bad.output
