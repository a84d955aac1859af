"""Test send: a scenario's send steps for one customer, right now, through the messaging
layer's own test send (tokui.messaging.service.Messaging.send_test).

Waits, conditions, splits and holdouts are ignored: every chosen send step goes out once,
on its channel or, when the customer has no address there, on its fallback. The messages
carry `test:` idempotency keys (an email's subject starts with [TEST]); no enrollment and
no journal entry is written, so the customer is not in the scenario afterwards and the
scenario's figures do not move. The delivery worker still checks suppression and consent
as for any message, and in sandbox mode (the demo's default) nothing leaves the machine.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tokui.messaging.recipients import resolve
from tokui.messaging.service import Messaging, MessagingError
from tokui.messaging.store import get_template
from tokui.scenarios.definition import ScenarioDefinition, Send


@dataclass(frozen=True)
class StepSent:
    """One send step's result: the outbox row queued, or why none was."""

    step_id: str
    channel: str | None = None
    template: str | None = None
    recipient: str | None = None
    outbox_id: int | None = None
    problem: str | None = None


def send_steps(definition: ScenarioDefinition) -> list[Send]:
    return [s for s in definition.steps if isinstance(s, Send)]


def send_for_test(
    messaging: Messaging,
    db: Session,
    definition: ScenarioDefinition,
    customer_id: str,
    step_ids: Collection[str] | None = None,
) -> list[StepSent]:
    """Queue the chosen send steps (all when `step_ids` is None) for one customer.

    Reads the warehouse: the caller holds whatever guards the warehouse connection.
    """
    if customer_id not in messaging.customers([customer_id]):
        raise MessagingError(f"no customer {customer_id!r} in the warehouse")
    out = []
    for step in send_steps(definition):
        if step_ids is not None and step.id not in step_ids:
            continue
        options = [(step.channel, step.template)]
        if step.fallback_channel and step.fallback_template:
            options.append((step.fallback_channel, step.fallback_template))
        reasons = []
        for channel, template_key in options:
            template = get_template(db, template_key)
            if template is None:
                reasons.append(f"{channel}: no template {template_key!r}")
                continue
            if template.channel != channel:
                reasons.append(f"{channel}: template {template_key!r} is for {template.channel}")
                continue
            recipients = resolve(messaging, db, channel, [customer_id]).recipients
            if not recipients:
                reasons.append(f"{channel}: no address")
                continue
            address = recipients[0].address
            row = messaging.send_test(db, template_key, address, customer_id)
            out.append(StepSent(step.id, channel, template_key, address, row.id))
            break
        else:
            out.append(StepSent(step.id, problem="; ".join(reasons)))
    return out
