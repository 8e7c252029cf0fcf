"""Liveness and the generated OpenAPI document."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.api.models import Health

bp = Blueprint(__name__)


@route(bp, "/health", "GET", response=Health, summary="Liveness, no auth")
def health(call: Call) -> dict[str, Any]:
    return {"status": "ok"}


@route(bp, "/openapi.json", "GET", summary="This OpenAPI 3 document")
def openapi(call: Call) -> dict[str, Any]:
    # Deferred for cold start: the JSON Schema generator is needed only here.
    from chalicelib.api.openapi import document

    return document()
