"""`tokui messages bounces`: a Maildir read twice, and an IMAP folder polled from a real
IMAP server on 127.0.0.1 (pymap), with messages flagged \\Seen once applied."""

from __future__ import annotations

import imaplib
import json
import mailbox
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.messaging.conftest import free_port
from tests.messaging.test_bounces import DATA, RECIPIENTS, SECRET, _sent
from tokui.cli import app
from tokui.workspace import Workspace

runner = CliRunner()
IMAP_USER, IMAP_PASSWORD = "demouser", "demopass"  # pymap's dict backend account


def _bounce_workspace(ws: Workspace) -> str:
    """The workspace signed with the samples' secret, its outbox holding their messages."""
    _sent(ws.sessions, RECIPIENTS)
    home = ws.home
    ws.close()
    config = home / "tokui.toml"
    text = re.sub(r'(?m)^secret_key = ".*"$', f'secret_key = "{SECRET}"', config.read_text())
    config.write_text(text + '\n[bounces]\ndomain = "bounces.tokui.example"\n')
    return str(home)


def test_maildir_twice_then_json(mws: Workspace, tmp_path: Path) -> None:
    home = _bounce_workspace(mws)
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for sample in ("postfix_hard_5.1.1.eml", "yahoo_arf_abuse.eml", "forged_dsn.eml"):
        box.add((DATA / sample).read_bytes())
    path = str(tmp_path / "Maildir")
    first = runner.invoke(app, ["messages", "bounces", path, "--home", home])
    assert first.exit_code == 0, first.output
    lines = first.stdout.strip().split("\n")
    assert sorted(line.split("\t")[1] for line in lines[:3]) == [
        "complaint, suppressed",
        "hard, suppressed",
        "unmatched",
    ]
    assert lines[3] == (
        "read 3: hard 1, soft 0, block 0, complaints 1, newly suppressed 2, "
        "already recorded 0, not ours 1, ignored 0, errors 0"
    )
    second = runner.invoke(app, ["messages", "bounces", path, "--home", home, "--format", "json"])
    assert second.exit_code == 0, second.output
    rows = json.loads(second.stdout)
    assert sorted((r["result"], r["outbox_id"], r["suppressed"]) for r in rows) == [
        ("duplicate", 1, False),
        ("duplicate", 6, False),
        ("unmatched", None, False),
    ]
    neither = runner.invoke(app, ["messages", "bounces", "--home", home])
    assert neither.exit_code == 1 and "give a mailbox PATH or --imap" in neither.output
    missing = runner.invoke(app, ["messages", "bounces", str(tmp_path / "nope"), "--home", home])
    assert missing.exit_code == 1 and "no such file or folder" in missing.output


@pytest.fixture
def imap_server() -> Iterator[int]:
    """pymap's in-memory backend on 127.0.0.1: a real IMAP4rev1 server."""
    port = free_port()
    pymap = Path(sys.executable).parent / "pymap"
    proc = subprocess.Popen(
        [str(pymap), "--host", "127.0.0.1", "--port", str(port), "dict"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                imaplib.IMAP4("127.0.0.1", port, timeout=2).logout()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _unseen(port: int) -> int:
    client = imaplib.IMAP4("127.0.0.1", port, timeout=5)
    try:
        client.login(IMAP_USER, IMAP_PASSWORD)
        client.select("INBOX")
        _, data = client.uid("SEARCH", "UNSEEN")
        return len(data[0].split()) if data and data[0] else 0
    finally:
        client.logout()


def test_imap_poll(mws: Workspace, imap_server: int) -> None:
    home = _bounce_workspace(mws)
    client = imaplib.IMAP4("127.0.0.1", imap_server, timeout=5)
    client.login(IMAP_USER, IMAP_PASSWORD)
    for sample in ("gmail_soft_4.2.2.eml", "isp_arf_redacted.eml", "auto_reply.eml"):
        raw = (DATA / sample).read_bytes().replace(b"\n", b"\r\n")
        assert client.append("INBOX", None, None, raw)[0] == "OK"
    client.logout()
    assert _unseen(imap_server) == 3
    env = {
        "TOKUI_BOUNCES_IMAP_HOST": "127.0.0.1",
        "TOKUI_BOUNCES_IMAP_PORT": str(imap_server),
        "TOKUI_BOUNCES_IMAP_SECURITY": "none",
        "TOKUI_BOUNCES_IMAP_USERNAME": IMAP_USER,
        "TOKUI_BOUNCES_IMAP_PASSWORD": IMAP_PASSWORD,
    }
    polled = runner.invoke(app, ["messages", "bounces", "--imap", "--home", home], env=env)
    assert polled.exit_code == 0, polled.output
    assert polled.stdout.strip().split("\n")[-1] == (
        "read 3: hard 0, soft 1, block 0, complaints 1, newly suppressed 1, "
        "already recorded 0, not ours 0, ignored 1, errors 0"
    )
    assert _unseen(imap_server) == 0
    # Nothing unseen is left: the next poll reads nothing.
    again = runner.invoke(app, ["messages", "bounces", "--imap", "--home", home], env=env)
    assert again.stdout.strip().endswith("ignored 0, errors 0")
    assert again.stdout.strip().startswith("read 0:")
    wrong = dict(env, TOKUI_BOUNCES_IMAP_PASSWORD="wrong")
    refused = runner.invoke(app, ["messages", "bounces", "--imap", "--home", home], env=wrong)
    assert refused.exit_code == 1 and "IMAP 127.0.0.1" in refused.output
