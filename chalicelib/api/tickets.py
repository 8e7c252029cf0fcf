"""Ticket routes, and the agents' queue of them: thin, each one calls one service
function."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib import commands
    from chalicelib.api import models
    from chalicelib.services import explain, queue, tickets
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    models = lazy_module("chalicelib.api.models")
    commands = lazy_module("chalicelib.commands")
    queue = lazy_module("chalicelib.services.queue")
    tickets = lazy_module("chalicelib.services.tickets")
    explain = lazy_module("chalicelib.services.explain")

bp = Blueprint(__name__)
PEOPLE = {"customer", "agent", "admin"}


@route(
    bp,
    "/tickets",
    "POST",
    roles=PEOPLE,
    body=lambda: commands.TicketBody,
    response=lambda: models.TicketOut,
    status=201,
    idempotent=True,
    summary="Open a ticket",
    errors=(400, 403, 409, 422),
    # one 400: shape and policy together (looked up at the request: no import here)
    more_errors=lambda caller, raw: tickets.intake_errors(caller, raw),
)
def open_ticket(call: Call) -> dict[str, Any]:
    return tickets.open_ticket(call.who, call.body, call.now)


@route(
    bp,
    "/tickets",
    "GET",
    roles=PEOPLE,
    query=lambda: commands.TicketListQuery,
    response=lambda: models.TicketPage,
    summary="List a tenant's tickets, newest first; filters status, priority, breached",
    errors=(400, 403),
)
def list_tickets(call: Call) -> dict[str, Any]:
    q = call.query
    return tickets.list_tickets(
        call.who,
        q.tenant_id,
        q.limit,
        q.cursor,
        call.now,
        status=q.status,
        priority=q.priority,
        breached=q.breached,
    )


@route(
    bp,
    "/tickets/{ticket_id}",
    "GET",
    roles=PEOPLE,
    response=lambda: models.TicketOut,
    summary="One ticket with its SLA state as of now",
    errors=(404,),
)
def get_ticket(call: Call, ticket_id: str) -> dict[str, Any]:
    return tickets.get_ticket(call.who, ticket_id, call.now)


@route(
    bp,
    "/tickets/{ticket_id}/events",
    "GET",
    roles=PEOPLE,
    query=lambda: commands.PageQuery,
    response=lambda: models.EventPage,
    summary="The ticket's history, oldest first",
    errors=(400, 404),
)
def list_events(call: Call, ticket_id: str) -> dict[str, Any]:
    return tickets.list_events(call.who, ticket_id, call.query.limit, call.query.cursor)


@route(
    bp,
    "/queue",
    "GET",
    roles={"agent", "admin"},
    query=lambda: commands.TenantPageQuery,
    response=lambda: models.QueuePage,
    summary=(
        "The agents' queue: open work with a running target, earliest deadline first "
        "(breached first), with its state as of now"
    ),
    errors=(400, 404),
)
def agents_queue(call: Call) -> dict[str, Any]:
    q = call.query
    return queue.agents_queue(q.tenant_id, q.limit, q.cursor, call.now)


@route(
    bp,
    "/tickets/{ticket_id}/sla/explain",
    "GET",
    roles=PEOPLE,
    response=lambda: models.Explain,
    summary="Why each SLA target is due when it is: its rules and the steps to its due instant",
    errors=(404,),
)
def explain_sla(call: Call, ticket_id: str) -> dict[str, Any]:
    return explain.explain(call.who, ticket_id, call.now)
