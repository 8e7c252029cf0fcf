"""Ticket routes: thin, each one calls one service function."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.api.models import EventPage, TicketOut, TicketPage
from chalicelib.commands import PageQuery, TicketBody, TicketListQuery
from chalicelib.services import tickets

bp = Blueprint(__name__)
PEOPLE = {"customer", "agent", "admin"}


@route(
    bp,
    "/tickets",
    "POST",
    roles=PEOPLE,
    body=TicketBody,
    response=TicketOut,
    status=201,
    idempotent=True,
    summary="Open a ticket",
    errors=(400, 403, 409, 422),
    more_errors=tickets.intake_errors,  # one 400: shape and policy together
)
def open_ticket(call: Call) -> dict[str, Any]:
    return tickets.open_ticket(call.who, call.body, call.now)


@route(
    bp,
    "/tickets",
    "GET",
    roles=PEOPLE,
    query=TicketListQuery,
    response=TicketPage,
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
    response=TicketOut,
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
    query=PageQuery,
    response=EventPage,
    summary="The ticket's history, oldest first",
    errors=(400, 404),
)
def list_events(call: Call, ticket_id: str) -> dict[str, Any]:
    return tickets.list_events(call.who, ticket_id, call.query.limit, call.query.cursor)
