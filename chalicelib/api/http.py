"""The one place where HTTP meets the services: authentication, body limits,
pydantic validation, idempotency, and typed errors -> the contract's error JSON.

Every route is declared with `route(...)`, which also records it for the
generated OpenAPI document (`chalicelib.api.openapi`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.domain.errors import DomainError
from chalicelib.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    SlaguardError,
)
from chalicelib.services.auth import Caller, authenticate

MAX_BODY_BYTES = 256 * 1024
JSON_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"]


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    roles: frozenset[str]
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]


REGISTRY: list[RouteSpec] = []


@dataclass
class Call:
    """What a route handler receives: the caller, the validated input, the time."""

    caller: Caller | None
    now: datetime
    body: Any = None
    query: Any = None
    raw_body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def validation_fields(e: ValidationError, prefix: str = "", root: str = "body") -> dict[str, str]:
    """Every bad field of a pydantic error, by dotted path (`root` for the whole input)."""
    fields: dict[str, str] = {}
    for err in e.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or root
        fields.setdefault(prefix + loc, err["msg"])
    return fields


def to_response(exc: SlaguardError | DomainError | ValidationError) -> Response:
    """Map a typed error to the contract's error shape (the only place that does)."""
    if isinstance(exc, SlaguardError):
        status, code, message, fields = exc.status, exc.code, exc.message, exc.fields
    elif isinstance(exc, DomainError):
        status, code, message, fields = exc.status, exc.code, str(exc), exc.fields
    else:
        fields = validation_fields(exc)
        status, code, message = 400, "invalid_request", "the request has invalid fields"
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if status in (429, 503):
        headers["Retry-After"] = "1"
    return Response(body=error_body(code, message, fields), status_code=status, headers=headers)


def _parse_json(raw: bytes) -> Any:
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES // 1024} KiB")
    if not raw.strip():
        raise BadRequest("a JSON body is required", {"body": "required"}, code="malformed_json")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise BadRequest(f"the body is not valid JSON: {e}", code="malformed_json") from e


def _validate(model: type[BaseModel], data: Any, what: str) -> BaseModel:
    if not isinstance(data, dict):
        raise BadRequest(f"the {what} must be a JSON object", {what: "must be an object"})
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise BadRequest(
            "the request has invalid fields",
            validation_fields(e, root=what),
            code="invalid_request",
        ) from e


def route(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    roles: set[str] | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    idempotent: bool = False,
    summary: str = "",
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare a route: `handler(call, **path_params)` returns a JSON-able value."""
    spec = RouteSpec(
        path=path,
        method=method,
        roles=frozenset(roles or ()),
        summary=summary,
        body=body,
        query=query,
        response=response,
        status=status,
        errors=errors,
    )
    REGISTRY.append(spec)

    def decorate(handler: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def view(**params: str) -> Response:
            try:
                return _handle(bp, spec, handler, params, idempotent)
            except (SlaguardError, DomainError, ValidationError) as e:
                return to_response(e)

        bp.route(path, methods=[method], content_types=JSON_TYPES)(view)
        return view

    return decorate


def _handle(
    bp: Blueprint,
    spec: RouteSpec,
    handler: Callable[..., Any],
    params: dict[str, str],
    idempotent: bool,
) -> Response:
    request = bp.current_request
    raw = request.raw_body or b""
    raw_bytes = raw if isinstance(raw, bytes) else raw.encode()
    if len(raw_bytes) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES // 1024} KiB")
    caller = None
    if spec.roles:
        caller = authenticate(request.headers.get("authorization"))
        if caller.role not in spec.roles:
            raise Forbidden(
                f"a {caller.role} key may not do this; allowed: {', '.join(sorted(spec.roles))}"
            )
    call = Call(caller=caller, now=utcnow(), raw_body=raw_bytes, headers=dict(request.headers))
    if spec.body is not None:
        call.body = _validate(spec.body, _parse_json(raw_bytes), "body")
    if spec.query is not None:
        call.query = _validate(spec.query, dict(request.query_params or {}), "query")

    def effect() -> dict[str, Any]:
        return {"status": spec.status, "body": handler(call, **params)}

    key = request.headers.get("idempotency-key")
    if idempotent and key is not None and caller is not None:
        from chalicelib.services.idempotency import run_once

        result = run_once(caller.key_id, key, raw_bytes, effect, bp.lambda_context)
    else:
        result = effect()
    return Response(
        body=result["body"],
        status_code=result["status"],
        headers={"Content-Type": "application/json"},
    )
