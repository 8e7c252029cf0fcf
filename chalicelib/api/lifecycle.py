"""Routes of a ticket's life: actions and comments (API.md). Thin: each one
calls one service function."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.api.models import CommentOut, TicketOut
from chalicelib.commands import ActionBody, CommentBody
from chalicelib.services import lifecycle

bp = Blueprint(__name__)
PEOPLE = {"customer", "agent", "admin"}


@route(
    bp,
    "/tickets/{ticket_id}/actions",
    "POST",
    roles=PEOPLE,
    body=ActionBody,
    response=TicketOut,
    idempotent=True,
    summary="Act on a ticket (assign, resolve, ...); 422 when its status does not allow it",
    errors=(400, 403, 404, 409, 422),
)
def act(call: Call, ticket_id: str) -> dict[str, Any]:
    return lifecycle.apply_action(call.who, ticket_id, call.body, call.now)


@route(
    bp,
    "/tickets/{ticket_id}/comments",
    "POST",
    roles=PEOPLE,
    body=CommentBody,
    response=CommentOut,
    status=201,
    idempotent=True,
    summary="Comment on a ticket; an agent's public reply can meet first/next response",
    errors=(400, 403, 404, 409, 422),
)
def comment(call: Call, ticket_id: str) -> dict[str, Any]:
    return lifecycle.add_comment(call.who, ticket_id, call.body, call.now)
