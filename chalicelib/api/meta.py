"""Liveness and the generated OpenAPI document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib.api import models
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    models = lazy_module("chalicelib.api.models")

bp = Blueprint(__name__)


@route(bp, "/health", "GET", response=lambda: models.Health, summary="Liveness, no auth")
def health(call: Call) -> dict[str, Any]:
    return {"status": "ok"}


@route(bp, "/openapi.json", "GET", summary="This OpenAPI 3 document")
def openapi(call: Call) -> dict[str, Any]:
    # Deferred for cold start: the JSON Schema generator is needed only here.
    from chalicelib.api.openapi import document

    return document()
