"""What a client sends never makes a 500: forged cursors, extreme instants, JSON
DynamoDB cannot store; and list pages end with a null cursor."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.integration.helpers import INCIDENT, Api, Customer


def forge(key: Any) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assert_bad(status: int, body: Any, field: str) -> None:
    assert status == 400, (status, body)
    assert field in body["error"]["fields"], body


def open_ticket(api: Api, key: str, **more: Any) -> dict[str, Any]:
    status, ticket = api.post("/tickets", key, {**INCIDENT, **more})
    assert status == 201, ticket
    return dict(ticket)


# --- 1. forged cursors ----------------------------------------------------------

LISTS = [
    ("", "gsi1pk", "TENANT#{t}"),
    ("&status=new", "status_key", "TENANT#{t}#STATUS#new"),
    ("&priority=high", "priority_key", "TENANT#{t}#PRIORITY#high"),
    ("&breached=true", "breached_key", "TENANT#{t}"),
    ("&breached=false", "gsi1pk", "TENANT#{t}"),
    ("&status=new&priority=high", "status_key", "TENANT#{t}#STATUS#new"),
]


def ticket_cursors(tenant_id: str, key_name: str, key: str) -> list[str]:
    partition = key.format(t=tenant_id)
    good = {key_name: {"S": partition}, "gsi1sk": {"S": "y"}, "pk": {"S": "x"}, "sk": {"S": "y"}}
    return [
        forge({**good, "gsi1sk": {"N": "1"}}),
        forge({**good, "pk": {"N": "1"}}),
        forge({**good, key_name: {"N": "1"}}),
        forge({**good, "sk": {"B": "eA=="}}),
        forge({**good, "sk": {"S": ""}}),
        forge({**good, "sk": {"S": "\udc00"}}),
        forge({**good, "sk": {"S": "x" * 2000}}),
        forge({**good, "sk": {"S": 1}}),
        forge({**good, "sk": {"S": "a", "N": "1"}}),
        forge({**good, "sk": ["S", "a"]}),
        forge({**good, key_name: {"S": "TENANT#someone-else"}}),
        forge(["not", "a", "key"]),
        forge({"pk": {"S": "x"}}),
    ]


@pytest.mark.parametrize(("query", "key_name", "key"), LISTS)
def test_a_forged_ticket_list_cursor_is_400(
    api: Api, customer: Customer, query: str, key_name: str, key: str
) -> None:
    open_ticket(api, customer.key)
    for cursor in ticket_cursors(customer.tenant_id, key_name, key):
        status, body = api.get(f"/tickets?limit=1{query}&cursor={cursor}", customer.key)
        assert_bad(status, body, "cursor")


@pytest.mark.parametrize(("query", "key_name", "key"), LISTS)
def test_a_well_typed_cursor_past_any_ticket_is_a_page_not_a_500(
    api: Api, customer: Customer, query: str, key_name: str, key: str
) -> None:
    partition = key.format(t=customer.tenant_id)
    cursor = forge(
        {key_name: {"S": partition}, "gsi1sk": {"S": "y"}, "pk": {"S": "x"}, "sk": {"S": "y"}}
    )
    status, page = api.get(f"/tickets?limit=1{query}&cursor={cursor}", customer.key)
    assert status == 200, page
    assert page["next_cursor"] is None


def test_a_forged_events_cursor_is_400(api: Api, customer: Customer, agent_key: str) -> None:
    ticket = open_ticket(api, customer.key)
    partition = f"TICKET#{ticket['id']}"
    path = f"/tickets/{ticket['id']}/events?limit=1&cursor="
    for cursor in (
        forge({"pk": {"S": partition}, "sk": {"N": "1"}}),
        forge({"pk": {"N": "1"}, "sk": {"S": "EVENT#x"}}),
        forge({"pk": {"S": "TICKET#other"}, "sk": {"S": "EVENT#x"}}),
        forge({"pk": {"S": partition}, "sk": {"S": "TICKET"}}),  # outside the range read
        forge({"pk": {"S": partition}, "sk": {"S": "EVENT#\udc00"}}),
        forge({"pk": {"S": partition}}),
    ):
        for key in (customer.key, agent_key):
            assert_bad(*api.get(path + cursor, key), "cursor")
    cursor = forge({"pk": {"S": partition}, "sk": {"S": "EVENT#~"}})  # after every event
    for key in (customer.key, agent_key):
        status, page = api.get(path + cursor, key)
        assert status == 200, page
        assert page == {"items": [], "next_cursor": None}


def test_a_forged_policies_cursor_is_400(api: Api, admin_key: str) -> None:
    for cursor in (
        forge({"policy_id": {"N": "1"}}),
        forge({"policy_id": {"S": ""}}),
        forge({"policy_id": {"B": "eA=="}}),
        forge({"policy_id": {"S": "a"}, "pk": {"S": "x"}}),
    ):
        assert_bad(*api.get(f"/admin/policies?limit=1&cursor={cursor}", admin_key), "cursor")


# --- 2. the last page has no cursor ---------------------------------------------


@pytest.fixture
def dynamodb_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto's Query stop at `Limit` as DynamoDB does: DynamoDB returns a
    LastEvaluatedKey whenever it stopped at the Limit, even when no item follows;
    moto only when another item follows, which hid the last page's cursor."""
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        limit = kwargs.get("limit", args[3] if len(args) > 3 else None)
        index_name = kwargs.get("index_name", args[7] if len(args) > 7 else None)
        condition = kwargs.pop("filter_expression", None)
        results, scanned, last_key = original(self, *args, **kwargs)
        if limit and last_key is None and len(results) == limit:
            last_key = self._get_last_evaluated_key(results[-1], index_name)
        if condition is not None:
            results = [item for item in results if condition.expr(item)]
        return results, scanned, last_key

    monkeypatch.setattr(Table, "query", query)


def every_page(api: Api, key: str, path: str) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor = None
    while len(pages) < 50:
        sep = "&" if "?" in path else "?"
        status, page = api.get(path + (f"{sep}cursor={cursor}" if cursor else ""), key)
        assert status == 200, page
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the cursors never end")


def test_a_ticket_list_that_fills_its_last_page_has_a_null_cursor(
    api: Api, new_customer: Any, agent_key: str, dynamodb_limit: None
) -> None:
    acme = new_customer()
    ids = [open_ticket(api, acme.key)["id"] for _ in range(4)]
    newest_first = ids[::-1]
    for query in (
        "",
        "&status=new",
        "&priority=high",
        "&breached=false",
        "&status=new&priority=high",
    ):
        status, page = api.get(f"/tickets?limit=4{query}", acme.key)
        assert status == 200, page
        assert [t["id"] for t in page["items"]] == newest_first, query
        assert page["next_cursor"] is None, query
        for limit, count in ((1, 4), (2, 2), (3, 2)):
            pages = every_page(api, acme.key, f"/tickets?limit={limit}{query}")
            assert [t["id"] for p in pages for t in p["items"]] == newest_first, (query, limit)
            assert len(pages) == count, (query, limit)
            assert all(p["items"] for p in pages), (query, limit)
    # an agent lists the same tenant by naming it
    pages = every_page(api, agent_key, f"/tickets?limit=2&tenant_id={acme.tenant_id}")
    assert [t["id"] for p in pages for t in p["items"]] == newest_first
    assert len(pages) == 2


def test_a_filtered_list_that_fills_its_last_page_has_a_null_cursor(
    api: Api, new_customer: Any, monkeypatch: pytest.MonkeyPatch, dynamodb_limit: None
) -> None:
    """Index pages no larger than the list's own: the filter drops the tickets the
    last Query read after the matching ones."""
    monkeypatch.setattr("chalicelib.store.tickets.FILTERED_PAGE", 1)
    acme = new_customer()
    high: list[str] = []
    for n in range(5):  # low, high, low, high, low
        ticket = open_ticket(api, acme.key, priority="high" if n % 2 else "low")
        if n % 2:
            high.append(ticket["id"])
    # status=new is the key of the index read, priority=high a FilterExpression
    status, page = api.get("/tickets?limit=2&status=new&priority=high", acme.key)
    assert status == 200, page
    assert [t["id"] for t in page["items"]] == high[::-1]
    assert page["next_cursor"] is None
    pages = every_page(api, acme.key, "/tickets?limit=1&status=new&priority=high")
    assert [t["id"] for p in pages for t in p["items"]] == high[::-1]
    assert len(pages) == 2


def test_an_event_list_that_fills_its_last_page_has_a_null_cursor(
    api: Api, customer: Customer, agent_key: str, dynamodb_limit: None
) -> None:
    ticket = open_ticket(api, customer.key)
    path = f"/tickets/{ticket['id']}/events"
    for key in (customer.key, agent_key):
        status, page = api.get(f"{path}?limit=1", key)
        assert status == 200, page
        assert [e["type"] for e in page["items"]] == ["created"]
        assert page["next_cursor"] is None
    # comments, one an internal note: the customer does not see it, the agent does
    for key, public in ((customer.key, True), (agent_key, False), (customer.key, True)):
        status, body = api.post(
            f"/tickets/{ticket['id']}/comments", key, {"body": "c", "public": public}
        )
        assert status == 201, body
    for key, total in ((customer.key, 3), (agent_key, 4)):
        status, page = api.get(f"{path}?limit={total}", key)
        assert status == 200, page
        assert len(page["items"]) == total
        assert page["next_cursor"] is None
        for limit in range(1, total + 1):
            pages = every_page(api, key, f"{path}?limit={limit}")
            events = [e["id"] for p in pages for e in p["items"]]
            assert events == [e["id"] for e in page["items"]], (key, limit)
            assert len(pages) == -(-total // limit), (key, limit)


# --- 3. extreme instants ---------------------------------------------------------

EXTREMES = [
    "0001-01-01T00:00:00+01:00",  # before datetime.min in UTC
    "9999-12-31T23:59:59-01:00",  # after datetime.max in UTC
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:30:00+01:00",  # 1969 in UTC
]


@pytest.mark.parametrize("instant", EXTREMES)
def test_an_extreme_reported_at_is_400(
    api: Api, customer: Customer, agent_key: str, instant: str
) -> None:
    status, body = api.post(
        "/tickets", agent_key, {**INCIDENT, "tenant_id": customer.tenant_id, "reported_at": instant}
    )
    assert_bad(status, body, "reported_at")


@pytest.mark.parametrize("instant", EXTREMES)
def test_an_extreme_report_bound_is_400(
    api: Api, customer: Customer, agent_key: str, instant: str
) -> None:
    from urllib.parse import quote

    t = customer.tenant_id
    ok = quote("2026-01-01T00:00:00Z")
    bad = quote(instant)
    assert_bad(*api.get(f"/reports/sla?from={bad}&to={ok}&tenant_id={t}", agent_key), "from")
    assert_bad(*api.get(f"/reports/sla?from={ok}&to={bad}&tenant_id={t}", agent_key), "to")


def test_instants_inside_the_range_are_still_accepted(
    api: Api, customer: Customer, agent_key: str
) -> None:
    from urllib.parse import quote

    t = customer.tenant_id
    for start, end in (
        ("1970-01-01T00:00:00Z", "1970-02-01T00:00:00Z"),
        ("9998-12-01T00:00:00Z", "9998-12-31T23:59:59+00:00"),
    ):
        status, body = api.get(
            f"/reports/sla?from={quote(start)}&to={quote(end)}&tenant_id={t}", agent_key
        )
        assert status == 200, body


# --- 4. JSON that DynamoDB cannot store ---------------------------------------------

UNSTORABLE = [
    '{"x": NaN}',
    '{"x": Infinity}',
    '{"x": -Infinity}',
    '{"x": 1e400}',
    '{"x": -1e400}',
    '{"x": 1e200}',
    '{"x": 1e-200}',
    '{"x": 123456789012345678901234567890123456789}',  # 39 digits
    '{"x": 1' + "0" * 130 + "}",
    '{"x": 1' + "0" * 5000 + "}",
    '{"x": "\\udc00"}',
    '{"\\udc00": 1}',
    '{"x": ["a\\ud800b"]}',
    '{"x": ' + "[" * 32 + "]" * 32 + "}",  # 33 levels with the body
]


@pytest.mark.parametrize("fields", UNSTORABLE)
def test_json_that_dynamodb_cannot_store_is_400(api: Api, customer: Customer, fields: str) -> None:
    raw = json.dumps(INCIDENT)[:-1] + f', "fields": {fields}}}'
    status, body = api.call("POST", "/tickets", customer.key, raw=raw)
    assert status == 400, (status, body)
    assert body["error"]["code"] in ("malformed_json", "invalid_request"), body
    assert body["error"]["message"], body
    assert any(name.startswith("fields.") for name in body["error"]["fields"]), body


def test_each_unstorable_value_is_named_by_its_path(api: Api, customer: Customer) -> None:
    raw = json.dumps(INCIDENT)[:-1] + ', "fields": {"a": [1, NaN], "b": {"c": "\\udc00"}}}'
    status, body = api.call("POST", "/tickets", customer.key, raw=raw)
    assert status == 400, body
    assert set(body["error"]["fields"]) == {"fields.a.1", "fields.b.c"}, body


def test_a_policy_with_a_lone_surrogate_is_400(api: Api, admin_key: str) -> None:
    status, doc = api.get("/admin/policies/aivo", admin_key)
    assert status == 200, doc
    for key in ("id", "version", "retargeted", "remaining"):
        doc.pop(key, None)
    doc["name"] = "Aivo \udc00"
    status, body = api.put("/admin/policies/aivo-surrogate", admin_key, doc)  # sent escaped
    assert status == 400, (status, body)
    assert "name" in body["error"]["fields"], body
    assert api.get("/admin/policies/aivo-surrogate", admin_key)[0] == 404


def test_json_that_dynamodb_can_store_is_accepted(api: Api, customer: Customer) -> None:
    storable = {
        "digits": 12345678901234567890123456789012345678,  # 38 digits
        "big": 1e125,
        "small": 1e-130,
        "tiny": 0.0,
        "zeros": 10**40,
        "text": "\u00e9\U0001f600",
        # as deep as a ticket's `fields` may go (the body's own limit is 32 levels)
        "deep": json.loads("[" * 4 + "]" * 4),
    }
    status, ticket = api.post("/tickets", customer.key, {**INCIDENT, "fields": storable})
    assert status == 201, ticket
    assert ticket["fields"]["text"] == storable["text"]
    assert ticket["fields"]["deep"] == storable["deep"]


# --- 5. JSON Merge Patch ------------------------------------------------------------


def test_a_tenant_patch_may_be_sent_as_merge_patch_json(
    api: Api, customer: Customer, admin_key: str
) -> None:
    status, tenant = api.patch(
        f"/admin/tenants/{customer.tenant_id}",
        admin_key,
        {"name": "Acme Renamed", "tier": None},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert status == 200, tenant
    assert tenant["name"] == "Acme Renamed"
