"""`tokui messages send-test`, `tokui outbox run --once` and `tokui outbox list`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.messaging.conftest import SMTPSink
from tokui.cli import app
from tokui.messaging.service import Messaging, Recipient
from tokui.messaging.store import get_template, get_version
from tokui.state.db import session_scope
from tokui.workspace import Workspace

runner = CliRunner()


def test_send_test_into_the_sandbox_then_list(mws: Workspace) -> None:
    home = str(mws.home)
    mws.close()
    sent = runner.invoke(
        app,
        ["messages", "send-test", "--template", "welcome", "--to", "me@example.jp",
         "--customer", "c1", "--home", home],
    )  # fmt: skip
    assert sent.exit_code == 0, sent.output
    assert "message 1 captured in the sandbox inbox" in sent.output
    listed = runner.invoke(app, ["outbox", "list", "--home", home])
    assert listed.exit_code == 0
    line = listed.stdout.strip().split("\n")
    assert len(line) == 1 and line[0].startswith("1\tsent\temail\tme@example.jp\tc1\t1\t")
    as_json = runner.invoke(app, ["outbox", "list", "--home", home, "--format", "json"])
    [row] = json.loads(as_json.stdout)
    assert (row["id"], row["status"], row["recipient"]) == (1, "sent", "me@example.jp")
    bad = runner.invoke(app, ["outbox", "list", "--home", home, "--status", "nope"])
    assert bad.exit_code == 1 and "unknown status 'nope'" in bad.output
    missing = runner.invoke(
        app, ["messages", "send-test", "--template", "nope", "--to", "a@example.jp",
              "--home", home],
    )  # fmt: skip
    assert missing.exit_code == 1 and "no template 'nope'" in missing.output


def test_outbox_run_once_sends_over_smtp(messaging: Messaging, smtp_sink: SMTPSink) -> None:
    data = messaging.customers(["c2"])
    with session_scope(messaging.ws.sessions) as db:
        template = get_template(db, "welcome")
        assert template is not None
        recipient = Recipient("c2", "hanako@example.jp", data["c2"])
        messaging.queue(db, template, get_version(db, template), [recipient], "cli")
    home = messaging.ws.home
    messaging.ws.close()
    env = {
        "TOKUI_MESSAGING_SANDBOX": "false",
        "TOKUI_SMTP_HOST": "127.0.0.1",
        "TOKUI_SMTP_PORT": str(smtp_sink.port),
        "TOKUI_SMTP_SECURITY": "none",
    }
    sent = runner.invoke(
        app,
        ["messages", "send-test", "--template", "welcome", "--to", "me@example.jp",
         "--home", str(home)],
        env=env,
    )  # fmt: skip
    assert sent.exit_code == 0, sent.output
    # The test message alone goes; the queued campaign message waits for the worker.
    assert "message 2 sent" in sent.output
    assert [r for _, r, _ in smtp_sink.handler.messages] == [["me@example.jp"]]
    run = runner.invoke(app, ["outbox", "run", "--once", "--home", str(home)], env=env)
    assert run.exit_code == 0, run.output
    assert "claimed 1, sent 1, retrying 0, failed 0" in run.output
    again = runner.invoke(app, ["outbox", "run", "--once", "--home", str(home)], env=env)
    assert "claimed 0, sent 0" in again.output
    assert [r for _, r, _ in smtp_sink.handler.messages] == [
        ["me@example.jp"],
        ["hanako@example.jp"],
    ]
