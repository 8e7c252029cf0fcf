"""Use cases of a ticket's life: actions and comments. Each one reads the ticket,
lets the aggregate decide (`Ticket.act` / `Ticket.comment`, by the tables of
`chalicelib.domain.lifecycle`: roles, statuses, SLA effects), and commits the
ticket with one history event, and the alert it raised, in one transaction. A
lost race (optimistic locking on `version`) is re-read and re-applied
(`unit_of_work.retrying`), then answered 409: no update is ever lost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.commands import ActionBody, CommentBody
from chalicelib.domain import lifecycle
from chalicelib.domain.ticket import Ticket
from chalicelib.services import retarget
from chalicelib.services.auth import Caller
from chalicelib.services.tickets import visible_ticket
from chalicelib.services.unit_of_work import (
    actor_of,
    alert_message,
    charge_events,
    commit,
    event,
    retrying,
    waiver,
)


def apply_action(caller: Caller, ticket_id: str, body: ActionBody, now: datetime) -> dict[str, Any]:
    """POST /tickets/{id}/actions: the ticket as GET returns it after the action."""
    params = body.model_dump(exclude_none=True, exclude={"action"})
    ticket = take_action(
        lambda: visible_ticket(caller, ticket_id),
        body.action,
        params,
        caller.role,
        actor_of(caller),
        now,
    )
    return ticket.view(now)


def take_action(
    read: Callable[[], Ticket],
    action: str,
    params: dict[str, Any],
    role: str,
    actor: dict[str, Any],
    now: datetime,
) -> Ticket:
    """Take one action on the ticket `read` returns, as `role` (the lifecycle's
    roles), recorded as `actor`: read, decide (`Ticket.act`), commit with its
    `action.<name>` history entry and the alert it raised; again on a lost race.
    Any entry point may drive it (the API, a partner's webhook)."""
    lifecycle.check_request(action, role, params)  # 403 / 400 before any read

    def attempt() -> Ticket:
        ticket = read()
        previous_status, previous_priority = ticket.status, ticket.priority
        previous_charge = ticket.charge
        outcome = ticket.act(action, params, role, now)
        if action == "set_priority":  # E7
            priority = params["priority"]
            ticket.change_priority(priority, retarget.basis_in_force(ticket.tenant_id), now)
        data = {**params, "status": ticket.status, "previous_status": previous_status}
        data["met"] = outcome.met
        if action == "set_priority":  # the policy may force another one (K2, DX6)
            data.update(priority=ticket.priority, previous_priority=previous_priority)
        elif action == "resolve":
            data["resolution_cause"] = ticket.resolution_cause
        elif action == "log_time":
            data["total_minutes"] = ticket.fields[lifecycle.LOGGED_MINUTES]
        entry = event(f"action.{action}", actor, data, now)
        # The charge this action changed (DX2 approve/pay, C4 time, E7 re-plan), then
        # DX4: an assignment or reply after the due instant waives the fee too.
        events = [entry, *charge_events(previous_charge, ticket, now, actor)]
        waived, waived_alerts = waiver(ticket, now)

        def raised() -> list[dict[str, Any]]:  # once `entry` has its id (commit)
            if outcome.alert is None:
                return waived_alerts
            once = outcome.alert in lifecycle.ONCE_PER_TICKET
            key = outcome.alert if once else f"{outcome.alert}#{entry['id']}"
            return [alert_message(ticket, outcome.alert, now, key=key), *waived_alerts]

        commit(ticket, events + waived, now, raised=raised)
        return ticket

    return retrying(attempt)


def add_comment(caller: Caller, ticket_id: str, body: CommentBody, now: datetime) -> dict[str, Any]:
    """POST /tickets/{id}/comments: a `comment` history event; an agent's public
    reply meets first response (E5; not under Aivo's A5) and next response."""
    entry = comment_on(
        lambda: visible_ticket(caller, ticket_id),
        caller.role,
        body.body,
        body.public,
        actor_of(caller),
        now,
    )
    return {
        "id": entry["id"],
        "at": entry["at"],
        "body": body.body,
        "public": body.public,
        "author_role": caller.role,
    }


def comment_on(
    read: Callable[[], Ticket],
    role: str,
    text: str,
    public: bool,
    actor: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Comment on the ticket `read` returns, as `role`, recorded as `actor`
    (`Ticket.comment` decides what it meets); the `comment` history entry."""

    def attempt() -> dict[str, Any]:
        ticket = read()
        met = ticket.comment(role, public, now)
        entry = event("comment", actor, {"body": text, "public": public, "met": met}, now)
        waived, waived_alerts = waiver(ticket, now)  # DX4: a late first reply
        commit(ticket, [entry, *waived], now, raised=waived_alerts)
        return entry

    return retrying(attempt)
