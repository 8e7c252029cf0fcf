"""The agents' queue (docs/queue.md): a ticket as the queue shows it, as of an
instant. Pure: the store orders tickets by `Ticket.next_deadline`; this says what
a person sees of each one.

`state` (docs/api.md, The agents' queue): `breached` once the target is breached
(past its due instant, E5); `at_risk` once its clock reached the first warning
threshold of its ladder (75 % for the shipped policies, E8: the instant the
`sla.warning` alert is due); else `on_track`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from chalicelib.domain import sla
from chalicelib.domain.sla import Target
from chalicelib.domain.ticket import Ticket

QueueState = Literal["on_track", "at_risk", "breached"]


def first_warning_pct(target: Target) -> int | None:
    """The lowest `sla.warning` rung of the target's ladder, or None without one."""
    return min((t.pct for t in target.ladder if t.type == "sla.warning"), default=None)


def queue_state(target: Target, view: dict[str, Any]) -> QueueState:
    """The queue's state of a target from its contract view (`sla.view`)."""
    if view["state"] == "breached":
        return "breached"
    warning = first_warning_pct(target)
    if warning is not None and view["elapsed_seconds"] * 100 >= warning * target.target_seconds:
        return "at_risk"
    return "on_track"


def queue_item(ticket: Ticket, now: datetime) -> dict[str, Any] | None:
    """The contract's queue item of a ticket as of `now`: its earliest running
    deadline, the metric it belongs to, the time left and the state; None when
    the ticket is not in the queue (no running target, or resolved or closed)."""
    deadline = ticket.next_deadline()
    if deadline is None:
        return None
    _, metric = deadline
    target = ticket.target(metric)
    assert target is not None  # next_deadline names one of the ticket's targets
    view = sla.view(target, ticket.clock(target.clock), now)
    return {
        "ticket_id": ticket.id,
        "tenant_id": ticket.tenant_id,
        "title": ticket.title,
        "priority": ticket.priority,
        "status": ticket.status,
        "assignee": ticket.assignee,
        "metric": metric,
        "due_at": view["due_at"],
        "remaining_seconds": view["remaining_seconds"],
        "state": queue_state(target, view),
    }
