"""The agents' queue (docs/queue.md): thin, it calls one service function."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib import commands
    from chalicelib.api import models
    from chalicelib.services import queue
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    models = lazy_module("chalicelib.api.models")
    commands = lazy_module("chalicelib.commands")
    queue = lazy_module("chalicelib.services.queue")

bp = Blueprint(__name__)


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
