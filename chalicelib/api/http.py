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
    UnsupportedMediaType,
)
from chalicelib.services.auth import Caller, authenticate

MAX_BODY_BYTES = 256 * 1024
# A body is JSON when its media type is application/json or any `+json` one
# (RFC 6839; e.g. application/merge-patch+json, RFC 7386, the tenant PATCH), in
# UTF-8. Chalice is told to accept every type so that this check, not Chalice's,
# answers 415, in the contract's error shape and with a message that helps.
JSON_MEDIA_TYPE = re.compile(r"^application/(?:json|[a-z0-9!#$&^_.-]+\+json)$")
# Headers on every response; routes that return a secret add NO_STORE.
ALWAYS_HEADERS = {"X-Content-Type-Options": "nosniff"}
NO_STORE = {"Cache-Control": "no-store"}
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
    # Response fields holding a secret shown once (a clear API key): never stored
    # with an Idempotency-Key record, and the response is `Cache-Control: no-store`.
    secrets: tuple[str, ...] = ()
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
        # A dict key's own error ends in "[key]": the field is named by the key itself.
        parts = [str(p) for p in err["loc"] if p != "[key]"]
        loc = ".".join(parts) or root
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
    surrogate) and empty keys (a stored map with one could not be read back),
    containers nested over MAX_JSON_DEPTH. Iterative: no recursion."""
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
                elif name == "" and len(problems) < limit:  # DynamoDB keeps no empty map key
                    problems[child_path] = "an empty name: every key must have 1 character or more"
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


def check_media_type(content_type: str | None, raw: bytes) -> None:
    """A body must be declared JSON (application/json or `+json`), in UTF-8: else
    415. No Content-Type at all with a body is a 415 too (never guessed)."""
    if content_type is None or not content_type.strip():
        if raw:
            raise UnsupportedMediaType(
                "a body needs Content-Type: application/json",
                {"Content-Type": "required with a body: application/json"},
            )
        return
    media, _, parameters = content_type.partition(";")
    if not JSON_MEDIA_TYPE.match(media.strip().lower()):
        raise UnsupportedMediaType(
            f"the body must be application/json (or a +json type), not {media.strip()[:100]}",
            {"Content-Type": "application/json"},
        )
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            raise UnsupportedMediaType(
                "JSON bodies are UTF-8 only", {"Content-Type": "charset must be utf-8"}
            )


def _utf8_text(raw: bytes) -> str:
    """The body as UTF-8 text: no byte order mark, no UTF-16/32 (RFC 8259 8.1)."""
    if raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        raise BadRequest(
            "the body starts with a byte order mark: send UTF-8 without one",
            {"body": "UTF-8 without a byte order mark"},
            code="malformed_json",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(
            "the body is not UTF-8", {"body": "must be UTF-8"}, code="malformed_json"
        ) from e


def _parse_json(raw: bytes, *, numbers_checked_by_service: bool = False) -> Any:
    """The body as JSON that DynamoDB can store: anything else is a 400 naming each
    bad value by path. `numbers_checked_by_service` leaves non-finite and
    out-of-range numbers to a service that names them with stricter limits."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES // 1024} KiB")
    if not raw.strip():
        raise BadRequest("a JSON body is required", {"body": "required"}, code="malformed_json")
    text = _utf8_text(raw)
    hooks: dict[str, Any] = (
        {}
        if numbers_checked_by_service
        else {"parse_constant": _no_constant, "parse_int": _parse_int, "parse_float": _parse_float}
    )
    try:
        data = json.loads(text, **hooks)
    except (ValueError, RecursionError) as e:
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


def strict_body(model: type[BaseModel], data: Any) -> Any:
    """Validate parsed JSON strictly, as JSON: a number, boolean or string is taken
    as it was sent (`true` or `"1"` is not a number of minutes), while RFC 3339
    strings still make instants and arrays tuples."""
    return model.model_validate_json(json.dumps(data), strict=True)


def _validate(model: type[BaseModel], data: Any, what: str, *, strict: bool = False) -> BaseModel:
    if not isinstance(data, dict):
        raise BadRequest(f"the {what} must be a JSON object", {what: "must be an object"})
    try:
        # Bodies are JSON and strict; a query string is text, read laxly ("limit=5").
        return strict_body(model, data) if strict else model.model_validate(data)
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
    secrets: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare a route: `handler(call, **path_params)` returns a JSON-able value
    (None for a 204; a `Reply` for one of the `also` statuses). `secrets` names
    response fields shown once (see RouteSpec)."""
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
        secrets=secrets,
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

        bp.route(path, methods=[method], content_types=["*/*"])(view)  # see JSON_MEDIA_TYPE
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
        check_media_type(request.headers.get("content-type"), raw_bytes)
        by_service = (spec.method, spec.path) in NUMBERS_CHECKED_BY_SERVICE
        parsed = _parse_json(raw_bytes, numbers_checked_by_service=by_service)
        # (a policy document may still hold NaN there, which strict JSON cannot carry;
        # its service validates the whole document itself)
        call.body = _validate(spec.body, parsed, "body", strict=not by_service)
    if spec.query is not None:
        call.query = _validate(spec.query, dict(request.query_params or {}), "query")

    shown_once: dict[str, Any] = {}

    def effect() -> dict[str, Any]:
        answer = handler(call, **params)
        status, body = (
            (answer.status, answer.body) if isinstance(answer, Reply) else (spec.status, answer)
        )
        if spec.secrets and isinstance(body, dict):
            # What run_once stores (and a replay answers) holds null in their place.
            shown_once.update({name: body[name] for name in spec.secrets if name in body})
            body = {**body, **dict.fromkeys(shown_once)}
        return {"status": status, "body": body}

    key = request.headers.get("idempotency-key")
    if idempotent and key is not None and caller is not None:
        from chalicelib.services.idempotency import run_once

        # The same key on another route or resource is another request; the body is
        # compared as JSON, so whitespace or key order do not make it "another body".
        scope = f"{spec.method} {spec.path} {json.dumps(params, sort_keys=True)}"
        compared = json.dumps(
            call.body.model_dump(mode="json") if call.body else None,
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        result = run_once(caller.key_id, key, scope, compared, effect, bp.lambda_context)
    else:
        result = effect()
    body = result["body"]
    if shown_once:  # this request ran the effect: the secret is shown this once
        body = {**body, **shown_once}
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if spec.secrets:
        headers.update(NO_STORE)
    if result["status"] == 204:  # no content: not even "null"
        return Response(body="", status_code=204, headers={})
    return Response(body=body, status_code=result["status"], headers=headers)


def contract_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: the errors Chalice itself answers before any route runs
    (405 method not allowed, `{"Code", "Message"}`) take the contract's shape too,
    and every response carries ALWAYS_HEADERS."""
    response = get_response(event)
    response.headers.update(ALWAYS_HEADERS)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = re.sub(r"(?<!^)(?=[A-Z])", "_", str(body["Code"])).lower()
        response.body = error_body(code, str(body["Message"]))
    return response
