"""The examples of /openapi.json and the reference page at /docs."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.integration.helpers import Api, Customer


def _spec(method: str, path: str) -> Any:
    from chalicelib.api.http import REGISTRY

    (spec,) = [s for s in REGISTRY if (s.method, s.path) == (method, path)]
    return spec


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def test_every_operation_with_a_body_has_examples_that_its_own_model_accepts(api: Api) -> None:
    from chalicelib.domain.policy import Policy

    status, doc = api.get("/openapi.json")
    assert status == 200
    checked = 0
    for method, path, op in _operations(doc):
        if "requestBody" not in op:
            continue
        named = op["requestBody"]["content"]["application/json"].get("examples", {})
        assert named, f"{method} {path} has no request example"
        model = _spec(method, path).body
        if model is None:  # a raw body its handler verifies before parsing (webhooks)
            continue
        for name, example in named.items():
            assert example["summary"], (method, path, name)
            model.model_validate(example["value"])  # raises, naming the field, if not
            if path == "/admin/policies/{policy_id}":  # the body model defers to Policy
                Policy.model_validate(example["value"])
            checked += 1
    assert checked >= 20, checked


def test_response_and_error_examples_match_their_schemas(api: Api) -> None:
    _, doc = api.get("/openapi.json")
    seen = 0
    for method, path, op in _operations(doc):
        for code, response in op["responses"].items():
            named = response["content"]["application/json"].get("examples", {})
            for example in named.values():
                value = example["value"]
                if int(code) >= 400:
                    assert set(value) == {"error"}
                    assert set(value["error"]) == {"code", "message", "fields"}
                else:
                    _spec(method, path).response.model_validate(value)
                seen += 1
    assert seen >= 10, seen


def test_every_path_and_query_parameter_has_an_example(api: Api) -> None:
    _, doc = api.get("/openapi.json")
    missing = [
        (method, path, p["name"])
        for method, path, op in _operations(doc)
        for p in op.get("parameters", [])
        if p["in"] in ("path", "query") and p["name"] != "cursor" and "example" not in p
    ]
    assert missing == []


def test_the_request_examples_work_through_the_real_routes(
    api: Api, admin_key: str, agent_key: str, customer: Customer
) -> None:
    """What a client copies from the page answers 2xx, not a 400."""
    from chalicelib.api import examples

    tenant = examples.REQUESTS[("POST", "/admin/tenants")]["aivo"]["value"]
    tenant_id = f"ex-{uuid.uuid4().hex[:8]}"
    status, body = api.post("/admin/tenants", admin_key, {**tenant, "id": tenant_id})
    assert status == 201, body
    for example in examples.REQUESTS[("POST", "/admin/tenants/{tenant_id}/keys")].values():
        target = tenant_id if example["value"]["role"] == "customer" else "provider"
        status, body = api.post(f"/admin/tenants/{target}/keys", admin_key, example["value"])
        assert status == 201, body
    opened = examples.REQUESTS[("POST", "/tickets")]["incident"]["value"]
    status, ticket = api.post("/tickets", customer.key, opened)
    assert status == 201, ticket
    status, other = api.post("/tickets", customer.key, opened)
    opened_id = other["id"]
    phoned = examples.REQUESTS[("POST", "/tickets")]["phoned_in"]["value"]
    status, body = api.post("/tickets", agent_key, {**phoned, "tenant_id": tenant_id})
    assert status == 201, body
    actions = examples.REQUESTS[("POST", "/tickets/{ticket_id}/actions")]
    steps = ["assign", "log_time", "set_priority", "wait_on_customer", "resume", "resolve"]
    for name in [*steps, "reopen", "close"]:
        who = customer.key if name in ("resume", "reopen", "close") else agent_key
        status, body = api.post(f"/tickets/{ticket['id']}/actions", who, actions[name]["value"])
        assert status == 200, (name, body)
    for example in examples.REQUESTS[("POST", "/tickets/{ticket_id}/comments")].values():
        status, body = api.post(f"/tickets/{opened_id}/comments", agent_key, example["value"])
        assert status == 201, body


def test_the_docs_page_and_its_assets_are_served_by_the_app(api: Api) -> None:
    page = api.client.http.get("/docs")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert 'url: "openapi.json"' in html
    # no CDN: every asset is the app's own, by a relative URL (the stage prefix holds)
    assert re.findall(r'(?:src|href)="([^"]+)"', html) == [
        "docs/swagger-ui.css",
        "docs/swagger-ui-bundle.js",
    ]
    assert "http" not in html
    for name, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "css")):
        asset = api.client.http.get(f"/docs/{name}")
        assert asset.status_code == 200, name
        assert kind in asset.headers["Content-Type"]
        assert len(asset.body) > 10_000
    status, body = api.get("/docs/..%2Fsecrets")
    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_docs_api_md_is_generated_from_the_current_routes() -> None:
    from dev import api_docs

    text = api_docs.PAGE.read_text()
    assert api_docs.rewritten(text) == text, "run: python -m dev.api_docs"


def test_docs_groups_every_operation_under_a_tag_after_an_introduction(api: Api) -> None:
    """Issue 25: /docs opens with an introduction and lists operations by route
    group, not all under one "default"."""
    _, doc = api.get("/openapi.json")
    assert "Authorization: Bearer" in doc["info"]["description"]
    declared = [t["name"] for t in doc["tags"]]
    assert len(declared) == len(set(declared)) >= 6
    used = {op["tags"][0] for _, _, op in _operations(doc)}
    assert used == set(declared)
    assert all(len(op["tags"]) == 1 for _, _, op in _operations(doc))
    assert doc["paths"]["/tickets"]["post"]["tags"] == ["tickets"]
    assert doc["paths"]["/webhooks/{partner_id}"]["post"]["tags"] == ["partners"]


def test_docs_with_a_trailing_slash_is_sent_to_the_page() -> None:
    """`/docs/` would load the page with relative asset URLs that miss: a redirect
    to `../docs` (relative, so API Gateway's stage prefix holds)."""
    from chalice.test import Client

    import app as application

    with Client(application.app) as client:
        response = client.http.get("/docs/")
    assert response.status_code == 301
    assert response.headers["Location"] == "../docs"


def test_the_ticket_examples_are_what_the_api_answers(
    api: Api, agent_key: str, customer: Customer, clock: Any
) -> None:
    """Issue 25: the examples of POST /tickets (201) and GET /tickets/{id} are the
    real answers: the `incident` request opened at 2026-11-20T12:00Z (a Friday, 09:00
    in Buenos Aires), then assigned and 40 minutes logged at 12:20Z. Only the ids,
    which are new each time, are the example's."""
    from chalicelib.api import examples

    def as_example(ticket: dict[str, Any]) -> dict[str, Any]:
        return {**ticket, "id": examples.TICKET_ID, "tenant_id": "acme"}

    clock.set("2026-11-20T12:00:00Z")
    opened = examples.REQUESTS[("POST", "/tickets")]["incident"]["value"]
    status, ticket = api.post("/tickets", customer.key, opened)
    assert status == 201, ticket
    created = examples.RESPONSES[("POST", "/tickets")][201]["opened"]["value"]
    assert as_example(ticket) == created
    clock.set("2026-11-20T12:20:00Z")
    actions = examples.REQUESTS[("POST", "/tickets/{ticket_id}/actions")]
    for name in ("assign", "log_time"):
        status, body = api.post(
            f"/tickets/{ticket['id']}/actions", agent_key, actions[name]["value"]
        )
        assert status == 200, body
    status, seen = api.get(f"/tickets/{ticket['id']}", customer.key)
    assert status == 200
    assert (
        as_example(seen)
        == examples.RESPONSES[("GET", "/tickets/{ticket_id}")][200]["open"]["value"]
    )
