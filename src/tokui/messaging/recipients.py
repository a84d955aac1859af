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
from tokui.state.bulk import among
from tokui.state.channels import LineLink
from tokui.warehouse.subset import only


@dataclass
class Resolved:
    recipients: list[Recipient] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # customers without an address


def _line_ids(
    messaging: Messaging,
    db: Session,
    ids: Sequence[str],
    known: Mapping[str, str | None] | None = None,
) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    if known is None:
        con = messaging.ws.warehouse
        customers = con.table("customers")
        rows = (
            only(customers, "customer_id", ids)
            .select("customer_id", "line_user_id")
            .to_pyarrow()
            .to_pylist()
        )
        known = {str(r["customer_id"]): r["line_user_id"] for r in rows}
    for cid, line_id in known.items():
        out[cid] = line_id or None
    for among_ids in among(db, LineLink.customer_id, list(ids)):
        for link in db.scalars(select(LineLink).where(among_ids)):
            assert link.customer_id is not None
            out[link.customer_id] = link.line_user_id if link.following else None
    return out


def resolve(
    messaging: Messaging,
    db: Session,
    channel: str,
    ids: Sequence[str],
    data: Mapping[str, CustomerData] | None = None,
    line_user_ids: Mapping[str, str | None] | None = None,
) -> Resolved:
    """`data`: the customers' template data when the caller has already loaded it (the
    scenario engine resolves several channels for one batch); `line_user_ids`: their
    customers.line_user_id, when the caller has read it too."""
    if data is None:
        data = messaging.customers(list(ids))
    result = Resolved()
    line_ids = _line_ids(messaging, db, ids, line_user_ids) if channel == "line" else {}
    tokens = active_tokens(db, ids) if channel == "push" else {}
    for cid in ids:
        customer = data.get(cid)
        if customer is None:
            result.missing.append(cid)
            continue
        found = recipients_of(messaging, channel, cid, customer, line_ids, tokens)
        if not found:
            result.missing.append(cid)
        result.recipients += found
    return result


# Channels whose addresses are looked up in the state DB (LINE links, push devices);
# the others' come from the customer's fields or a setting.
LOOKED_UP = frozenset({"line", "push"})


def recipients_of(
    messaging: Messaging,
    channel: str,
    cid: str,
    customer: CustomerData,
    line_ids: Mapping[str, str | None],
    tokens: Mapping[str, Sequence[str]],
) -> list[Recipient]:
    """One customer's recipients on the channel (resolve, for one customer): `line_ids`
    and `tokens` as resolve reads them, needed only for LINE and push."""
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
    return [
        Recipient(cid, address, customer, key_part=f"{cid}:{key_part}" if key_part else None)
        for address, key_part in addresses
        if address
    ]
