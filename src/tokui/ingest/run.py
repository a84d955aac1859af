"""Import one file: read, validate everything, then write every table in one transaction.

The file is read into Arrow columns (frame.py) and mapped column-wise (mapping.py), so
memory grows with the file's bytes, not with Python objects per cell. A file either
lands whole or not at all: each table is staged and classified first (new, changed,
unchanged), then every insert and update runs inside a single transaction, so a failure
in the last table rolls back the first. A big batch for an empty DuckDB table is built
apart with its key and swapped in inside that same transaction (load.Builder); the build
starts as soon as that table is validated, so DuckDB builds it while the next table is
still being mapped, and is dropped if any later row of the file has a problem.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session, sessionmaker

from tokui.ingest.frame import read_frame
from tokui.ingest.mapping import TableRows, map_frame
from tokui.ingest.profile import Profile, load_profile
from tokui.ingest.read import ReadError
from tokui.ingest.validate import Errors, RowError, check_columns
from tokui.state.db import session_scope
from tokui.state.models import ImportRun
from tokui.warehouse.load import (
    BUILD_MIN_ROWS,
    STATUS,
    Builder,
    LoadError,
    classify,
    conform,
    drop_build,
    insert_new_sql,
    is_empty,
    merge_sql,
    release,
    swap_in,
    update_changed_sql,
)
from tokui.warehouse.schema import TABLES, TableSpec
from tokui.warehouse.sql import transaction

# How many errors the history keeps; the full list (up to the cap) is in the result.
HISTORY_ERRORS = 100

Progress = Callable[[str], None]


@dataclass
class TableCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class ImportResult:
    file: str
    profile: str
    status: str  # ok, failed or dry_run
    dry_run: bool
    rows_read: int = 0
    encoding: str = ""
    tables: dict[str, TableCounts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    error_total: int = 0
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def counts(self) -> dict[str, dict[str, int]]:
        return {t: vars(c).copy() for t, c in self.tables.items()}


def import_file(
    con: BaseBackend,
    sessions: sessionmaker[Session] | None,
    path: Path,
    profile: Profile | str,
    dry_run: bool = False,
    on_progress: Progress | None = None,
    warehouse_lock: AbstractContextManager[Any] | None = None,
) -> ImportResult:
    """Import `path` with `profile`; data errors come back in the result, not raised.

    `warehouse_lock`, when given, is held only while the warehouse is read and written,
    not while the file is read and validated (the web app shares one connection); once
    a table is being built early, it is held from then on.
    """
    started = _now()
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    result = ImportResult(path.name, prof.name, "failed", dry_run)
    result.tables = {t: TableCounts() for t in prof.tables}
    errors = Errors()
    step = on_progress or (lambda _msg: None)
    with contextlib.ExitStack() as held:
        locked: list[bool] = []

        def hold() -> None:
            if not locked and warehouse_lock is not None:
                held.enter_context(warehouse_lock)
            locked.append(True)

        early = _EarlyBuilds(con, hold) if not dry_run and con.name == "duckdb" else None
        arrows: dict[str, pa.Table] = {}

        def mapped_table(table: str, rows: TableRows) -> None:
            arrow = _conform(path.name, table, rows.table, errors)
            if arrow is None:
                return
            if early is None or not early.offer(table, arrow):
                arrows[table] = arrow

        try:
            step(f"reading {path.name}")
            frame = read_frame(path)
            result.rows_read, result.encoding = len(frame), frame.encoding
            step("validating")
            check_columns(frame, prof, errors)
            mapped = None if errors else map_frame(frame, prof, errors, mapped_table)
            del frame
            if mapped is not None:
                for table, n in mapped.rejected.items():
                    result.tables[table].rejected = n
            del mapped
            if not errors:
                step("writing" if not dry_run else "comparing with the warehouse")
                hold()
                _write(con, prof, arrows, early, result, dry_run)
                result.status = "dry_run" if dry_run else "ok"
        except ReadError as exc:
            errors.add(RowError(exc.file, exc.row, None, None, "read", exc.message))
        finally:
            if early is not None:
                early.abandon()  # builds not swapped in (a problem found later, a failure)
    result.errors, result.error_total = errors.items, errors.total
    if sessions is not None:
        result.run_id = _record(sessions, result, started)
    return result


def _conform(file: str, table: str, data: pa.Table, errors: Errors) -> pa.Table | None:
    try:
        return conform(TABLES[table], data)
    except (LoadError, pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        # Validation should have caught this; still never write a batch that fails.
        errors.add(RowError(file, None, table, None, "load", str(exc)))
        return None


class _EarlyBuilds:
    """Big batches for empty DuckDB tables, built while the rest of the file is mapped."""

    def __init__(self, con: BaseBackend, hold: Callable[[], None]) -> None:
        self.con = con
        self.hold = hold
        self.builder: Builder | None = None
        self.rows: dict[str, int] = {}  # rows of each table being built

    def offer(self, table: str, arrow: pa.Table) -> bool:
        """Whether `table` goes the first-load way; then its build has started."""
        if arrow.num_rows < BUILD_MIN_ROWS:
            return False
        self.hold()
        if not is_empty(self.con, TABLES[table]):
            return False
        if self.builder is None:
            self.builder = Builder(self.con)
        self.rows[table] = arrow.num_rows
        self.builder.add(table, arrow)
        return True

    def finish(self) -> dict[str, str]:
        """table -> its built table, every build done (or all dropped, and raise)."""
        if self.builder is None:
            return {}
        builder, self.builder = self.builder, None
        return builder.finish()

    def abandon(self) -> None:
        if self.builder is not None:
            builder, self.builder = self.builder, None
            builder.abandon()


def _merge_sql(con: BaseBackend, spec: TableSpec, stage: str) -> str:
    """The statement that writes a stage's new rows; built with Ibis and sqlglot.

    A stage from classify() gets a plain INSERT of its new rows in key order (its changed
    rows are updated apart); a plain stage (tokui.ingest.records) gets the INSERT ...
    ON CONFLICT DO UPDATE of its new and changed rows.
    """
    if STATUS in con.table(stage).columns:
        return insert_new_sql(con, spec, stage)
    return merge_sql(con, spec, stage)


def _write(
    con: BaseBackend,
    profile: Profile,
    arrows: dict[str, pa.Table],
    early: _EarlyBuilds | None,
    result: ImportResult,
    dry_run: bool,
) -> None:
    stages: dict[str, str] = {}
    builds: dict[str, str] = {}
    try:
        statements: list[str] = []
        for target in profile.targets:
            spec = TABLES[target.table]
            arrow = arrows.pop(target.table, None)
            if arrow is None or arrow.num_rows == 0:
                continue  # empty, or being built apart
            counts = result.tables[target.table]
            compare = target.mode != "insert_missing"
            stage, new, changed, unchanged = classify(con, spec, arrow, compare)
            del arrow
            stages[target.table] = stage
            counts.inserted, counts.updated, counts.unchanged = new, changed, unchanged
            if new:
                statements.append(_merge_sql(con, spec, stage))
            update = update_changed_sql(con, spec, stage) if changed else None
            if update is not None:
                statements.append(update)
        if early is not None:
            builds = early.finish()
            for table, n in early.rows.items():
                result.tables[table].inserted = n
        if (statements or builds) and not dry_run:
            with transaction(con) as execute:
                for table, build in builds.items():
                    swap_in(execute, TABLES[table], build)
                for statement in statements:
                    execute(statement)
    finally:
        for stage in stages.values():
            release(con, stage)
        for build in builds.values():
            drop_build(con, build)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _record(sessions: sessionmaker[Session], result: ImportResult, started: datetime) -> int:
    errors = [e.as_dict() for e in result.errors[:HISTORY_ERRORS]]
    with session_scope(sessions) as session:
        run = ImportRun(
            started_at=started,
            finished_at=_now(),
            file_name=result.file,
            profile=result.profile,
            status=result.status,
            counts=json.dumps(result.counts()),
            errors=json.dumps(
                {"total": result.error_total, "items": errors}, ensure_ascii=False, default=str
            ),
        )
        session.add(run)
        session.flush()
        return int(run.id)


def list_runs(sessions: sessionmaker[Session], limit: int = 50) -> list[dict[str, Any]]:
    """Recent imports, newest first."""
    from sqlalchemy import select

    with session_scope(sessions) as session:
        runs = session.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)).all()
        return [
            {
                "id": r.id,
                "started_at": r.started_at,
                "finished_at": r.finished_at,
                "file_name": r.file_name,
                "profile": r.profile,
                "status": r.status,
                "counts": json.loads(r.counts),
                "errors": json.loads(r.errors),
            }
            for r in runs
        ]
