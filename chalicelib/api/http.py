"""The one place where HTTP meets the services: authentication, body limits,
pydantic validation, idempotency, and typed errors -> the contract's error JSON.

Every route is declared with `route(...)`, which also records it for the
generated OpenAPI document (`chalicelib.api.openapi`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from chalice.app import Blueprint, Response
from pydantic import BaseModel, ValidationError
from pynamodb.exceptions import PynamoDBException

from chalicelib import storable
from chalicelib.domain.errors import DomainError, validation_fields
from chalicelib.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    SlaguardError,
    Unauthorized,
    Unavailable,
)
from chalicelib.services.auth import Caller, authenticate
from chalicelib.services.idempotency import run_once

MAX_BODY_BYTES = 256 * 1024
# A service function naming the bad fields of a body that failed its shape check
# which only the service can judge (the policy's kinds, priorities, intake fields).
MoreErrors = Callable[[Caller, dict[str, Any]], dict[str, str]]
JSON_TYPES = [
    "application/json",
    "application/merge-patch+json",  # RFC 7386, the tenant PATCH
    "text/plain",
    "application/x-www-form-urlencoded",
]
# Routes whose service checks what DynamoDB can store itself (`chalicelib.storable`),
# so that one 400 names those values and its own validation errors together.
STORAGE_CHECKED_BY_SERVICE = {("PUT", "/admin/policies/{policy_id}")}


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
    more_errors: MoreErrors | None = None


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

    @property
    def who(self) -> Caller:
        """The authenticated caller (routes declared with roles always have one)."""
        if self.caller is None:
            raise Unauthorized("an Authorization: Bearer <api key> header is required")
        return self.caller


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    """The contract's error JSON; `fields` is always there (empty when no field is
    to blame) so clients read one shape."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


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


THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
        "TransactionInProgressException",
    }
)


def _throttled(e: PynamoDBException | ClientError) -> bool:
    if isinstance(e, PynamoDBException):
        return e.cause_response_code in THROTTLING
    return e.response.get("Error", {}).get("Code") in THROTTLING


def _parse_json(raw: bytes, *, storage_checked_by_service: bool = False) -> Any:
    """The body as JSON that DynamoDB can store (`chalicelib.storable`): anything
    else is a 400 naming each bad value by path. `storage_checked_by_service`
    leaves that check to a service that reports it with its own validation."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES // 1024} KiB")
    if not raw.strip():
        raise BadRequest("a JSON body is required", {"body": "required"}, code="malformed_json")
    try:
        data = json.loads(raw) if storage_checked_by_service else storable.parse_json(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise BadRequest(f"the body is not valid JSON: {e}", code="malformed_json") from e
    problems = {} if storage_checked_by_service else storable.problems(data)
    if problems:
        raise BadRequest(
            "the body has values that cannot be stored "
            "(non-finite or out-of-range numbers, invalid UTF-8, too deep)",
            problems,
            code="invalid_request",
        )
    return data


def _validate(
    model: type[BaseModel],
    data: Any,
    what: str,
    *,
    more: MoreErrors | None = None,
    caller: Caller | None = None,
) -> BaseModel:
    """The input as `model`, or one 400 naming every bad field: the shape's, and
    (for a body declared with `more_errors`) the service's own on the same body."""
    if not isinstance(data, dict):
        raise BadRequest(f"the {what} must be a JSON object", {what: "must be an object"})
    try:
        return model.model_validate(data)
    except ValidationError as e:
        fields = validation_fields(e, root=what)
        if more is not None and caller is not None:
            fields = {**more(caller, data), **fields}  # the shape's message wins on a field
        raise BadRequest("the request has invalid fields", fields, code="invalid_request") from e


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
    more_errors: MoreErrors | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare a route: `handler(call, **path_params)` returns a JSON-able value.
    `more_errors(caller, body)` adds the service's own checks to a body's 400."""
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
        more_errors=more_errors,
    )
    REGISTRY.append(spec)

    def decorate(handler: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def view(**params: str) -> Response:
            try:
                return _handle(bp, spec, handler, params, idempotent)
            except (SlaguardError, DomainError, ValidationError) as e:
                return to_response(e)
            except (PynamoDBException, ClientError) as e:
                if _throttled(e):  # DynamoDB or SNS said "slow down": 503, not 500
                    return to_response(Unavailable("the service is busy; retry shortly"))
                raise

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
            allowed = " or ".join(sorted(spec.roles))
            raise Forbidden(f"this needs a key of role {allowed}; this one is {caller.role}")
    call = Call(caller=caller, now=utcnow(), raw_body=raw_bytes, headers=dict(request.headers))
    if spec.body is not None:
        parsed = _parse_json(
            raw_bytes,
            storage_checked_by_service=(spec.method, spec.path) in STORAGE_CHECKED_BY_SERVICE,
        )
        call.body = _validate(spec.body, parsed, "body", more=spec.more_errors, caller=caller)
    if spec.query is not None:
        call.query = _validate(spec.query, dict(request.query_params or {}), "query")

    def effect() -> dict[str, Any]:
        return {"status": spec.status, "body": handler(call, **params)}

    key = request.headers.get("idempotency-key")
    if idempotent and key is not None and caller is not None:
        # The same key on another route or resource is another request; the body is
        # compared as JSON, so whitespace or key order do not make it "another body".
        scope = f"{spec.method} {spec.path} {json.dumps(params, sort_keys=True)}"
        body = json.dumps(
            call.body.model_dump(mode="json") if call.body else None,
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        result = run_once(caller.key_id, key, scope, body, effect, bp.lambda_context)
    else:
        result = effect()
    return Response(
        body=result["body"],
        status_code=result["status"],
        headers={"Content-Type": "application/json"},
    )


def contract_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: the errors Chalice itself answers before any route runs
    (405 method not allowed, 415 unsupported media type, `{"Code", "Message"}`)
    take the contract's shape too."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = re.sub(r"(?<!^)(?=[A-Z])", "_", str(body["Code"])).lower()
        response.body = error_body(code, str(body["Message"]))
    return response
