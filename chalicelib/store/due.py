"""The due index (docs/alerts.md, the breach checker): a sparse GSI of the tickets with a pending
alert threshold, sharded `DUE#0..N-1`, sorted by the threshold's epoch second.
The checker reads only what is due — never a scan."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from chalicelib.store.models import TicketItem


def due_ticket_ids(shards: Iterable[int], epoch: int) -> Iterator[str]:
    """Ids of the tickets whose next threshold is at or before `epoch`, every page
    of each of these shards, earliest first per shard. The index is eventually
    consistent: a hint, not the truth. Pages are read as the ids are consumed, so
    a worker that stops early reads no further."""
    for shard in shards:
        for item in TicketItem.due.query(f"DUE#{shard}", TicketItem.due_at <= epoch):
            yield item.pk.removeprefix("TICKET#")
