"""The reports' counters (docs/performance.md, Reports): per tenant and UTC day of
`reported_at`, the sums `domain.report_counts` gives, in the partition
REPORTS#<tenant> (sk R<kind>#<day>#<priority or currency>#<shard>), kept by ADD
in the transaction of each ticket change (`store.tickets.write`). A counter is
split over SHARDS items by ticket id, so tickets opened at once for one tenant
and priority (or the breach checker's workers recording their breaches) do not
all wait on one item. One report reads its range's days with one Query, a page
per MB (~12,000 counters: 400 days of 4 priorities in 8 shards at most fill
one or two, whatever the tickets); and the unsettled index for the tickets due
since they were written.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.domain.report_counts import Amount, Counts
from chalicelib.store.models import ReportCountItem, TicketItem

SHARDS = 8

TxUpdate = tuple[ReportCountItem, list[Action]]


def partition(tenant_id: str) -> str:
    return f"REPORTS#{tenant_id}"


def updates(ticket_id: str, tenant_id: str, moved: Counts) -> list[TxUpdate]:
    """The counter updates of one ticket's change (`domain.report_counts.delta`):
    one item per key that moves, in the ticket's shard."""
    shard = zlib.crc32(ticket_id.encode()) % SHARDS
    found: list[TxUpdate] = []
    for (kind, day, group), fields in moved.items():
        item = ReportCountItem(partition(tenant_id), f"R{kind}#{day}#{group}#{shard}")
        actions = [getattr(ReportCountItem, name).add(value) for name, value in fields.items()]
        found.append((item, actions))
    return found


def days(
    tenant_id: str, kind: str, first: date, end: date
) -> Iterator[tuple[str, dict[str, Amount]]]:
    """The counters of the days [first, end) of one kind, as (priority or currency,
    fields), earliest day first (every page of one consistent Query: what the
    tickets' items, read after it, were written with)."""
    low, high = f"R{kind}#{first.isoformat()}", f"R{kind}#{end.isoformat()}"
    query = ReportCountItem.query(
        partition(tenant_id), ReportCountItem.sk.between(low, high), consistent_read=True
    )
    for item in query:
        group = item.sk.rsplit("#", 1)[0].split("#", 2)[2]
        fields: dict[str, Any] = {
            name: getattr(item, name)
            for name in ReportCountItem.get_attributes()
            if name not in ("pk", "sk") and getattr(item, name) is not None
        }
        yield group, fields


def due_ids(tenant_id: str, now: datetime) -> Iterator[str]:
    """Ids of the tenant's tickets due at or before `now` that their record did not
    judge breached when last written (every page of one Query of the unsettled
    index: a hint, eventually consistent; the caller reads the items)."""
    query = TicketItem.unsettled.query(
        f"TENANT#{tenant_id}", TicketItem.unsettled_at <= int(now.timestamp())
    )
    for page in query.page_iter:
        for raw in page.get("Items", []):
            yield raw["pk"]["S"].removeprefix("TICKET#")
