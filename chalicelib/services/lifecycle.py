"""Use cases of a ticket's life: actions and comments. Each one reads the ticket,
lets the domain decide (`chalicelib.domain.lifecycle`: roles, statuses, SLA
effects), and commits the ticket with one history event, and the alert it
raised, in one transaction. A lost race (optimistic locking on `version`) is
re-read and re-applied a few times, then answered 409: no update is ever lost.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from ulid import ULID

from chalicelib.api.models import ActionBody, CommentBody
from chalicelib.domain import lifecycle
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import BadRequest, Conflict
from chalicelib.services import policies
from chalicelib.services.auth import Caller
from chalicelib.services.retarget import replan
from chalicelib.services.tenants import tenant_doc
from chalicelib.services.tickets import (
    actor_of,
    alert_message,
    clock_of,
    commit,
    set_targets,
    targets_of,
    view,
    visible_ticket,
)
from chalicelib.store import tenants as tenant_store
from chalicelib.store import tickets as store

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 0.025  # a retry waits up to this, doubled each time (full jitter)

T = TypeVar("T")


def retrying(attempt: Callable[[], T]) -> T:
    """Run a read-decide-commit attempt again when another writer won the race."""
    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            return attempt()
        except Conflict:
            if number == MAX_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**number))  # noqa: S311 (jitter only)
    raise AssertionError("unreachable")


def _retarget(ticket: Ticket, priority: str, now: datetime) -> None:
    """E7: the new priority's targets against the time already elapsed."""
    tenant = tenant_store.get_tenant(ticket.tenant_id)
    policy = policies.find(ticket.sla.policy)
    if tenant is None or policy is None:
        raise BadRequest("the ticket's tenant or policy no longer exists", {"priority": priority})
    # Keep a ticket-level tier (K1); one the policy does not know is the tenant's own.
    tier = ticket.tier if ticket.tier in policy.tiers else None
    replan(ticket, policy, tenant_doc(tenant.doc), now, priority=priority, tier=tier)


def apply_action(caller: Caller, ticket_id: str, body: ActionBody, now: datetime) -> dict[str, Any]:
    """POST /tickets/{id}/actions: the ticket as GET returns it after the action."""
    action = body.action
    params = body.model_dump(exclude_none=True, exclude={"action"})
    lifecycle.check_request(action, caller.role, params)  # 403 / 400 before any read

    def attempt() -> dict[str, Any]:
        ticket = visible_ticket(caller, ticket_id)
        previous_status, previous_priority = ticket.status, ticket.priority
        outcome = lifecycle.decide(
            action,
            params,
            caller.role,
            ticket.status,
            targets_of(ticket),
            clock_of(ticket),
            now,
            fields=ticket.fields,
            charge=ticket.charge,
        )
        ticket.status = outcome.status
        for name, value in outcome.changes.items():
            setattr(ticket, name, value)
        set_targets(ticket, outcome.targets)
        if action == "set_priority":
            _retarget(ticket, params["priority"], now)
        ticket.updated_at = now
        event_id = str(ULID())
        data = {**params, "status": ticket.status, "previous_status": previous_status}
        data["met"] = outcome.met
        if action == "set_priority":  # the policy may force another one (K2, DX6)
            data.update(priority=ticket.priority, previous_priority=previous_priority)
        elif action == "resolve":
            data["resolution_cause"] = ticket.resolution_cause
        elif action == "log_time":
            data["total_minutes"] = ticket.fields[lifecycle.LOGGED_MINUTES]
        raised: list[dict[str, Any]] = []
        if outcome.alert is not None:
            once = outcome.alert in lifecycle.ONCE_PER_TICKET
            key = outcome.alert if once else f"{outcome.alert}#{event_id}"
            raised.append(alert_message(ticket, outcome.alert, now, key=key))
        event = store.event(event_id, now, f"action.{action}", actor_of(caller), data)
        commit(ticket, [event], now, raised=raised)
        return view(ticket, now)

    return retrying(attempt)


def add_comment(caller: Caller, ticket_id: str, body: CommentBody, now: datetime) -> dict[str, Any]:
    """POST /tickets/{id}/comments: a `comment` history event; an agent's public
    reply meets first response (E5; not under Aivo's A5) and next response."""

    def attempt() -> dict[str, Any]:
        ticket = visible_ticket(caller, ticket_id)
        targets, met = lifecycle.comment(
            caller.role,
            body.public,
            ticket.status,
            targets_of(ticket),
            ticket.sla.first_response_met_by,
            clock_of(ticket),
            now,
        )
        set_targets(ticket, targets)
        ticket.updated_at = now
        data = {"body": body.body, "public": body.public, "met": met}
        event = store.event(str(ULID()), now, "comment", actor_of(caller), data)
        commit(ticket, [event], now)
        return {
            "id": event["id"],
            "at": event["at"],
            "body": body.body,
            "public": body.public,
            "author_role": caller.role,
        }

    return retrying(attempt)
