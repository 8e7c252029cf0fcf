"""The one mapping from what happened to a ticket (`chalicelib.domain.events`) to what
is stored and published: its history entries (docs/api.md, history) and its alert
messages (docs/api.md, Alerts). Nothing else builds either.

Entries come in the order the aggregate recorded the events, the changes first,
then one entry per alert (system actor, the alert's fields): an alert is keyed
`<ticket>:<key>`, or, when raised once per occurrence, on the id of the change
that raised it, so the change entries get their ids (`store.stamp`) first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import alerts
from chalicelib.domain import charges
from chalicelib.domain import events as ev
from chalicelib.domain.instants import format_instant
from chalicelib.domain.ticket import Ticket
from chalicelib.store import tickets as store

SYSTEM_ACTOR: dict[str, Any] = {"role": "system", "key_id": None, "partner_id": None}


@dataclass(frozen=True)
class Records:
    entries: list[dict[str, Any]]  # history entries, stamped (ids and instants)
    alerts: list[dict[str, Any]]  # alert messages


def records(
    ticket: Ticket,
    events: Sequence[ev.Event],
    actor: dict[str, Any],
    now: datetime,
    *,
    context: dict[str, Any] | None = None,
) -> Records:
    """The history entries and alerts of `events`, recorded as `actor`; `context`
    (a partner event's ids and time) is added to the entries of what the actor did."""
    changes: list[dict[str, Any]] = []
    raised: list[tuple[ev.AlertRaised | ev.ChargeWaived, dict[str, Any] | None]] = []
    cause: dict[str, Any] | None = None  # the change an occurrence alert is keyed on
    for event in events:
        if isinstance(event, ev.AlertRaised | ev.ChargeWaived):
            raised.append((event, cause))
            continue
        entry = _entry(event, actor, now, context or {})
        changes.append(entry)
        if isinstance(event, ev.Acted):
            cause = entry
    store.stamp(ticket, changes)
    messages: list[dict[str, Any]] = []
    alert_entries: list[dict[str, Any]] = []
    for event, by in raised:
        if isinstance(event, ev.ChargeWaived):  # DX4: the charge change is the alert's entry
            msg = _message(ticket, charges.WAIVED_ALERT, event.at, charges.WAIVED_ALERT)
            msg["metric"] = event.metric
            data = {**charges.event_data(event.before, event.after), "alert_id": msg["id"]}
            alert_entries.append(store.event(None, now, charges.WAIVED_ALERT, SYSTEM_ACTOR, data))
        else:
            key = event.key or f"{event.type}#{by['id'] if by else 'open'}"
            msg = _message(ticket, event.type, event.at, key, event)
            alert_entries.append(store.event(None, now, event.type, SYSTEM_ACTOR, _data(msg)))
        messages.append(msg)
    store.stamp(ticket, alert_entries)
    return Records(changes + alert_entries, messages)


def _entry(
    event: ev.Event, actor: dict[str, Any], now: datetime, context: dict[str, Any]
) -> dict[str, Any]:
    type_, data, who = _history(event)
    if type_.startswith(("action.", "comment", "webhook.")) and who is None:
        data = {**context, **data}
    return store.event(None, now, type_, who or actor, data)


def _history(event: ev.Event) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    """(type, data, actor when not the caller's) of a change's history entry."""
    match event:
        case ev.Opened(status=status, commercial_review=review):
            data: dict[str, Any] = {"status": status}
            if review:
                data["commercial_review"] = list(review)  # DX5: why
            return "created", data, None
        case ev.AutoReplied(body=body, locale=locale):  # DX2
            reply = {"body": body, "public": True, "met": [], "automatic": True, "locale": locale}
            return "comment", reply, SYSTEM_ACTOR
        case ev.Acted():
            data = {
                **event.params,
                "status": event.status,
                "previous_status": event.previous_status,
                "met": event.met,
                **event.details,
            }
            return f"action.{event.action}", data, None
        case ev.Commented():
            data = {
                "body": event.body,
                "public": event.public,
                "met": event.met,
                "author_role": event.role,
            }
            return "comment", data, None
        case ev.ChargeChanged(before=before, after=after):
            return f"charge.{after.status}", charges.event_data(before, after), None
        case ev.Retargeted(data=data):
            return "policy.retargeted", dict(data), None
        case ev.PartnerEventNotApplied(name=name, reasons=reasons):
            return f"webhook.{name}", {"not_applied": reasons}, None
    raise TypeError(f"no history entry for {event!r}")


def _message(
    ticket: Ticket, type_: str, at: datetime, key: str, event: ev.AlertRaised | None = None
) -> dict[str, Any]:
    """An alert about this ticket (docs/api.md, Alerts), keyed `<ticket>:<key>`."""
    return alerts.message(
        key=key,
        type_=type_,
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.id,
        priority=ticket.priority,
        occurred_at=format_instant(at),
        metric=event.metric if event else None,
        level=event.level if event else None,
        threshold_pct=event.threshold_pct if event else None,
        due_at=format_instant(event.due_at) if event and event.due_at else None,
        timezone=ticket.sla.calendar.timezone,
        title=ticket.title,
    )


def _data(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k not in ("type", "tenant_id", "ticket_id")}
