"""Keys, tenants and tickets through the real routes: the auth matrix, tenant and
key admin, the contract's error shapes, idempotency, pagination, history, the
OpenAPI document and the DynamoDB calls per request."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.integration.helpers import INCIDENT, Api, Customer, assert_error


def test_health_needs_no_key(api: Api) -> None:
    assert api.get("/health") == (200, {"status": "ok"})


# --- auth matrix -------------------------------------------------------------


def test_no_key_is_401(api: Api) -> None:
    status, body = api.get("/tickets")
    assert_error(status, body, 401)


def test_bad_key_and_bad_scheme_are_401(api: Api, customer: Customer) -> None:
    assert_error(*api.get("/tickets", "sgk_not-a-key"), 401, "bad_credentials")
    status, body = api.call("GET", "/tickets", headers={"Authorization": f"Basic {customer.key}"})
    assert_error(status, body, 401)


def test_customer_key_cannot_use_admin_routes(api: Api, customer: Customer) -> None:
    status, body = api.post(
        "/admin/tenants", customer.key, {"id": "x", "name": "X", "policy": "aivo"}
    )
    assert_error(status, body, 403)


def test_agent_key_cannot_create_tenants(api: Api, agent_key: str) -> None:
    status, body = api.post("/admin/tenants", agent_key, {"id": "y", "name": "Y", "policy": "aivo"})
    assert_error(status, body, 403)


def test_ticket_of_another_tenant_is_404_like_a_missing_one(api: Api, new_customer: Any) -> None:
    alice, bob = new_customer(), new_customer()
    status, ticket = api.post("/tickets", alice.key, INCIDENT)
    assert status == 201, ticket
    other = api.get(f"/tickets/{ticket['id']}", bob.key)
    missing = api.get("/tickets/tkt_01JZZZZZZZZZZZZZZZZZZZZZZZ", bob.key)
    assert_error(*other, 404)
    assert other[1]["error"]["code"] == missing[1]["error"]["code"]
    assert api.get(f"/tickets/{ticket['id']}/events", bob.key)[0] == 404
    # and bob's list does not show it
    status, page = api.get("/tickets", bob.key)
    assert status == 200
    assert page["items"] == []


def test_agent_sees_every_tenant_and_must_name_it_to_open(
    api: Api, agent_key: str, customer: Customer
) -> None:
    status, body = api.post("/tickets", agent_key, INCIDENT)
    assert_error(status, body, 400)
    assert "tenant_id" in body["error"]["fields"]
    status, ticket = api.post("/tickets", agent_key, {**INCIDENT, "tenant_id": customer.tenant_id})
    assert status == 201, ticket
    assert ticket["tenant_id"] == customer.tenant_id
    assert api.get(f"/tickets/{ticket['id']}", agent_key)[0] == 200
    assert api.get(f"/tickets/{ticket['id']}", customer.key)[0] == 200


def test_customer_cannot_backdate_or_name_another_tenant(api: Api, customer: Customer) -> None:
    status, body = api.post(
        "/tickets", customer.key, {**INCIDENT, "reported_at": "2026-01-05T12:00:00Z"}
    )
    assert_error(status, body, 403)
    status, body = api.post("/tickets", customer.key, {**INCIDENT, "tenant_id": "someone-else"})
    assert_error(status, body, 403)


# --- tenants and keys --------------------------------------------------------


def test_tenant_create_read_patch(api: Api, admin_key: str) -> None:
    doc = {
        "id": "acme-patch",
        "name": "Acme SA",
        "policy": "keybe",
        "tier": "premium",
        "contract": {"active": True, "plan": "50000", "options": []},
    }
    status, created = api.post("/admin/tenants", admin_key, doc)
    assert status == 201, created
    assert created["tier"] == "premium"
    assert_error(*api.post("/admin/tenants", admin_key, doc), 409)
    status, patched = api.patch(
        "/admin/tenants/acme-patch",
        admin_key,
        {"name": "Acme Corp", "tier": None, "contract": {"plan": "2000"}},
    )
    assert status == 200, patched
    assert patched["name"] == "Acme Corp"
    assert patched["tier"] is None
    assert patched["contract"] == {"active": True, "plan": "2000", "options": []}
    assert api.get("/admin/tenants/acme-patch", admin_key) == (200, patched)
    assert_error(*api.patch("/admin/tenants/acme-patch", admin_key, {"id": "other"}), 400)
    assert_error(*api.patch("/admin/tenants/acme-patch", admin_key, {"tier": "gold"}), 400)
    assert_error(*api.get("/admin/tenants/nobody-here", admin_key), 404)


def test_tenant_with_unknown_policy_or_bad_calendar_names_each_field(
    api: Api, admin_key: str
) -> None:
    status, body = api.post(
        "/admin/tenants",
        admin_key,
        {
            "id": "bad-cal",
            "name": "Bad",
            "policy": "nope",
            "calendar": {"timezone": "Mars/Olympus", "hours": {"mon": [["09:00", "18:00"]]}},
        },
    )
    assert_error(status, body, 400)
    fields = body["error"]["fields"]
    assert "policy" in fields
    assert any(f.startswith("calendar.timezone") for f in fields), fields


def test_agent_or_admin_key_on_a_customer_tenant_is_422(
    api: Api, admin_key: str, customer: Customer
) -> None:
    for role in ("agent", "admin"):
        status, body = api.post(
            f"/admin/tenants/{customer.tenant_id}/keys", admin_key, {"role": role}
        )
        assert_error(status, body, 422)


def test_key_for_missing_tenant_is_404(api: Api, admin_key: str) -> None:
    assert_error(*api.post("/admin/tenants/ghost/keys", admin_key, {"role": "customer"}), 404)


def test_keys_are_stored_hashed(api: Api, customer: Customer) -> None:
    from chalicelib.store.models import ApiKeyItem

    stored = [i for i in ApiKeyItem.scan() if i.tenant_id == customer.tenant_id and i.sk == "KEY"]
    assert len(stored) == 1
    assert customer.key not in json.dumps(stored[0].attribute_values)


# --- client errors are never 500 ----------------------------------------------


def test_malformed_json_is_400(api: Api, customer: Customer) -> None:
    status, body = api.call("POST", "/tickets", customer.key, raw='{"title": ')
    assert_error(status, body, 400, "malformed_json")
    status, body = api.call("POST", "/tickets", customer.key, raw="[1, 2]")
    assert_error(status, body, 400)


def test_every_bad_field_is_named_at_once(api: Api, customer: Customer) -> None:
    status, body = api.post(
        "/tickets",
        customer.key,
        {
            "title": 42,
            "description": "",
            "kind": "incident",
            "channel": "pigeon",
            "surprise": True,
        },
    )
    assert_error(status, body, 400)
    assert {"title", "description", "channel", "surprise"} <= set(body["error"]["fields"])


def test_body_over_256_kib_is_413(api: Api, customer: Customer) -> None:
    huge = {**INCIDENT, "description": "x" * (257 * 1024)}
    assert_error(*api.post("/tickets", customer.key, huge), 413)


def test_bad_ids_cursors_and_limits(api: Api, customer: Customer) -> None:
    assert_error(*api.get("/tickets/not-an-id", customer.key), 404)
    assert_error(*api.get("/tickets/" + "tkt_" + "9" * 200, customer.key), 404)
    status, body = api.get("/tickets?cursor=garbage!!", customer.key)
    assert_error(status, body, 400)
    assert "cursor" in body["error"]["fields"]
    status, body = api.get("/tickets?limit=0", customer.key)
    assert "limit" in body["error"]["fields"]
    status, body = api.get("/tickets?limit=101", customer.key)
    assert_error(status, body, 400)
    status, body = api.get("/tickets?limit=ten", customer.key)
    assert_error(status, body, 400)


def test_a_cursor_of_another_tenant_is_refused(api: Api, new_customer: Any) -> None:
    alice, bob = new_customer(), new_customer()
    for _ in range(3):
        api.post("/tickets", alice.key, INCIDENT)
    status, page = api.get("/tickets?limit=1", alice.key)
    assert page["next_cursor"]
    status, body = api.get(f"/tickets?limit=1&cursor={page['next_cursor']}", bob.key)
    assert_error(status, body, 400)


# --- idempotency ------------------------------------------------------------


def test_same_idempotency_key_and_body_replays_the_first_response(
    api: Api, customer: Customer
) -> None:
    headers = {"Idempotency-Key": "open-1"}
    first = api.post("/tickets", customer.key, INCIDENT, headers=headers)
    again = api.post("/tickets", customer.key, INCIDENT, headers=headers)
    assert first[0] == 201
    assert again == first
    _, page = api.get("/tickets", customer.key)
    assert [t["id"] for t in page["items"]] == [first[1]["id"]]


def test_same_idempotency_key_other_body_is_409(api: Api, customer: Customer) -> None:
    headers = {"Idempotency-Key": "open-2"}
    assert api.post("/tickets", customer.key, INCIDENT, headers=headers)[0] == 201
    other = {**INCIDENT, "title": "Something else"}
    assert_error(*api.post("/tickets", customer.key, other, headers=headers), 409)


def test_idempotency_keys_are_per_api_key(api: Api, new_customer: Any) -> None:
    alice, bob = new_customer(), new_customer()
    headers = {"Idempotency-Key": "shared"}
    a = api.post("/tickets", alice.key, INCIDENT, headers=headers)
    b = api.post("/tickets", bob.key, INCIDENT, headers=headers)
    assert a[0] == b[0] == 201
    assert a[1]["id"] != b[1]["id"]


def test_a_refused_request_is_not_remembered(api: Api, customer: Customer) -> None:
    headers = {"Idempotency-Key": "fix-and-retry"}
    bad = {**INCIDENT, "priority": "cosmic"}
    assert api.post("/tickets", customer.key, bad, headers=headers)[0] == 400
    assert api.post("/tickets", customer.key, bad, headers=headers)[0] == 400


# --- pagination ------------------------------------------------------------


def test_pagination_returns_every_ticket_exactly_once_newest_first(
    api: Api, customer: Customer
) -> None:
    created = [
        api.post("/tickets", customer.key, {**INCIDENT, "title": f"T{i}"})[1]["id"]
        for i in range(23)
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        path = "/tickets?limit=5" + (f"&cursor={cursor}" if cursor else "")
        status, page = api.get(path, customer.key)
        assert status == 200, page
        assert len(page["items"]) <= 5
        seen += [t["id"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))
    assert pages in (5, 6)


def test_history_starts_with_created(api: Api, customer: Customer) -> None:
    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    status, page = api.get(f"/tickets/{ticket['id']}/events", customer.key)
    assert status == 200
    (event,) = page["items"]
    assert event["type"] == "created"
    assert event["actor"]["role"] == "customer"
    assert event["actor"]["key_id"].startswith("key_")
    assert page["next_cursor"] is None


# --- cost per request --------------------------------------------------------


def test_dynamodb_calls_per_request(api: Api, customer: Customer, aws_calls: Counter[str]) -> None:
    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    opened = sum(aws_calls.values())
    aws_calls.clear()
    api.get(f"/tickets/{ticket['id']}", customer.key)
    read = dict(aws_calls)
    aws_calls.clear()
    api.get("/tickets", customer.key)
    listed = dict(aws_calls)
    # key + tenant + policy + one transaction
    assert opened <= 4, opened
    # the key was resolved by the POST: a warm container does not look it up again
    # (cold: 2 GetItem for a read, see test_keys)
    assert read == {"GetItem": 1}, read  # the ticket
    assert listed == {"Query": 1, "BatchGetItem": 1}, listed  # the index, then the tickets


# --- the generated OpenAPI document ---------------------------------------


def test_openapi_is_generated_from_the_route_models(api: Api) -> None:
    status, doc = api.get("/openapi.json")
    assert status == 200
    assert doc["openapi"].startswith("3.")
    for path in (
        "/tickets",
        "/tickets/{ticket_id}",
        "/admin/tenants",
        "/admin/tenants/{tenant_id}/keys",
        "/tickets/{ticket_id}/events",
    ):
        assert path in doc["paths"], path
    body = doc["components"]["schemas"]["TicketBody"]
    assert {"title", "description", "kind"} <= set(body["required"])
    assert body["additionalProperties"] is False


def test_an_opened_ticket_carries_its_targets(api: Api, customer: Customer) -> None:
    """A2: an Aivo blocker incident has 1 h first response and 6 h resolution, 24x7."""
    status, ticket = api.post("/tickets", customer.key, {**INCIDENT, "priority": "blocker"})
    assert status == 201, ticket
    targets = {t["metric"]: t for t in ticket["sla"]["targets"]}
    assert targets["first_response"]["target_seconds"] == 3600
    assert targets["resolution"]["target_seconds"] == 6 * 3600
    assert {t["clock"] for t in targets.values()} == {"24x7"}
    assert all(t["state"] == "running" for t in targets.values())


def test_an_idempotency_key_is_scoped_to_its_route_and_resource(
    api: Api, agent_key: str, customer: Customer
) -> None:
    """The same key closing two tickets closes both: another resource is another request."""
    ids = [api.post("/tickets", customer.key, INCIDENT)[1]["id"] for _ in range(2)]
    headers = {"Idempotency-Key": "close-it"}
    for ticket_id in ids:
        status, ticket = api.post(
            f"/tickets/{ticket_id}/actions", agent_key, {"action": "close"}, headers=headers
        )
        assert status == 200, ticket
        assert ticket["id"] == ticket_id
        assert ticket["status"] == "closed"


def test_the_same_json_in_another_layout_is_the_same_body(api: Api, customer: Customer) -> None:
    headers = {"Idempotency-Key": "layout"}
    first = api.call("POST", "/tickets", customer.key, raw=json.dumps(INCIDENT), headers=headers)
    spaced = json.dumps(dict(reversed(list(INCIDENT.items()))), indent=2)
    again = api.call("POST", "/tickets", customer.key, raw=spaced, headers=headers)
    assert first[0] == 201
    assert again == first


def test_an_agent_lists_every_customer_when_naming_none(
    api: Api, admin_key: str, agent_key: str, aws_calls: Counter[str]
) -> None:
    """docs/api.md: a provider key *may* name `tenant_id`; naming none lists every
    customer's tickets, tenant after tenant (ids in order), each exactly once
    across pages. The walk starts at this test's own tenants (ids `zzz-<run>-…`,
    after every other tenant of the session) with a cursor made as the service
    makes them, so it does not page through the whole session's tickets."""
    import base64
    import uuid

    run = uuid.uuid4().hex[:6]
    mine: set[str] = set()
    for n in range(3):
        tenant_id = f"zzz-{run}-{n}"
        status, _ = api.post(
            "/admin/tenants", admin_key, {"id": tenant_id, "name": "Z", "policy": "aivo"}
        )
        assert status == 201
        for _ in range(3):
            status, ticket = api.post("/tickets", agent_key, {**INCIDENT, "tenant_id": tenant_id})
            mine.add(ticket["id"])
    start = json.dumps({"at": f"zzz-{run}", "c": None}).encode()
    cursor: str | None = base64.urlsafe_b64encode(start).decode().rstrip("=")
    seen: list[str] = []
    tenants: list[str] = []
    while cursor is not None:
        status, page = api.get(f"/tickets?limit=4&cursor={cursor}", agent_key)
        assert status == 200, page
        assert len(page["items"]) <= 4
        seen += [t["id"] for t in page["items"]]
        tenants += [t["tenant_id"] for t in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(mine)
    assert tenants == sorted(tenants)  # tenant after tenant
    aws_calls.clear()
    api.get("/tickets?limit=100", agent_key)
    # bounded per request: the key, a page of the customers index, 20 tenants at most
    assert aws_calls["Query"] <= 1 + 20 + 1, aws_calls
    status, body = api.get("/tickets?cursor=eyJhdCI6IDF9", agent_key)  # {"at": 1}
    assert_error(status, body, 400)
