"""The agents' queue (docs/queue.md): every customer's open work, or one tenant's,
by next deadline, each ticket judged as of the request (`domain.queue`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from chalicelib.domain.queue import queue_item
from chalicelib.store import queue as store
from chalicelib.store import tenants as tenant_store
from chalicelib.store.pages import encode_cursor, invalid_cursor, open_cursor

# A queue position (`store.tickets.queue_position`): what a cursor may carry.
POSITION = re.compile(r"\d{12}#tkt_[0-9A-Z]{26}")


def _after(cursor: str | None, tenant_id: str | None) -> str | None:
    """The position a cursor resumes after; 400 for one not issued for this list."""
    if cursor is None:
        return None
    data = open_cursor(cursor)
    if (
        not isinstance(data, dict)
        or set(data) != {"after", "tenant_id"}
        or data["tenant_id"] != tenant_id
        or not isinstance(data["after"], str)
        or not POSITION.fullmatch(data["after"])
    ):
        raise invalid_cursor()
    after: str = data["after"]
    return after


def agents_queue(
    tenant_id: str | None, limit: int, cursor: str | None, now: datetime
) -> dict[str, Any]:
    """GET /queue: a page of the tickets with a running target, earliest deadline
    first (breached ones, whose deadline is past, lead). A ticket the index still
    holds but that left the queue meanwhile (the index is eventually consistent)
    is not shown. An empty first page of a tenant that is not a customer is a 404
    (only then is the tenant read: a page with tickets proves it exists)."""
    tickets, last = store.queue_page(tenant_id, limit, _after(cursor, tenant_id))
    items = [item for ticket in tickets if (item := queue_item(ticket, now)) is not None]
    tenant_store.listed_tenant_exists(tenant_id, not tickets, cursor is None)
    next_cursor = None if last is None else {"after": last, "tenant_id": tenant_id}
    return {"items": items, "next_cursor": encode_cursor(next_cursor)}
