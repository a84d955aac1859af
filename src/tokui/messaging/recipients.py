"""Who a message of each channel goes to: the address of a customer on that channel.

email: customers.email; LINE: the linked LINE user id (the follow webhook's link first,
else customers.line_user_id), skipped when the user unfollowed; push: every active device
token (one message per device); postal DM and call center: the customer id (the address
and phone are read when the batch is exported or the task shown); webhook: the URL of
[webhook] url. Customers without an address on the channel are left out and counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tokui.messaging.context import CustomerData
from tokui.messaging.devices import active_tokens, token_hash
from tokui.messaging.service import Messaging, Recipient
from tokui.state.channels import LineLink
from tokui.warehouse.subset import only


@dataclass
class Resolved:
    recipients: list[Recipient] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # customers without an address


def _line_ids(messaging: Messaging, db: Session, ids: Sequence[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    con = messaging.ws.warehouse
    customers = con.table("customers")
    rows = (
        only(customers, "customer_id", ids)
        .select("customer_id", "line_user_id")
        .to_pyarrow()
        .to_pylist()
    )
    for r in rows:
        out[str(r["customer_id"])] = r["line_user_id"] or None
    ordered = list(ids)
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start : start + 5000]
        for link in db.scalars(select(LineLink).where(LineLink.customer_id.in_(chunk))):
            assert link.customer_id is not None
            out[link.customer_id] = link.line_user_id if link.following else None
    return out


def resolve(
    messaging: Messaging,
    db: Session,
    channel: str,
    ids: Sequence[str],
    data: Mapping[str, CustomerData] | None = None,
) -> Resolved:
    """`data`: the customers' template data when the caller has already loaded it (the
    scenario engine resolves several channels for one batch)."""
    if data is None:
        data = messaging.customers(list(ids))
    result = Resolved()
    line_ids = _line_ids(messaging, db, ids) if channel == "line" else {}
    tokens = active_tokens(db, ids) if channel == "push" else {}
    for cid in ids:
        customer = data.get(cid)
        if customer is None:
            result.missing.append(cid)
            continue
        addresses: list[tuple[str, str | None]]
        if channel == "email":
            addresses = [(str(customer.customer.get("email") or ""), None)]
        elif channel == "line":
            addresses = [(line_ids.get(cid) or "", None)]
        elif channel == "push":
            addresses = [(t, token_hash(t)[:16]) for t in tokens.get(cid, [])]
        elif channel == "webhook":
            addresses = [(messaging.channel_settings.webhook.url, None)]
        else:
            addresses = [(cid, None)]
        addresses = [(a, k) for a, k in addresses if a]
        if not addresses:
            result.missing.append(cid)
        for address, key_part in addresses:
            part = f"{cid}:{key_part}" if key_part else None
            result.recipients.append(Recipient(cid, address, customer, key_part=part))
    return result
