"""A customer sees only its own tenant, on every route (docs/api.md, Conventions):
another tenant's ticket answers 404 exactly like a missing one; naming another
tenant is 403; a route customers may not use is 403. The walk covers every route
the app declares, so a new route is checked (or must be classified here)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.api.http import REGISTRY, RouteSpec
from tests.integration.helpers import INCIDENT, Api, Customer

MISSING_TICKET = "tkt_01JZZZZZZZZZZZZZZZZZZZZZZZ"

# Valid bodies for the routes a customer may POST to, so that the request gets
# past validation to the tenant check (a new one must be added here).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/tickets"): dict(INCIDENT),
    ("POST", "/tickets/{ticket_id}/actions"): {"action": "close"},
    ("POST", "/tickets/{ticket_id}/comments"): {"body": "hello"},
    ("POST", "/proposals"): {"title": "Idea", "description": "More"},
    ("POST", "/proposals/{proposal_id}/subscriptions"): {},
}

SAMPLE_BY_FORMAT = {"date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01"}


def _sample(schema: dict[str, Any]) -> Any:
    options = schema.get("anyOf", [schema])
    first = next(o for o in options if o.get("type") != "null")
    if first.get("format") in SAMPLE_BY_FORMAT:
        return SAMPLE_BY_FORMAT[first["format"]]
    return {"integer": 1, "boolean": "true"}.get(first.get("type", ""), "x")


def _query(spec: RouteSpec, tenant_id: str) -> str:
    """A valid query naming `tenant_id` when the route takes one."""
    if spec.query is None:
        return ""
    schema = spec.query.model_json_schema(by_alias=True)
    values = {
        name: _sample(prop)
        for name, prop in schema.get("properties", {}).items()
        if name in schema.get("required", [])
    }
    if "tenant_id" in schema.get("properties", {}):
        values["tenant_id"] = tenant_id
    return "?" + urlencode(values) if values else ""


@pytest.fixture
def alice_and_bob(api: Api, new_customer: Any) -> tuple[Customer, Customer, dict[str, Any]]:
    alice, bob = new_customer(), new_customer()
    status, ticket = api.post("/tickets", alice.key, INCIDENT)
    assert status == 201, ticket
    return alice, bob, ticket


def test_every_route_keeps_a_customer_in_its_own_tenant(
    api: Api, alice_and_bob: tuple[Customer, Customer, dict[str, Any]]
) -> None:
    alice, bob, ticket = alice_and_bob
    walked = 0
    for spec in REGISTRY:
        if not spec.roles:
            continue  # public (health, openapi) or signed (webhooks): no tenant key
        params = re.findall(r"{(\w+)}", spec.path)
        path = spec.path.replace("{ticket_id}", ticket["id"])
        for name in params:
            path = path.replace(f"{{{name}}}", alice.tenant_id if "tenant" in name else "x")
        path += _query(spec, alice.tenant_id)
        body = None
        if spec.body is not None:
            if "customer" in spec.roles:
                assert (spec.method, spec.path) in BODIES, f"add a valid body for {spec.path}"
            body = dict(BODIES.get((spec.method, spec.path), {}))
            if "tenant_id" in spec.body.model_fields:
                body["tenant_id"] = alice.tenant_id
        status, answer = api.call(spec.method, path, bob.key, body)
        label = f"{spec.method} {path}"
        walked += 1

        if "customer" not in spec.roles:
            assert status == 403, (label, answer)  # not a customer's route at all
        elif "ticket_id" in params:
            missing = api.call(
                spec.method, path.replace(ticket["id"], MISSING_TICKET), bob.key, body
            )
            assert status == 404, (label, answer)
            assert answer["error"]["code"] == missing[1]["error"]["code"], label
        elif "tenant_id" in path or (body or {}).get("tenant_id"):
            assert status == 403, (label, answer)  # naming another tenant
        elif spec.path.startswith("/proposals"):
            # The register is every customer's (A8): bob reads it all, subscribes his
            # own tenant only, and no answer names another tenant (test_proposals.py).
            assert status in (200, 404), (label, answer)
            assert alice.tenant_id not in str(answer), label
        else:
            raise AssertionError(f"classify {label} for tenant isolation")
    assert walked >= 10

    # Nothing bob did reached alice's ticket, and bob's lists show none of hers.
    status, page = api.get(f"/tickets/{ticket['id']}/events", alice.key)
    assert [e["type"] for e in page["items"]] == ["created"]
    assert api.get(f"/tickets/{ticket['id']}", alice.key)[1]["status"] == "new"
    for query in ("", "?status=new", "?priority=high", "?breached=false"):
        status, page = api.get(f"/tickets{query}", bob.key)
        assert (status, page["items"]) == (200, []), query
