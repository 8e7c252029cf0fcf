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
from typing import TYPE_CHECKING, Any, TypeAlias

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from chalice.app import Blueprint, Response
from pydantic_core import ValidationError  # pydantic's own; `pydantic.main` is not loaded
from pynamodb.exceptions import PynamoDBException

from chalicelib import aws, storable
from chalicelib.domain.errors import DomainError, validation_fields
from chalicelib.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    SlaguardError,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chalicelib import commands
    from chalicelib.services import auth, idempotency
    from chalicelib.services.auth import Caller

    # A route names its models by a function returning the class (`lambda: models.X`),
    # so that declaring it builds no pydantic model; a class itself is taken too.
    ModelRef: TypeAlias = type[BaseModel] | Callable[[], type[BaseModel]]
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    commands = lazy_module("chalicelib.commands")
    auth = lazy_module("chalicelib.services.auth")
    idempotency = lazy_module("chalicelib.services.idempotency")

logger = Logger(service="slaguard")  # shares app.py's formatter: its correlation id

MAX_BODY_BYTES = 256 * 1024
# A service function naming the bad fields of a body that failed its shape check
# which only the service can judge (the policy's kinds, priorities, intake fields).
MoreErrors: TypeAlias = "Callable[[Caller, dict[str, Any]], dict[str, str]]"
# A body is JSON when its media type is application/json or any `+json` one
# (RFC 6839; e.g. application/merge-patch+json, RFC 7386, the tenant PATCH), in
# UTF-8. Chalice is told to accept every type so that this check, not Chalice's,
# answers 415, in the contract's error shape and with a message that helps.
JSON_MEDIA_TYPE = re.compile(r"^application/(?:json|[a-z0-9!#$&^_.-]+\+json)$")
# Headers on every response; routes that return a secret add NO_STORE.
ALWAYS_HEADERS = {"X-Content-Type-Options": "nosniff"}
NO_STORE = {"Cache-Control": "no-store"}
# Routes whose service checks what DynamoDB can store itself (`chalicelib.storable`),
# so that one 400 names those values and its own validation errors together.
STORAGE_CHECKED_BY_SERVICE = {("PUT", "/admin/policies/{policy_id}")}


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    roles: frozenset[str]
    summary: str
    body_ref: ModelRef | None
    query_ref: ModelRef | None
    response_ref: ModelRef | None
    status: int
    errors: tuple[int, ...]
    # Response fields holding a secret shown once (a clear API key): never stored
    # with an Idempotency-Key record, and the response is `Cache-Control: no-store`.
    secrets: tuple[str, ...] = ()
    more_errors: MoreErrors | None = None
    # Other success statuses a handler may answer with a `Reply` (documented too).
    also: tuple[int, ...] = ()
    # The body may be left out (then `call.body` is None).
    body_optional: bool = False
    # A JSON body the handler reads itself from `call.raw_body` (webhooks: the
    # signature is checked over the raw bytes before anything parses them).
    raw_json: bool = False

    @property
    def body(self) -> type[BaseModel] | None:
        return _resolve(self.body_ref)

    @property
    def query(self) -> type[BaseModel] | None:
        return _resolve(self.query_ref)

    @property
    def response(self) -> type[BaseModel] | None:
        return _resolve(self.response_ref)


@dataclass(frozen=True)
class Reply:
    """A handler's answer with a status of its own (one of the route's `also`)."""

    status: int
    body: Any


def _resolve(ref: ModelRef | None) -> type[BaseModel] | None:
    if ref is None or isinstance(ref, type):
        return ref
    return ref()


REGISTRY: list[RouteSpec] = []


@dataclass
class Call:
    """What a route handler receives: the caller, the validated input, the time."""

    caller: Caller | None
    now: datetime
    body: Any = None
    query: Any = None
    raw_body: bytes = b""
    # The request headers, for a route that reads a raw, signed body (`raw_json`)
    # only: other routes never carry them (nor the bearer key) around.
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


def _parse_json(raw: bytes, *, storage_checked_by_service: bool = False) -> Any:
    """The body as JSON that DynamoDB can store (`chalicelib.storable`): anything
    else is a 400 naming each bad value by path. `storage_checked_by_service`
    leaves that check to a service that reports it with its own validation."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is over {MAX_BODY_BYTES // 1024} KiB")
    if not raw.strip():
        raise BadRequest("a JSON body is required", {"body": "required"}, code="malformed_json")
    text = _utf8_text(raw)
    try:
        data = json.loads(text) if storage_checked_by_service else storable.parse_json(text)
    except (ValueError, RecursionError) as e:
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
    strict: bool = False,
    more: MoreErrors | None = None,
    caller: Caller | None = None,
) -> BaseModel:
    """The input as `model`, or one 400 naming every bad field: the shape's, and
    (for a body declared with `more_errors`) the service's own on the same body."""
    if not isinstance(data, dict):
        raise BadRequest(f"the {what} must be a JSON object", {what: "must be an object"})
    try:
        # Bodies are JSON and strict; a query string is text, read laxly ("limit=5").
        return commands.validate_json(model, data) if strict else model.model_validate(data)
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
    body: ModelRef | None = None,
    query: ModelRef | None = None,
    response: ModelRef | None = None,
    status: int = 200,
    idempotent: bool = False,
    summary: str = "",
    errors: tuple[int, ...] = (),
    also: tuple[int, ...] = (),
    body_optional: bool = False,
    raw_json: bool = False,
    secrets: tuple[str, ...] = (),
    more_errors: MoreErrors | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare a route: `handler(call, **path_params)` returns a JSON-able value
    (None for a 204; a `Reply` for one of the `also` statuses). `secrets` names
    response fields shown once (see RouteSpec); `more_errors(caller, body)` adds the
    service's own checks to a body's 400."""
    spec = RouteSpec(
        path=path,
        method=method,
        roles=frozenset(roles or ()),
        summary=summary,
        body_ref=body,
        query_ref=query,
        response_ref=response,
        status=status,
        errors=errors,
        also=also,
        body_optional=body_optional,
        raw_json=raw_json,
        secrets=secrets,
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
                if aws.throttled(e):  # DynamoDB or SNS said "slow down": 503, not 500
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
        caller = auth.authenticate(request.headers.get("authorization"))
        # on the request's log line (contract_errors): who called, never the key itself
        logger.append_keys(key_id=caller.key_id, tenant_id=caller.tenant_id)
        if caller.role not in spec.roles:
            allowed = " or ".join(sorted(spec.roles))
            raise Forbidden(f"this needs a key of role {allowed}; this one is {caller.role}")
    call = Call(caller=caller, now=utcnow(), raw_body=raw_bytes)
    if spec.raw_json:  # a signed delivery: its signature headers (no API key here)
        # JSON by its Content-Type (else 415) and UTF-8 (else 400) before the service
        # checks the signature: no format signs anything else, and the Standard
        # Webhooks library can only verify text.
        check_media_type(request.headers.get("content-type"), raw_bytes)
        if raw_bytes:
            _utf8_text(raw_bytes)
        call.headers = dict(request.headers)
    if spec.body is not None and not (spec.body_optional and not raw_bytes.strip()):
        check_media_type(request.headers.get("content-type"), raw_bytes)
        by_service = (spec.method, spec.path) in STORAGE_CHECKED_BY_SERVICE
        parsed = _parse_json(raw_bytes, storage_checked_by_service=by_service)
        # (a policy document may still hold NaN there, which strict JSON cannot carry;
        # its service validates the whole document itself)
        call.body = _validate(
            spec.body,
            parsed,
            "body",
            strict=not by_service,
            more=spec.more_errors,
            caller=caller,
        )
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
        # The same key on another route or resource is another request; the body is
        # compared as JSON, so whitespace or key order do not make it "another body".
        scope = f"{spec.method} {spec.path} {json.dumps(params, sort_keys=True)}"
        compared = json.dumps(
            call.body.model_dump(mode="json") if call.body else None,
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        result = idempotency.run_once(
            caller.key_id, key, scope, compared, effect, bp.lambda_context
        )
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
    # One line per request: with API Gateway's access log (same request id, the
    # `correlation_id`) it tells who called (docs/operations.md, Logs).
    logger.info(
        "request",
        method=event.method,
        route=(event.context or {}).get("resourcePath"),
        status=response.status_code,
    )
    response.headers.update(ALWAYS_HEADERS)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = re.sub(r"(?<!^)(?=[A-Z])", "_", str(body["Code"])).lower()
        response.body = error_body(code, str(body["Message"]))
    return response
