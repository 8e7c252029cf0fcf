"""Routes of a ticket's life: actions and comments (docs/api.md). Thin: each one
calls one service function."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib import commands
    from chalicelib.api import models
    from chalicelib.services import lifecycle
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    models = lazy_module("chalicelib.api.models")
    commands = lazy_module("chalicelib.commands")
    lifecycle = lazy_module("chalicelib.services.lifecycle")

bp = Blueprint(__name__)
PEOPLE = {"customer", "agent", "admin"}


@route(
    bp,
    "/tickets/{ticket_id}/actions",
    "POST",
    roles=PEOPLE,
    body=lambda: commands.ActionBody,
    response=lambda: models.TicketOut,
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
    body=lambda: commands.CommentBody,
    response=lambda: models.CommentOut,
    status=201,
    idempotent=True,
    summary="Comment on a ticket; an agent's public reply can meet first/next response",
    errors=(400, 403, 404, 409, 422),
)
def comment(call: Call, ticket_id: str) -> dict[str, Any]:
    return lifecycle.add_comment(call.who, ticket_id, call.body, call.now)
