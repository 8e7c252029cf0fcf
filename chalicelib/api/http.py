"""The one place where HTTP meets the services: authentication, body limits,
pydantic validation, idempotency, and typed errors -> the contract's error JSON.

Every route is declared with `route(...)`, which also records it for the
generated OpenAPI document (`chalicelib.api.openapi`).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from chalice.app import Blueprint, Response
from pydantic import BaseModel, ValidationError
from pynamodb.exceptions import PynamoDBException

from chalicelib.domain.errors import DomainError
from chalicelib.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    SlaguardError,
    Unauthorized,
    Unavailable,
)
from chalicelib.services.auth import Caller, authenticate

MAX_BODY_BYTES = 256 * 1024
JSON_TYPES = [
    "application/json",
    "application/merge-patch+json",  # RFC 7386, the tenant PATCH
    "text/plain",
    "application/x-www-form-urlencoded",
]
# What DynamoDB can store (a body we could not store is a client error, not a 500).
MAX_JSON_DEPTH = 32
MAX_DIGITS = 38
MIN_MAGNITUDE, MAX_MAGNITUDE = Decimal("1E-130"), Decimal("1E126")
# Routes whose service names each bad number by path, with its own stricter limits
# (services.policies._storage_problems): the numbers reach it as parsed.
NUMBERS_CHECKED_BY_SERVICE = {("PUT", "/admin/policies/{policy_id}")}


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
    # Other success statuses a handler may answer with a `Reply` (documented too).
    also: tuple[int, ...] = ()
    # The body may be left out (then `call.body` is None).
    body_optional: bool = False
    # A JSON body the handler reads itself from `call.raw_body` (webhooks: the
    # signature is checked over the raw bytes before anything parses them).
    raw_json: bool = False


@dataclass(frozen=True)
class Reply:
    """A handler's answer with a status of its own (one of the route's `also`)."""

    status: int
    body: Any


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


class _BadNumber:
    """A JSON number DynamoDB cannot store, kept in place of its value while
    parsing so that the check after it can name where it was."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _number(literal: str, value: int | float) -> int | float | _BadNumber:
    """A JSON number as DynamoDB can hold it: finite, at most MAX_DIGITS
    significant digits, a magnitude in its range (or zero); else a _BadNumber."""
    mantissa = literal.lstrip("-").split("e")[0].split("E")[0].replace(".", "")
    if len(mantissa.strip("0")) > MAX_DIGITS:
        return _BadNumber(f"more than {MAX_DIGITS} significant digits")
    if isinstance(value, float) and not math.isfinite(value):
        return _BadNumber("must be a finite number")
    magnitude = abs(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    if magnitude and not MIN_MAGNITUDE <= magnitude < MAX_MAGNITUDE:
        return _BadNumber("out of range (1E-130 to 1E126)")
    return value


def _parse_int(literal: str) -> int | float | _BadNumber:
    if len(literal.lstrip("-")) > 127:  # at least 1E127 (no leading zeros in JSON)
        return _BadNumber("out of range (1E-130 to 1E126)")  # and no huge int() below
    return _number(literal, int(literal))


def _parse_float(literal: str) -> int | float | _BadNumber:
    return _number(literal, float(literal))


def _no_constant(name: str) -> _BadNumber:
    return _BadNumber(f"{name} is not a JSON number")


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _storage_problems(value: Any, limit: int = 20) -> dict[str, str]:
    """What DynamoDB could not store, by path (at most `limit` of them): numbers
    parsed as _BadNumber, strings and keys that are not valid UTF-8 (a lone
    surrogate), containers nested over MAX_JSON_DEPTH. Iterative: no recursion."""
    problems: dict[str, str] = {}
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack and len(problems) < limit:
        item, path, depth = stack.pop()
        where = path or "body"
        if isinstance(item, _BadNumber):
            problems[where] = item.reason
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                problems[where] = "not valid UTF-8 (a lone surrogate)"
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                problems[where] = f"nested more than {MAX_JSON_DEPTH} levels deep"
                continue
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for name, child in reversed(list(pairs)):
                shown = _printable(str(name))
                child_path = f"{path}.{shown}" if path else shown
                if isinstance(name, str) and shown != name and len(problems) < limit:
                    problems[child_path] = "the key is not valid UTF-8 (a lone surrogate)"
                stack.append((child, child_path, depth + 1))
    return problems


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


def _parse_json(raw: bytes, *, numbers_checked_by_service: bool = False) -> Any:
    """The body as JSON that DynamoDB can store: anything else is a 400 naming each
    bad value by path. `numbers_checked_by_service` leaves non-finite and
    out-of-range numbers to a service that names them with stricter limits."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES // 1024} KiB")
    if not raw.strip():
        raise BadRequest("a JSON body is required", {"body": "required"}, code="malformed_json")
    hooks: dict[str, Any] = (
        {}
        if numbers_checked_by_service
        else {"parse_constant": _no_constant, "parse_int": _parse_int, "parse_float": _parse_float}
    )
    try:
        data = json.loads(raw, **hooks)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise BadRequest(f"the body is not valid JSON: {e}", code="malformed_json") from e
    problems = _storage_problems(data)
    if problems:
        raise BadRequest(
            "the body has values that cannot be stored "
            "(non-finite or out-of-range numbers, invalid UTF-8, too deep)",
            problems,
            code="invalid_request",
        )
    return data


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
    also: tuple[int, ...] = (),
    body_optional: bool = False,
    raw_json: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare a route: `handler(call, **path_params)` returns a JSON-able value
    (or a `Reply` with one of the `also` statuses)."""
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
        also=also,
        body_optional=body_optional,
        raw_json=raw_json,
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
    if spec.body is not None and not (spec.body_optional and not raw_bytes.strip()):
        parsed = _parse_json(
            raw_bytes,
            numbers_checked_by_service=(spec.method, spec.path) in NUMBERS_CHECKED_BY_SERVICE,
        )
        call.body = _validate(spec.body, parsed, "body")
    if spec.query is not None:
        call.query = _validate(spec.query, dict(request.query_params or {}), "query")

    def effect() -> dict[str, Any]:
        answer = handler(call, **params)
        if isinstance(answer, Reply):
            return {"status": answer.status, "body": answer.body}
        return {"status": spec.status, "body": answer}

    key = request.headers.get("idempotency-key")
    if idempotent and key is not None and caller is not None:
        from chalicelib.services.idempotency import run_once

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
