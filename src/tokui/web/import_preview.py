"""What an uploaded file would become: the first rows mapped, every error, and rows that
bring back a person deleted on request. Reads only the file, never the warehouse."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tokui.ingest.profile import Profile
from tokui.ingest.read import ReadError, read_table
from tokui.ingest.validate import Errors, RowError, check_columns, map_rows
from tokui.privacy.suppression import SuppressionChecker

PREVIEW_ROWS = 10


@dataclass
class TablePreview:
    table: str
    columns: list[str]
    rows: list[tuple[int, list[Any]]]  # (file row, values in column order)
    total: int


@dataclass
class Flagged:
    row: int
    customer_id: str | None
    matches: list[str]


@dataclass
class Preview:
    rows_read: int = 0
    encoding: str = ""
    tables: list[TablePreview] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_total: int = 0
    flagged: list[Flagged] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_total == 0


def named(errors: list[RowError], display_name: str) -> list[RowError]:
    """Errors naming the file as the user knows it, not its stored random name."""
    return [replace(e, file=display_name) for e in errors]


def build_preview(
    path: Path, display_name: str, profile: Profile, checker: SuppressionChecker
) -> Preview:
    preview = Preview()
    errors = Errors()
    try:
        raw = read_table(path)
    except ReadError as exc:
        errors.add(RowError(display_name, exc.row, None, None, "read", exc.message))
        preview.errors, preview.error_total = errors.items, errors.total
        return preview
    preview.rows_read, preview.encoding = len(raw.rows), raw.encoding
    check_columns(raw, profile, errors)
    if not errors:
        mapped = map_rows(raw, profile, errors)
        for target in profile.targets:
            rows = mapped.rows[target.table]
            sources = mapped.sources[target.table]
            columns = list(target.columns)
            preview.tables.append(
                TablePreview(
                    target.table,
                    columns,
                    [
                        (number, [row.get(c) for c in columns])
                        for number, row in zip(sources[:PREVIEW_ROWS], rows, strict=False)
                    ],
                    len(rows),
                )
            )
            if target.table == "customers" and len(checker):
                for number, row in zip(sources, rows, strict=True):
                    hits = checker.matches(
                        email=row.get("email"),
                        phone=row.get("phone"),
                        line_user_id=row.get("line_user_id"),
                        customer_id=row.get("customer_id"),
                    )
                    if hits:
                        preview.flagged.append(Flagged(number, row.get("customer_id"), hits))
    preview.errors = named(errors.items, display_name)
    preview.error_total = errors.total
    return preview
