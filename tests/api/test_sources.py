"""API sources: keys shown once, digests stored, `tokui sources` commands."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tokui.cli import app
from tokui.state.api_sources import (
    SourceError,
    SourceKind,
    authenticate_key,
    create_source,
    digest,
    normalise_origin,
)
from tokui.state.db import session_scope
from tokui.workspace import init_workspace

T0 = datetime(2025, 6, 1, 12, 0)


def test_create_authenticate_revoke(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    with session_scope(ws.sessions) as s:
        source, key = create_source(s, "cart", SourceKind.secret, T0)
        assert key.startswith("tk_sec_") and len(key) == 7 + 43
        assert source.key_hash == digest(key)
        with pytest.raises(SourceError, match="exists already"):
            create_source(s, "cart", SourceKind.secret, T0)
        with pytest.raises(SourceError, match="source name 'Cart Shop'"):
            create_source(s, "Cart Shop", SourceKind.secret, T0)
        with pytest.raises(SourceError, match="needs at least one allowed origin"):
            create_source(s, "web", SourceKind.public, T0)
    with session_scope(ws.sessions) as s:
        found = authenticate_key(s, key, T0)
        assert found is not None
        assert (found.name, found.kind, found.origins) == ("cart", SourceKind.secret, ())
        assert authenticate_key(s, key + "x", T0) is None
        assert authenticate_key(s, "not-a-key", T0) is None
    ws.close()


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        ("https://Shop.Example", "https://shop.example"),
        ("https://shop.example:443/", "https://shop.example"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_origins_are_normalised(text: str, origin: str) -> None:
    assert normalise_origin(text) == origin


@pytest.mark.parametrize("text", ["shop.example", "https://shop.example/path", "ftp://x.jp"])
def test_bad_origins_are_refused(text: str) -> None:
    with pytest.raises(SourceError):
        normalise_origin(text)


def test_cli_create_list_revoke(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    init_workspace(home).close()
    runner = CliRunner()
    env = {"TOKUI_HOME": str(home)}
    created = runner.invoke(app, ["sources", "create", "cart"], env=env)
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("tk_sec_")
    public = runner.invoke(
        app,
        ["sources", "create", "web", "--public", "--origin", "https://shop.example"],
        env=env,
    )
    assert public.exit_code == 0, public.output
    revoked = runner.invoke(app, ["sources", "revoke", "cart"], env=env)
    assert revoked.exit_code == 0
    listed = runner.invoke(app, ["sources", "list", "--format", "json"], env=env)
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["name"], r["kind"], r["origins"]) for r in rows] == [
        (1, "cart", "secret", []),
        (2, "web", "public", ["https://shop.example"]),
    ]
    assert rows[0]["key_prefix"] == key[:16]
    assert rows[0]["revoked_at"] != "" and rows[1]["revoked_at"] == ""
    text = runner.invoke(app, ["sources", "list"], env=env).stdout.splitlines()
    assert [line.split("\t")[:3] for line in text] == [
        ["1", "cart", "secret"],
        ["2", "web", "public"],
    ]
    assert key not in listed.stdout
    missing = runner.invoke(app, ["sources", "revoke", "nope"], env=env)
    assert missing.exit_code == 1
