"""`tokui sources`: API keys of the ingestion API and the tracking snippet.

Only the state DB is touched, so these commands work while `tokui serve` runs (SQLite in
WAL mode takes a second writer), and a revoked key stops working at its next request.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tokui.cli import FormatOpt, HomeOpt, _emit, _fail, console
from tokui.clock import SystemClock, utc_naive
from tokui.config import load_settings
from tokui.state.api_sources import (
    SourceError,
    SourceKind,
    create_source,
    list_sources,
    revoke_source,
)
from tokui.state.db import session_scope
from tokui.workspace import Workspace

sources_app = typer.Typer(
    help="API sources: keys for POST /api/v1 and the tracking snippet.", no_args_is_help=True
)


@sources_app.command("create")
def sources_create(
    name: str,
    public: Annotated[
        bool, typer.Option("--public", help="A browser key for the tracking snippet")
    ] = False,
    origin: Annotated[
        list[str] | None,
        typer.Option("--origin", help="Allowed origin of a public key (repeatable)"),
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Create a source and print its key, once: only a digest of it is stored."""
    kind = SourceKind.public if public else SourceKind.secret
    ws = Workspace(load_settings(home))
    try:
        with session_scope(ws.sessions) as session:
            source, key = create_source(
                session, name, kind, utc_naive(SystemClock().now()), origin or []
            )
            console.print(
                f"created {kind.value} source {source.id} {source.name}; its key is shown "
                "this once, store it now:"
            )
    except SourceError as exc:
        _fail(str(exc))
    finally:
        ws.close()
    print(key)


@sources_app.command("list")
def sources_list(home: HomeOpt = None, fmt: FormatOpt = "text") -> None:
    """List sources: id, name, kind, key prefix, origins, created, last used, revoked."""
    ws = Workspace(load_settings(home))
    try:
        with session_scope(ws.sessions) as session:
            rows = [
                {
                    "id": s.id,
                    "name": s.name,
                    "kind": s.kind,
                    "key_prefix": s.key_prefix,
                    "origins": ",".join(s.origins) if fmt == "text" else s.origins,
                    "created_at": s.created_at.isoformat(sep=" "),
                    "last_used_at": s.last_used_at.isoformat(sep=" ") if s.last_used_at else "",
                    "revoked_at": s.revoked_at.isoformat(sep=" ") if s.revoked_at else "",
                }
                for s in list_sources(session)
            ]
    finally:
        ws.close()
    _emit(rows, fmt, "id")


@sources_app.command("revoke")
def sources_revoke(name: str, home: HomeOpt = None) -> None:
    """Revoke a source's key; its next request gets 401. Its data stays."""
    ws = Workspace(load_settings(home))
    try:
        with session_scope(ws.sessions) as session:
            source = revoke_source(session, name, utc_naive(SystemClock().now()))
            console.print(f"revoked source {source.id} {source.name}")
    except SourceError as exc:
        _fail(str(exc))
    finally:
        ws.close()
