"""The agents' queue (docs/queue.md): a sparse index of the tickets that have a
running target, ordered by their next deadline, never a Scan.

`store.tickets.to_raw` derives the keys from `Ticket.next_deadline` at every
write: every customer's tickets are spread over QUEUE#0..3 (`queue` index), one
tenant's over QUEUE#<tenant>#0..3 (`queue_by_tenant`), each sorted by
`<epoch second of the deadline>#<ticket id>`, a total order the same in every
partition. A page reads each partition of its shape once (`limit + 1` keys after
the cursor's position), merges them, and reads the page's tickets in one
consistent BatchGetItem: 4 Queries and 1 BatchGetItem whatever the number of
closed, paused or met tickets, which the index does not hold.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.ticket import Ticket
from chalicelib.store.models import TicketItem
from chalicelib.store.tickets import QUEUE_SHARDS, get_many


def partitions(tenant_id: str | None) -> tuple[Any, list[str]]:
    """The index and the partitions a page reads: every customer's, or one tenant's."""
    if tenant_id is None:
        return TicketItem.queue, [f"QUEUE#{k}" for k in range(QUEUE_SHARDS)]
    return TicketItem.queue_by_tenant, [f"QUEUE#{tenant_id}#{k}" for k in range(QUEUE_SHARDS)]


def queue_page(
    tenant_id: str | None, limit: int, after: str | None
) -> tuple[list[Ticket], str | None]:
    """Up to `limit` tickets in queue order after position `after` (a `queue_sk`),
    and the position of the last one when more follow (else None). The index is
    eventually consistent, the tickets are read consistently: the caller judges
    each one as it is now (`domain.queue.queue_item`)."""
    index, keys = partitions(tenant_id)
    condition = TicketItem.queue_sk > after if after is not None else None
    positions: list[str] = []
    for partition in keys:
        result = index.query(partition, condition, limit=limit + 1, page_size=limit + 1)
        positions += [entry.queue_sk for entry in result]
    merged = sorted(positions)[: limit + 1]
    page = merged[:limit]
    ids = [position.split("#", 1)[1] for position in page]
    found = get_many(ids) if ids else {}
    tickets = [found[i] for i in ids if i in found]
    return tickets, page[-1] if len(merged) > limit else None
