"""The OpenAPI 3.1 document, generated from the routes' own pydantic models."""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api import examples
from chalicelib.api.http import REGISTRY, RouteSpec

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}
ERROR_TEXT = {
    400: "Malformed or invalid input; `fields` names every bad field",
    401: "No or bad credentials",
    403: "Authenticated, not allowed",
    404: "Not found (or another tenant's)",
    409: "State conflict, concurrent update or reused Idempotency-Key",
    413: "Body over 256 KiB",
    415: "Unsupported media type",
    422: "Valid JSON, refused by a rule",
    503: "AWS throttled the request; retry after `Retry-After` seconds",
}
SUCCESS_TEXT = {202: "Accepted: an event slaguard does not use, recorded"}

INTRODUCTION = """\
slaguard is a multi-tenant support-ticket and SLA engine. Customers open and follow
tickets; the provider's agents act on them; every ticket carries its SLA targets,
computed on the tenant's business calendar from its policy, and a breach checker
publishes warnings, breaches and escalations every minute.

**Keys.** Send `Authorization: Bearer <api key>` (*Authorize* above). A key belongs
to one tenant and one role: `customer` keys see their own tenant's tickets, `agent`
and `admin` keys belong to the provider and act on every customer.

**Errors** always have one shape, `{"error": {"code", "message", "fields"}}`, where
`fields` names every bad field at once. Every `POST` takes an optional
`Idempotency-Key` header: a retry answers the first response again.
Lists take `?limit=` and the opaque `?cursor=` and answer `{"items", "next_cursor"}`.
"""
# Route groups, by path prefix (first match); a route of no group is tagged by
# its first path segment.
TAGS = (
    ("tickets", "Open, read and list tickets; act on them and comment", ("/tickets",)),
    ("reports", "SLA achievement and charges over a period", ("/reports",)),
    ("tenants and keys", "Customer tenants and their API keys (admin)", ("/admin/tenants",)),
    ("policies", "SLA policies as data, versioned (admin)", ("/admin/policies",)),
    (
        "partners",
        "Partner helpdesks: registration, secrets, their signed webhooks",
        ("/admin/partners", "/webhooks"),
    ),
    ("service", "Liveness and this document", ("/health", "/openapi.json")),
)


def _models() -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {}
    for spec in REGISTRY:
        for model in (spec.body, spec.query, spec.response):
            if model is not None:
                seen[model.__name__] = model
    return list(seen.values())


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _with_example(param: dict[str, Any], path: str) -> dict[str, Any]:
    if (path, param["name"]) in examples.PATH_PARAMETERS:
        param["example"] = examples.PATH_PARAMETERS[(path, param["name"])]
    elif param["name"] in examples.PARAMETERS:
        param["example"] = examples.PARAMETERS[param["name"]]
    return param


def _json(schema: dict[str, Any], named: examples.Examples) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if named:
        media["examples"] = named
    return {"application/json": media}


def tag(path: str) -> str:
    """The route group an operation is listed under on /docs."""
    for name, _, prefixes in TAGS:
        if path.startswith(prefixes):
            return name
    return path.strip("/").split("/", 1)[0]


def _operation(spec: RouteSpec, refs: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": spec.summary,
        "operationId": _operation_id(spec),
        "tags": [tag(spec.path)],
    }
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", spec.path)
    ]
    if spec.query is not None:
        params += _query_parameters(spec.query)
    if spec.body is not None and spec.method == "POST":
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )
    if params:
        op["parameters"] = [_with_example(p, spec.path) for p in params]
    if spec.body is not None:
        op["requestBody"] = {
            "required": not spec.body_optional,
            "content": _json(
                refs[spec.body.__name__], examples.request_examples(spec.method, spec.path)
            ),
        }
    elif spec.raw_json:
        op["requestBody"] = {
            "required": True,
            "content": _json({"type": "object"}, examples.request_examples(spec.method, spec.path)),
        }
    ok: dict[str, Any] = {"description": "OK"}
    schema = refs[spec.response.__name__] if spec.response is not None else {"type": "object"}
    ok["content"] = _json(schema, examples.response_examples(spec.method, spec.path, spec.status))
    responses: dict[str, Any] = {str(spec.status): ok}
    for status in spec.also:
        responses[str(status)] = {
            "description": SUCCESS_TEXT.get(status, "OK"),
            "content": _json(schema, examples.response_examples(spec.method, spec.path, status)),
        }
    codes = set(spec.errors)
    if spec.roles:
        op["security"] = [{"apiKey": []}]
        codes |= {401, 403, 503}
    if spec.body is not None or spec.raw_json:
        codes |= {400, 413, 415}
    if spec.query is not None:
        codes |= {400}
    for code in sorted(codes):
        responses[str(code)] = {
            "description": ERROR_TEXT.get(code, "Error"),
            "content": _json({"$ref": "#/components/schemas/Error"}, examples.ERRORS.get(code, {})),
        }
    op["responses"] = responses
    return op


def _operation_id(spec: RouteSpec) -> str:
    words = re.sub(r"[{}]", "", spec.path).strip("/").replace("/", "_").replace(".", "_")
    return f"{spec.method.lower()}_{words or 'root'}"


@functools.cache
def document() -> dict[str, Any]:
    models = _models()
    refs_by_key, defs = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    refs = {m.__name__: refs_by_key[(m, "validation")] for m in models}
    schemas = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, Any] = {}
    for spec in REGISTRY:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)
    used = {tag(spec.path) for spec in REGISTRY}
    tags = [{"name": n, "description": d} for n, d, _ in TAGS if n in used]
    tags += [{"name": n} for n in sorted(used - {t["name"] for t in tags})]
    return {
        "openapi": "3.1.0",
        "info": {"title": "slaguard", "version": "1", "description": INTRODUCTION},
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    }
