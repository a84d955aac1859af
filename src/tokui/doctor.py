"""`tokui doctor`: can this workspace work?"""

from __future__ import annotations

import platform
from dataclasses import dataclass

from sqlalchemy import text

from tokui import __version__
from tokui.config import Settings
from tokui.state.db import current_revision, head_revision, make_engine
from tokui.warehouse.connection import WarehouseLockedError, connect
from tokui.warehouse.schema import TABLES
from tokui.workspace import ServerLock


@dataclass
class Check:
    check: str
    status: str  # ok, warn, fail
    detail: str

    def as_row(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "detail": self.detail}


def _versions() -> str:
    from importlib.metadata import version

    import duckdb
    import ibis
    import sqlalchemy

    sqlglot_version = version("sqlglot")
    return (
        f"tokui {__version__}, python {platform.python_version()}, ibis {ibis.__version__}, "
        f"duckdb {duckdb.__version__}, sqlglot {sqlglot_version}, "
        f"sqlalchemy {sqlalchemy.__version__}"
    )


def run_checks(settings: Settings) -> list[Check]:
    checks = [Check("versions", "ok", _versions())]
    checks.append(
        Check("workspace", "ok" if settings.home.is_dir() else "fail", str(settings.home))
    )
    holder = ServerLock(settings.lock_path).holder()
    checks.append(
        Check(
            "lock",
            "warn" if holder else "ok",
            f"served by pid {holder}" if holder else "free (no server running)",
        )
    )
    checks.append(_warehouse_check(settings, holder is not None))
    checks.append(_state_check(settings))
    return checks


def _warehouse_check(settings: Settings, served: bool) -> Check:
    if served and settings.is_embedded_warehouse:
        return Check("warehouse", "ok", "owned by the running server; not opened")
    try:
        con = connect(settings.warehouse_url, read_only=settings.is_embedded_warehouse)
    except WarehouseLockedError as exc:
        return Check("warehouse", "warn", str(exc))
    except Exception as exc:
        return Check("warehouse", "fail", f"cannot open: {exc}")
    try:
        missing = sorted(set(TABLES) - set(con.list_tables()))
    finally:
        con.disconnect()
    if missing:
        return Check("warehouse", "fail", f"missing tables {missing}; run `tokui init`")
    return Check("warehouse", "ok", f"{con.name}: {len(TABLES)} canonical tables")


def _state_check(settings: Settings) -> Check:
    try:
        engine = make_engine(settings.state_url)
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
        current, head = current_revision(engine), head_revision(engine)
        engine.dispose()
    except Exception as exc:
        return Check("state", "fail", f"cannot open: {exc}")
    if current != head:
        return Check("state", "fail", f"migration {current} != head {head}; run `tokui init`")
    return Check("state", "ok", f"{engine.dialect.name}, migration {current}")
