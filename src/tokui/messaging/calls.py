"""The call center's call list (解約見込み alerts): tasks, why the customer is at risk,
and the outcome of the call, which flows back as a message event.

A task is created by the `call_center` channel from an outbox row (so consent,
suppression and the idempotency key apply as for any message). Recording an outcome
closes the task and appends `call_reached`, `call_saved`, `call_cancelled` or
`call_no_answer` to the message event log in the same transaction; the refresh step
copies it to the warehouse, where measurement can count saved subscriptions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ibis.backends import BaseBackend
from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.messaging.events import add_event
from tokui.models.reasons import reason_text
from tokui.state.channels import CallTask

OUTCOMES = {
    "reached": "call_reached",
    "saved": "call_saved",
    "cancelled_anyway": "call_cancelled",
    "no_answer": "call_no_answer",
}
NOTE_MAX = 2000
CHURN_MODEL = "churn_subscription"
STATUSES = ("open", "done")
REASON_COLUMNS = ("reason_1", "reason_2", "reason_3")


class CallError(ValueError):
    """A bad outcome request; names the field."""


@dataclass(frozen=True)
class RiskView:
    """What the churn model says about a customer, or nothing when it has not run."""

    probability: float | None
    decile: int | None
    reasons: list[str]
    as_of: str | None


def list_tasks(db: Session, status: str = "open", limit: int = 200) -> list[CallTask]:
    if status not in STATUSES:
        raise CallError(f"status: one of {', '.join(STATUSES)}")
    return list(
        db.scalars(
            select(CallTask)
            .where(CallTask.status == status)
            .order_by(CallTask.created_at, CallTask.id)
            .limit(limit)
        )
    )


def task_payload(task: CallTask) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(task.payload or "{}")
    return data


def record_outcome(
    db: Session, task_id: int, outcome: str, note: str, user_id: int | None, at: datetime
) -> CallTask:
    if outcome not in OUTCOMES:
        raise CallError(f"outcome: one of {', '.join(OUTCOMES)}")
    if len(note) > NOTE_MAX:
        raise CallError(f"note: at most {NOTE_MAX} characters")
    task = db.get(CallTask, task_id, with_for_update=True)
    if task is None:
        raise CallError(f"no call task {task_id}")
    if task.status == "done":
        raise CallError(f"call task {task_id} already has the outcome {task.outcome}")
    task.status = "done"
    task.outcome = outcome
    task.note = note.strip()
    task.outcome_by = user_id
    task.outcome_at = at
    add_event(
        db,
        event=OUTCOMES[outcome],
        channel="call_center",
        at=at,
        outbox_id=task.outbox_id,
        customer_id=task.customer_id,
        detail=task.note[:500],
    )
    db.flush()
    return task


def risks(con: BaseBackend, customer_ids: list[str], lang: str) -> dict[str, RiskView]:
    """The churn model's view of each customer, from customer_scores when it exists.

    Columns are read only if the table has them, so an older scores table (or none at
    all: the model has not run) shows 'no score yet' instead of failing the page."""
    if not customer_ids or "customer_scores" not in con.list_tables():
        return {}
    table = con.table("customer_scores")
    columns = set(table.columns)
    names = ("customer_id", "churn_probability", "churn_decile", "as_of", *REASON_COLUMNS)
    wanted = [c for c in names if c in columns]
    if "customer_id" not in columns or "model" not in columns:
        return {}
    rows = (
        table.filter(table.model == CHURN_MODEL, table.customer_id.isin(customer_ids))
        .select(*wanted)
        .to_pyarrow()
        .to_pylist()
    )
    out: dict[str, RiskView] = {}
    for row in rows:
        codes = [row.get(f"reason_{i}") for i in (1, 2, 3)]
        prob = row.get("churn_probability")
        decile = row.get("churn_decile")
        out[str(row["customer_id"])] = RiskView(
            probability=float(prob) if prob is not None else None,
            decile=int(decile) if decile is not None else None,
            reasons=[reason_text(str(c), lang) for c in codes if c],
            as_of=str(row["as_of"]) if row.get("as_of") is not None else None,
        )
    return out


def contacts(con: BaseBackend, customer_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Name, kana and phone for the caller, read at display time (not kept in the task)."""
    if not customer_ids:
        return {}
    customers = con.table("customers")
    rows = (
        customers.filter(customers.customer_id.isin(customer_ids))
        .select("customer_id", "name", "name_kana", "phone", "prefecture")
        .to_pyarrow()
        .to_pylist()
    )
    return {str(r["customer_id"]): r for r in rows}
