"""Back-fill of identity stitching, as a refresh step.

The events API attributes an anonymous event when it is written, from the browser's
links in `web_identities` (tokui.ingest.web_events). Events written before their
browser's first login stay anonymous until this step gives them the customer of that
first link. It runs at refresh rather than at each login because finding a browser's
past events is a scan of the whole web_events table, which would hold the warehouse
for seconds on every new link in a large shop; here it is one set-based UPDATE.
"""

from __future__ import annotations

import ibis
import sqlglot
import sqlglot.expressions as sge
from ibis.backends import BaseBackend

from tokui.refresh.pipeline import RefreshContext, refresh_step
from tokui.warehouse.schema import WEB_EVENTS, dialect_of
from tokui.warehouse.sql import table_ref, transaction


def first_links(con: BaseBackend) -> ibis.Table:
    """Each browser's first customer: the link with the earliest linked_at (ties by id)."""
    ids = con.table("web_identities")
    ranked = ids.mutate(
        _rank=ibis.row_number().over(
            group_by=ids.anonymous_id, order_by=[ids.linked_at, ids.customer_id]
        )
    )
    return ranked.filter(ranked._rank == 0).select("anonymous_id", "customer_id")


def stitch_identities(con: BaseBackend) -> int:
    """Give every stored anonymous event of a linked browser its first customer."""
    if "web_identities" not in con.list_tables():
        return 0
    dialect = dialect_of(con)
    links = sqlglot.parse_one(str(con.compile(first_links(con))), read=dialect)
    link = sge.to_identifier("l", quoted=True)
    target = sge.to_identifier(WEB_EVENTS.name, quoted=True)
    update = sge.update(
        table_ref(WEB_EVENTS.name),
        {"customer_id": sge.column("customer_id", table=link, quoted=True)},
        from_=sge.From(this=sge.Subquery(this=links, alias=sge.TableAlias(this=link))),
        where=sge.and_(
            sge.EQ(
                this=sge.column("anonymous_id", table=target, quoted=True),
                expression=sge.column("anonymous_id", table=link, quoted=True),
            ),
            sge.column("customer_id", table=target, quoted=True).is_(sge.null()),
        ),
    )
    with transaction(con) as execute:
        result = execute(str(update.sql(dialect)))
        if con.name == "duckdb":
            row = result.fetchone()
            return int(row[0]) if row else 0
        return int(result.rowcount)


@refresh_step("web_identities", "Attribute anonymous web events to the customer who logged in")
def refresh_web_identities(ctx: RefreshContext) -> int:
    return stitch_identities(ctx.warehouse)
