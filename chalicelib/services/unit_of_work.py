"""Committing a ticket change, and retrying it when another writer won the race.

Every use case that changes a ticket reads it (`store.tickets.get`), calls the
aggregate (`chalicelib.domain.ticket.Ticket`), and commits it here: the ticket,
its new history entries and the alerts it raised, in one transaction conditioned
on the version it was read at (optimistic locking). A writer that lost the race
gets Conflict; `retrying` reads, decides and commits again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from chalicelib import alerts
from chalicelib.domain import charges
from chalicelib.domain.charges import Charge
from chalicelib.domain.instants import format_instant
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import Conflict
from chalicelib.services.auth import Caller
from chalicelib.services.outbox import claim_until, publish_items
from chalicelib.store import outbox
from chalicelib.store import tickets as store
from chalicelib.store.models import OutboxItem

# The one retry policy for a lost optimistic-lock race (actions, comments, the
# breach checker, E9 re-targeting): up to MAX_ATTEMPTS attempts, each retry after
# a random wait of up to BACKOFF_SECONDS * 2**n ("full jitter"), so writers that
# collided spread out; then the Conflict stands (a 409 for a request).
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 0.025

SYSTEM_ACTOR: dict[str, Any] = {"role": "system", "key_id": None, "partner_id": None}

T = TypeVar("T")


def retrying(attempt: Callable[[], T], *, deadline: float | None = None) -> T:
    """Run a read-decide-commit `attempt` again while another writer wins the race
    (Conflict), by the policy above; with a `deadline` (a `time.monotonic()`
    instant), the Conflict stands once waiting would pass it."""
    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            return attempt()
        except Conflict:
            wait = random.uniform(0, BACKOFF_SECONDS * 2**number)  # noqa: S311 (jitter only)
            if number == MAX_ATTEMPTS or (
                deadline is not None and time.monotonic() + wait > deadline
            ):
                raise
            time.sleep(wait)
    raise AssertionError("unreachable")


def actor_of(caller: Caller) -> dict[str, Any]:
    """A history entry's `actor` for an API key."""
    return {"role": caller.role, "key_id": caller.key_id, "partner_id": None}


def event(type_: str, actor: dict[str, Any], data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A new history entry; `commit` gives it its id (ids sort by time)."""
    return store.event(None, now, type_, actor, data)


def alert_message(
    ticket: Ticket,
    type_: str,
    occurred_at: datetime,
    *,
    key: str | None = None,
    metric: str | None = None,
    level: int | None = None,
    threshold_pct: int | None = None,
    due_at: datetime | None = None,
) -> dict[str, Any]:
    """An alert about this ticket (docs/api.md, Alerts), keyed `<ticket>:<key>`."""
    return alerts.message(
        key=key or type_,
        type_=type_,
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.id,
        priority=ticket.priority,
        occurred_at=format_instant(occurred_at),
        metric=metric,
        level=level,
        threshold_pct=threshold_pct,
        due_at=format_instant(due_at) if due_at is not None else None,
        timezone=ticket.sla.calendar.timezone,
        title=ticket.title,
    )


def commit(
    ticket: Ticket,
    events: list[dict[str, Any]],
    now: datetime,
    *,
    raised: Sequence[dict[str, Any]] | Callable[[], Sequence[dict[str, Any]]] = (),
    new: bool = False,
    publish: bool = True,
    extra: Sequence[store.TxItem] = (),
) -> list[OutboxItem]:
    """Write a ticket change with its history, the alerts it raised and `extra`
    items of other stores (a webhook's link and delivery), all or nothing
    (Conflict when the ticket moved on meanwhile), then publish the alerts. Each
    alert is also a history entry of its own type. The events get
    their ids first; `raised` may be a function, called after that, so an alert
    can be keyed on the id its history entry has (`store.stamp`)."""
    read_last = ticket.last_event
    # An alert that a change event records (DX4: the `charge.waived` charge change
    # names its `alert_id`) is that event, placed where the alert goes; any other
    # alert is an event of its own type.
    recorders: dict[str, dict[str, Any] | None] = {
        e["data"]["alert_id"]: e for e in events if e["data"].get("alert_id")
    }
    changes = [e for e in events if not e["data"].get("alert_id")]
    store.stamp(ticket, changes)
    messages = list(raised() if callable(raised) else raised)
    alert_events = [
        recorders.pop(m["id"], None) or event(m["type"], SYSTEM_ACTOR, _alert_data(m), now)
        for m in messages
    ]
    alert_events += [e for e in recorders.values() if e is not None]  # none left, normally
    store.stamp(ticket, alert_events)
    items = [
        outbox.new_item(ticket.id, m["id"].split(":", 1)[1], m, format_instant(now), claim_until())
        for m in messages
    ]
    try:
        store.write(ticket, changes + alert_events, items, new=new, extra=extra)
    except Conflict:
        ticket.last_event = read_last
        raise
    if publish and items:
        publish_items(items, now)
    return items


def _alert_data(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k not in ("type", "tenant_id", "ticket_id")}


def charge_events(
    before: Charge | None, ticket: Ticket, now: datetime, actor: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every charge change is a history entry `charge.<status>` (the charge, its
    previous status and amount), committed in the transaction of the change."""
    type_ = charges.event_type(before, ticket.charge)
    if type_ is None or ticket.charge is None:
        return []
    return [event(type_, actor, charges.event_data(before, ticket.charge), now)]


def waiver(ticket: Ticket, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """DX4 after a change or at a checker run: when the ticket's fee is waived now
    (`Ticket.waive_if_breached`), its `charge.waived` entry and alert, raised once
    per ticket (outbox key `charge.waived`); nothing otherwise."""
    before = ticket.charge
    if before is None or not ticket.waive_if_breached(now) or ticket.charge is None:
        return [], []
    alert = alert_message(ticket, charges.WAIVED_ALERT, now, metric=before.waive_on)
    data = {**charges.event_data(before, ticket.charge), "alert_id": alert["id"]}
    return [event(charges.WAIVED_ALERT, SYSTEM_ACTOR, data, now)], [alert]
