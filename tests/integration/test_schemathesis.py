"""Robustness: schemathesis generates requests from the app's own /openapi.json
(valid and invalid ones) for every operation, with a fixed example budget, and
checks that no response is a 5xx and that every response matches the documented
status codes, content type and schema ("never a 500 for anything a client sent").

The app is served to schemathesis as a tiny WSGI app over the Chalice test
client, on the session's moto. The run is made with an admin key (every route)
and again with a customer key (its own tickets; the rest must be a documented
403/404), and ticket routes are also driven on real tickets so bodies reach the
state machine. A short stateful run (schemathesis' state machine, links inferred
from the document) chains a customer's calls: open, read, act, comment, list.
Path parameters that would change shared state (a shipped policy, a test
tenant) are pinned to throwaway ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.helpers import INCIDENT, Api, Customer

EXAMPLES = 20  # per operation, mode and variant (admin key)
CUSTOMER_EXAMPLES = 10  # the same with a customer key
STATEFUL_EXAMPLES, STATEFUL_STEPS = 15, 6
FUZZ_TENANT = "fuzz-tenant"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class ChaliceWsgi:
    """WSGI over the Chalice test client (the app's real handlers), counting requests."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.requests = 0

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.requests += 1
        path = (environ.get("RAW_URI") or environ["PATH_INFO"]).split("?", 1)[0]
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        response = self.api.client.http.request(
            environ["REQUEST_METHOD"], path, headers=headers, body=body
        )
        start_response(
            f"{response.status_code} STATUS",
            [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"],
        )
        return [response.body or b""]


@pytest.fixture(scope="module")
def wsgi(api: Api) -> ChaliceWsgi:
    return ChaliceWsgi(api)


def _variants(
    operation: Any, new_ticket: Callable[[], str], tenant_id: str
) -> list[dict[str, Any]]:
    """What to pin: nothing (all generated), or path parameters pinned to a real or
    a throwaway id, or the query's tenant to one that exists (lists, reports)."""
    path = operation.path
    if "{policy_id}" in path:
        return [{"path_parameters": {"policy_id": "fuzz-policy"}}]  # never a shipped one
    if "{tenant_id}" in path:
        return [{"path_parameters": {"tenant_id": FUZZ_TENANT}}, {}]
    if "{ticket_id}" in path:  # a fresh ticket per run: one closed by fuzzing stays closed
        return [{}, {"path_parameters": {"ticket_id": new_ticket()}}]
    names = {p.get("name") for p in operation.definition.raw.get("parameters", [])}
    if "tenant_id" in names:
        return [{}, {"query": {"tenant_id": tenant_id}}]
    return [{}]


@pytest.mark.parametrize("role", ["admin", "customer"])
def test_schemathesis_finds_no_5xx_and_no_undocumented_response(
    api: Api, wsgi: ChaliceWsgi, admin_key: str, new_customer: Any, role: str
) -> None:
    fuzz: Customer = new_customer(policy="keybe", tier="premium")
    if role == "admin":
        tenant = {"id": FUZZ_TENANT, "name": "Fuzz", "policy": "aivo"}
        assert api.post("/admin/tenants", admin_key, tenant)[0] == 201
    key, examples = (admin_key, EXAMPLES) if role == "admin" else (fuzz.key, CUSTOMER_EXAMPLES)

    def new_ticket() -> str:
        body = {**INCIDENT, "kind": "query", "priority": "normal", "tenant_id": fuzz.tenant_id}
        status, ticket = api.post("/tickets", admin_key, body)
        assert status == 201, ticket
        return str(ticket["id"])

    schema = schemathesis.openapi.from_wsgi("/openapi.json", wsgi)
    wsgi.requests = 0
    auth = {"Authorization": f"Bearer {key}"}
    results = list(schema.get_all_operations())
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    assert len(operations) == len(results), "the OpenAPI document has an invalid operation"
    assert len(operations) >= 15

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for pinned in _variants(operation, new_ticket, fuzz.tenant_id):
                strategy = operation.as_strategy(generation_mode=mode, headers=auth, **pinned)

                @settings(
                    max_examples=examples,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=strategy)
                def run(case: Any) -> None:
                    case.headers = {**(case.headers or {}), **auth}
                    case.call_and_validate(checks=CHECKS)

                try:
                    run()
                except Unsatisfiable:
                    # nothing to make invalid (no body, query or free path parameter)
                    assert mode is GenerationMode.NEGATIVE, operation.label
    print(f"\nschemathesis ({role}): {wsgi.requests} requests, {len(operations)} operations")
    assert wsgi.requests >= len(operations) * examples


def test_schemathesis_stateful_customer_calls_find_no_5xx(
    wsgi: ChaliceWsgi, new_customer: Any
) -> None:
    """Chained calls with a customer key (its own tenant only, so nothing shared
    changes): what one response returned (a ticket id) feeds the next request."""
    customer: Customer = new_customer()
    auth = {"Authorization": f"Bearer {customer.key}"}
    schema = schemathesis.openapi.from_wsgi("/openapi.json", wsgi).include(path_regex="^/tickets")
    wsgi.requests = 0

    class CustomerCalls(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": auth}

        def validate_response(self, response: Any, case: Any, *args: Any, **kw: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    CustomerCalls.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    print(f"\nschemathesis stateful: {wsgi.requests} requests")
    assert wsgi.requests >= STATEFUL_EXAMPLES


JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
ANY_JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=40,
)


def test_fields_with_arbitrary_keys_never_break_a_read(
    api: Api, wsgi: ChaliceWsgi, agent_key: str, new_customer: Any
) -> None:
    """`fields` with any keys (empty, huge, surrogates, deep, many) and any values:
    POST /tickets is 201 or 400, never a 5xx, and every read that shows the ticket
    (GET one, the tenant list, the every-customer list, the report) stays 200."""
    customer: Customer = new_customer()
    tried, server_errors = 0, 0

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(fields=st.dictionaries(st.text(max_size=12), ANY_JSON, max_size=60))
    def run(fields: dict[str, Any]) -> None:
        nonlocal tried, server_errors
        raw = json.dumps({**INCIDENT, "fields": fields})  # lone surrogates escaped, as sent
        status, ticket = api.call("POST", "/tickets", customer.key, raw=raw)
        tried += 1
        server_errors += status >= 500
        assert status in (201, 400, 413), (status, ticket)
        if status == 201:
            status, read = api.get(f"/tickets/{ticket['id']}", customer.key)
            tried += 1
            assert status == 200, read

    run()
    today = datetime.now(UTC).date()
    since, until = (
        f"{today - timedelta(days=1)}T00:00:00Z",
        f"{today + timedelta(days=2)}T00:00:00Z",
    )
    reads = [
        ("/tickets?limit=100", customer.key),  # the tenant's list
        ("/tickets?limit=100", agent_key),  # every customer's
        (f"/reports/sla?tenant_id={customer.tenant_id}&from={since}&to={until}", agent_key),
    ]
    for path, key in reads:
        status, body = api.get(path, key)
        tried += 1
        assert status == 200, (path, body)
    print(f"\nfields fuzz: {tried} requests, {server_errors} 5xx")
    assert server_errors == 0
