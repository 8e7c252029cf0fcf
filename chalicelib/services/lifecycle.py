"""Use cases of a ticket's life: actions and comments. Each one reads the ticket,
lets the aggregate decide (`Ticket.act` / `Ticket.comment`, by the tables of
`chalicelib.domain.lifecycle`: roles, statuses, SLA effects, E7, DX4), and commits
it through the unit of work: what it recorded becomes its history and alerts, in
one transaction. A lost race (optimistic locking on `version`) is re-read and
re-applied (`unit_of_work.run`), then answered 409: no update is ever lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.commands import ActionBody, CommentBody
from chalicelib.domain import lifecycle
from chalicelib.domain.ticket import Ticket
from chalicelib.services import unit_of_work
from chalicelib.services.auth import Caller
from chalicelib.services.tickets import visible_ticket
from chalicelib.services.unit_of_work import UnitOfWork, actor_of


def apply_action(caller: Caller, ticket_id: str, body: ActionBody, now: datetime) -> dict[str, Any]:
    """POST /tickets/{id}/actions: the ticket as GET returns it after the action."""
    params = body.model_dump(exclude_none=True, exclude={"action"})
    lifecycle.check_request(body.action, caller.role, params)  # 403 / 400 before any read

    def attempt(uow: UnitOfWork) -> Ticket:
        ticket = visible_ticket(caller, ticket_id, uow.get)
        act(uow, ticket, body.action, params, caller.role)
        uow.commit()
        return ticket

    return unit_of_work.run(attempt, now, actor_of(caller)).view(now)


def act(
    uow: UnitOfWork, ticket: Ticket, action: str, params: dict[str, Any], role: str
) -> lifecycle.Outcome:
    """Take one action on a ticket the unit of work read, as `role`: the
    aggregate decides; `set_priority` is handed the policy and terms in force (E7).
    Any way in (the API, a partner's webhook) takes actions through here."""
    basis = uow.lookups.in_force(ticket.tenant_id) if action == "set_priority" else None
    return ticket.act(action, params, role, uow.now, basis=basis)


def add_comment(caller: Caller, ticket_id: str, body: CommentBody, now: datetime) -> dict[str, Any]:
    """POST /tickets/{id}/comments: a `comment` history event; an agent's public
    reply meets first response (E5; not under Aivo's A5) and next response."""

    def attempt(uow: UnitOfWork) -> dict[str, Any]:
        ticket = visible_ticket(caller, ticket_id, uow.get)
        ticket.comment(caller.role, body.public, now, body.body)
        return next(e for e in uow.commit().entries if e["type"] == "comment")

    entry = unit_of_work.run(attempt, now, actor_of(caller))
    return {
        "id": entry["id"],
        "at": entry["at"],
        "body": body.body,
        "public": body.public,
        "author_role": caller.role,
    }
