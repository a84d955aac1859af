"""`tokui customers`: deletion on request and the suppression list, from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from tokui.cli import FormatOpt, HomeOpt, _emit, _fail, _writable_workspace, console
from tokui.clock import SystemClock, utc_naive

customers_app = typer.Typer(help="Customers: deletion on request, suppression list.")


@customers_app.command("delete")
def customers_delete(
    customer_id: Annotated[str, typer.Argument(help="The customer id to delete")],
    reason: Annotated[str, typer.Option("--reason", help="Why (e.g. the request's ticket)")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    home: HomeOpt = None,
) -> None:
    """Delete a customer from every warehouse table; keep a suppression and audit entry."""
    from tokui.privacy import CustomerNotFoundError, delete_customer
    from tokui.privacy.erase import ErasureInputError

    if not yes:
        typer.confirm(
            f"Delete every row of customer {customer_id!r}? This cannot be undone", abort=True
        )
    ws = _writable_workspace(home)
    try:
        result = delete_customer(
            ws.warehouse,
            ws.sessions,
            ws.settings.secret_key,
            customer_id,
            reason,
            actor_id=None,
            at=utc_naive(SystemClock().now()),
            via="cli",
        )
    except (CustomerNotFoundError, ErasureInputError) as exc:
        ws.close()
        _fail(str(exc).strip("'\""))
    ws.close()
    for table, n in result.rows.items():
        console.print(f"  {table:<26}{n:>8,} rows")
    console.print(
        f"deleted customer {result.customer_id}: {result.total:,} rows; "
        f"suppression entry {result.suppression_id}"
    )


@customers_app.command("suppressed")
def customers_suppressed(home: HomeOpt = None, fmt: FormatOpt = "text") -> None:
    """The suppression list: id, date, source, what it covers, reason. No contact data."""
    from tokui.config import load_settings
    from tokui.privacy import list_suppressions
    from tokui.state.db import session_scope
    from tokui.workspace import Workspace

    ws = Workspace(load_settings(home))
    try:
        with session_scope(ws.sessions) as db:
            rows = list_suppressions(db)
    finally:
        ws.close()
    for row in rows:
        row["created_at"] = row["created_at"].isoformat(sep=" ", timespec="seconds") + "Z"
        row.pop("created_by")
    _emit(rows, fmt, "id")
