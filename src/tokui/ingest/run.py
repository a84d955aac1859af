"""Import one file: read, validate everything, then write every table in one transaction.

A file either lands whole or not at all. The per-table upsert in warehouse/load.py opens
its own transaction, so here each table is staged first, counted, and then all merges run
inside a single transaction: a failure in the last table rolls back the first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot
import sqlglot.expressions as sge
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session, sessionmaker

from tokui.ingest.profile import Profile, load_profile
from tokui.ingest.read import ReadError, read_table
from tokui.ingest.validate import Errors, RowError, check_columns, map_rows
from tokui.state.db import session_scope
from tokui.state.models import ImportRun
from tokui.warehouse.load import (
    LoadError,
    _changed_rows,
    _check_unique_keys,
    _drop,
    _stage,
    conform,
    diff_counts,
)
from tokui.warehouse.schema import TABLES, TableSpec, dialect_of
from tokui.warehouse.sql import table_ref, transaction

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
) -> ImportResult:
    """Import `path` with `profile`; data errors come back in the result, not raised."""
    started = _now()
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    result = ImportResult(path.name, prof.name, "failed", dry_run)
    result.tables = {t: TableCounts() for t in prof.tables}
    errors = Errors()
    step = on_progress or (lambda _msg: None)
    try:
        step(f"reading {path.name}")
        raw = read_table(path)
        result.rows_read, result.encoding = len(raw.rows), raw.encoding
        step("validating")
        check_columns(raw, prof, errors)
        mapped = None if errors else map_rows(raw, prof, errors)
        if mapped is not None:
            for table, n in mapped.rejected.items():
                result.tables[table].rejected = n
        if not errors and mapped is not None:
            arrows = _to_arrow(raw.file, prof, mapped.rows, errors)
            if not errors:
                step("writing" if not dry_run else "comparing with the warehouse")
                _write(con, prof, arrows, result, dry_run)
                result.status = "dry_run" if dry_run else "ok"
    except ReadError as exc:
        errors.add(RowError(exc.file, exc.row, None, None, "read", exc.message))
    result.errors, result.error_total = errors.items, errors.total
    if sessions is not None:
        result.run_id = _record(sessions, result, started)
    return result


def _to_arrow(
    file: str, profile: Profile, rows: dict[str, list[dict[str, Any]]], errors: Errors
) -> dict[str, pa.Table]:
    out: dict[str, pa.Table] = {}
    for target in profile.targets:
        spec = TABLES[target.table]
        schema = spec.schema.to_pyarrow()
        data = rows[target.table]
        arrays = {
            f.name: pa.array([r.get(f.name) for r in data], type=f.type)
            for f in schema
            if f.name in target.columns
        }
        try:
            arrow = conform(spec, pa.table(arrays) if arrays else pa.table({}))
            _check_unique_keys(spec, arrow)
        except (LoadError, pa.ArrowInvalid, OverflowError) as exc:
            # Validation should have caught this; still never write a batch that fails.
            errors.add(RowError(file, None, target.table, None, "load", str(exc)))
            continue
        out[target.table] = arrow
    return out


def _missing_only(con: BaseBackend, spec: TableSpec, arrow: pa.Table) -> pa.Table:
    keys = list(spec.primary_key)
    existing = con.table(spec.name).select(*keys).to_pyarrow()
    if existing.num_rows == 0 or arrow.num_rows == 0:
        return arrow
    existing = existing.cast(arrow.select(keys).schema)
    return arrow.join(existing, keys, join_type="left anti").select(arrow.column_names)


def _merge_sql(con: BaseBackend, spec: TableSpec, stage: str) -> str:
    """INSERT ... ON CONFLICT DO UPDATE of a staged batch's new and changed rows.

    The same statement warehouse/load.py runs, returned instead of executed so several
    tables can share one transaction. Built from Ibis and sqlglot, never from file text.
    """
    dialect = dialect_of(con)
    s = con.table(stage)
    t = con.table(spec.name).select(*spec.primary_key).mutate(_tokui_present=True)
    joined = s.left_join(t, list(spec.primary_key))
    new_rows = joined.filter(joined._tokui_present.isnull()).select(*spec.column_names)
    rows = new_rows.union(_changed_rows(con, spec, stage))
    select = sqlglot.parse_one(str(con.compile(rows)), read=dialect)
    others = [c for c in spec.column_names if c not in spec.primary_key]
    conflict = sge.OnConflict(
        conflict_keys=[sge.column(k, quoted=True) for k in spec.primary_key],
        action=sge.var("DO UPDATE") if others else sge.var("DO NOTHING"),
        expressions=[
            sge.EQ(this=sge.column(c, quoted=True), expression=sge.column(c, table="EXCLUDED"))
            for c in others
        ],
    )
    insert = sge.Insert(
        this=sge.Schema(
            this=table_ref(spec.name),
            expressions=[sge.to_identifier(c, quoted=True) for c in spec.column_names],
        ),
        expression=sge.select("*").from_(
            sge.Subquery(this=select, alias=sge.TableAlias(this=sge.to_identifier("_tokui_rows")))
        ),
        conflict=conflict,
    )
    return str(insert.sql(dialect))


def _write(
    con: BaseBackend,
    profile: Profile,
    arrows: dict[str, pa.Table],
    result: ImportResult,
    dry_run: bool,
) -> None:
    stages: dict[str, str] = {}
    try:
        for target in profile.targets:
            spec = TABLES[target.table]
            arrow = arrows[target.table]
            counts = result.tables[target.table]
            if target.mode == "insert_missing":
                kept = _missing_only(con, spec, arrow)
                counts.unchanged += arrow.num_rows - kept.num_rows
                arrow = kept
            if arrow.num_rows == 0:
                continue
            stages[target.table] = _stage(con, spec, arrow)
        statements: list[str] = []
        for table, stage in stages.items():
            spec = TABLES[table]
            new, changed, unchanged = diff_counts(con, spec, stage)
            counts = result.tables[table]
            counts.inserted, counts.updated = new, changed
            counts.unchanged += unchanged
            if new or changed:
                statements.append(_merge_sql(con, spec, stage))
        if statements and not dry_run:
            with transaction(con) as execute:
                for statement in statements:
                    execute(statement)
    finally:
        for stage in stages.values():
            _drop(con, stage)


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
