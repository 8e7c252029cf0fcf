"""Hardening (issue 9): no input breaks a read, strict JSON types, 415 for what is
not JSON, UTF-8 only, and the headers every response carries."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.commands import MAX_FIELD_DEPTH, MAX_FIELDS
from chalicelib.domain.instants import format_instant
from tests.integration.helpers import INCIDENT, Api, Customer, run_checker_until_done


def assert_400_naming(status: int, body: Any, field: str) -> None:
    assert status == 400, body
    assert field in body["error"]["fields"], body


# --- 1. `fields` cannot hold what a read could not hand back --------------------


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"": 1}, "fields."),
        ({"a": {"": "x"}}, "fields.a."),
        ({"a": [{"": None}]}, "fields.a.0."),
        ({f"f{n}": n for n in range(MAX_FIELDS + 1)}, "fields"),
        (
            {"deep": json.loads("[" * (MAX_FIELD_DEPTH + 1) + "]" * (MAX_FIELD_DEPTH + 1))},
            "fields.deep",
        ),
        ({"big": "x" * 9000}, "fields.big"),
        ({"n" * 101: 1}, "fields." + "n" * 101),
    ],
)
def test_fields_are_bounded_and_named_in_the_400(
    api: Api, customer: Customer, fields: dict[str, Any], named: str
) -> None:
    status, body = api.post("/tickets", customer.key, {**INCIDENT, "fields": fields})
    assert_400_naming(status, body, named)
    status, page = api.get("/tickets", customer.key)  # and nothing was stored that breaks it
    assert status == 200, page


def test_fields_within_bounds_are_kept(api: Api, customer: Customer) -> None:
    fields = {"module": "bot", "nested": {"a": [1, {"b": None}]}, "n": 1.5}
    status, ticket = api.post("/tickets", customer.key, {**INCIDENT, "fields": fields})
    assert status == 201, ticket
    _, read = api.get(f"/tickets/{ticket['id']}", customer.key)
    assert read["fields"] == fields


def test_one_unreadable_item_never_breaks_a_list_or_the_report(
    api: Api, customer: Customer, agent_key: str
) -> None:
    """An item not of the shape we write (hand-edited in the console, an older
    version) is logged with its key and skipped: the list and report answer 200."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    status, good = api.post("/tickets", customer.key, INCIDENT)
    assert status == 201
    bad_id = good["id"][:-1] + ("0" if good["id"][-1] != "0" else "1")
    item = {
        "pk": {"S": f"TICKET#{bad_id}"},
        "sk": {"S": "TICKET"},
        "ticket_id": {"S": bad_id},
        "tenant_id": {"S": customer.tenant_id},
        "gsi1pk": {"S": f"TENANT#{customer.tenant_id}"},
        "gsi1sk": {"S": bad_id},
        "reported_sk": {"S": f"{good['reported_at']}#{bad_id}"},
        "title": {"S": "hand-edited"},
        "sla": {"M": {"targets": {"L": []}}},  # no policy, no calendar
    }
    aws.client("dynamodb").put_item(TableName=get_settings().table_name, Item=item)

    status, page = api.get("/tickets", customer.key)
    assert status == 200, page
    assert [t["id"] for t in page["items"]] == [good["id"]]
    day = good["reported_at"][:10]
    status, report = api.get(
        f"/reports/sla?tenant_id={customer.tenant_id}&from={day}T00:00:00Z&to=2027-12-01T00:00:00Z",
        agent_key,
    )
    assert status == 200, report
    assert sum(row["tickets"] for row in report["items"]) == 1


def _plant_wrong_typed_copy(ticket_id: str, copy_id: str) -> None:
    """A copy of a ticket's item (due like it) whose `title` is a number: the shape
    a hand edit in the console leaves, which PynamoDB cannot deserialize."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    dynamodb, table = aws.client("dynamodb"), get_settings().table_name
    key = {"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": "TICKET"}}
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    for name in ("ticket_id", "gsi1sk"):
        item[name] = {"S": copy_id}
    item["pk"] = {"S": f"TICKET#{copy_id}"}
    item["reported_sk"] = {"S": item["reported_sk"]["S"].replace(ticket_id, copy_id)}
    item["title"] = {"N": "1"}
    dynamodb.put_item(TableName=table, Item=item)


def test_a_wrong_typed_attribute_breaks_no_list_report_or_checker_run(
    api: Api, customer: Customer, agent_key: str
) -> None:
    """A wrong-typed attribute fails while PynamoDB iterates a query or a batch
    get, not in our mapping: still the list and report answer 200 without it, a
    GET of it answers a typed error in the contract's shape, and the breach
    checker skips it and alerts the other due tickets (E8)."""
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    opened = {**INCIDENT, "tenant_id": customer.tenant_id, "priority": "blocker"}
    good, bad = (
        api.post("/tickets", agent_key, {**opened, "reported_at": format_instant(reported)})[1]
        for _ in range(2)
    )
    _plant_wrong_typed_copy(bad["id"], bad["id"])  # the same ticket, now unreadable

    status, page = api.get("/tickets", customer.key)
    assert status == 200, page
    assert [t["id"] for t in page["items"]] == [good["id"]]
    status, page = api.get("/tickets?status=new&priority=blocker", agent_key)
    assert status == 200, page
    since, until = (format_instant(reported + timedelta(days=d)) for d in (-1, 1))
    status, report = api.get(
        f"/reports/sla?tenant_id={customer.tenant_id}&from={since}&to={until}", agent_key
    )
    assert status == 200, report
    # 2: the whole day the tickets were reported on is read from its counters, which
    # hold each ticket as the product last wrote it (a hand edit since changes none)
    assert sum(row["tickets"] for row in report["items"]) == 2

    status, body = api.get(f"/tickets/{bad['id']}", agent_key)
    assert (status, body["error"]["code"]) == (500, "ticket_unreadable"), body
    assert set(body["error"]) == {"code", "message", "fields"}

    result = run_checker_until_done(api, datetime.now(UTC).replace(microsecond=0))
    _, history = api.get(f"/tickets/{good['id']}/events", agent_key)
    assert "sla.breached" in [e["type"] for e in history["items"]], result


# --- 3. strict types, JSON only, UTF-8 only ---------------------------------------


@pytest.mark.parametrize("minutes", [True, "1", 1.0])
def test_a_number_is_taken_as_sent(
    api: Api, customer: Customer, agent_key: str, minutes: Any
) -> None:
    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    status, body = api.post(
        f"/tickets/{ticket['id']}/actions", agent_key, {"action": "log_time", "minutes": minutes}
    )
    assert_400_naming(status, body, "minutes")
    _, read = api.get(f"/tickets/{ticket['id']}", agent_key)
    assert "logged_minutes" not in read["fields"]


def test_booleans_and_strings_are_taken_as_sent(api: Api, customer: Customer) -> None:
    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    status, body = api.post(
        f"/tickets/{ticket['id']}/comments", customer.key, {"body": "hi", "public": "true"}
    )
    assert_400_naming(status, body, "public")
    status, body = api.post("/tickets", customer.key, {**INCIDENT, "title": 12})
    assert_400_naming(status, body, "title")


def test_instants_still_parse_from_rfc3339_text(
    api: Api, agent_key: str, customer: Customer
) -> None:
    body = {**INCIDENT, "tenant_id": customer.tenant_id, "reported_at": "2026-11-20T15:00:00-03:00"}
    status, ticket = api.post("/tickets", agent_key, body)
    assert status == 201, ticket


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data",
        "application/json; charset=utf-16",
    ],
)
def test_a_body_that_is_not_json_is_415_in_the_contract_shape(
    api: Api, customer: Customer, content_type: str
) -> None:
    raw = json.dumps(INCIDENT)
    status, body = api.call(
        "POST", "/tickets", customer.key, raw=raw, headers={"Content-Type": content_type}
    )
    assert status == 415, body
    assert set(body) == {"error"}
    assert body["error"]["code"] == "unsupported_media_type"
    assert body["error"]["fields"] == {"Content-Type": body["error"]["fields"]["Content-Type"]}


def test_a_body_without_content_type_is_415(api: Api, customer: Customer) -> None:
    response = api.client.http.post(
        "/tickets",
        headers={"Authorization": f"Bearer {customer.key}"},
        body=json.dumps(INCIDENT).encode(),
    )
    assert response.status_code == 415
    assert json.loads(response.body)["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=UTF-8", "application/vnd.acme+json"],
)
def test_json_and_plus_json_are_accepted(api: Api, customer: Customer, content_type: str) -> None:
    status, ticket = api.call(
        "POST",
        "/tickets",
        customer.key,
        raw=json.dumps(INCIDENT),
        headers={"Content-Type": content_type},
    )
    assert status == 201, ticket


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf" + json.dumps(INCIDENT).encode(),  # UTF-8 with a BOM
        json.dumps(INCIDENT).encode("utf-16"),  # UTF-16 with its BOM
        json.dumps(INCIDENT).encode("utf-16-le"),  # UTF-16 without
        json.dumps(INCIDENT).encode("latin-1").replace(b"Bot", b"B\xf6t"),  # not UTF-8
    ],
)
def test_only_utf8_bodies_are_read(api: Api, customer: Customer, raw: bytes) -> None:
    status, body = api.call("POST", "/tickets", customer.key, raw=raw)
    assert status == 400, body
    assert body["error"]["code"] == "malformed_json"


# --- 7. headers ---------------------------------------------------------------------


def test_every_response_says_nosniff(api: Api, customer: Customer) -> None:
    responses = [
        api.client.http.get("/health"),
        api.client.http.get("/tickets"),  # 401
        api.client.http.delete("/tickets", headers={"Authorization": f"Bearer {customer.key}"}),
        api.client.http.get("/tickets", headers={"Authorization": f"Bearer {customer.key}"}),
    ]
    assert [r.status_code for r in responses] == [200, 401, 405, 200]
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Cache-Control" not in response.headers  # only secrets are no-store


# --- 4. history: id order and `at` order agree --------------------------------------


def test_history_ids_and_instants_agree_when_an_older_request_commits_later(
    api: Api, customer: Customer, agent_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request's `at` is its start; under concurrent writes one that started
    earlier can commit later (it lost the race and re-applied). Its event is still
    listed after the one committed before it, and `at` never goes backwards."""
    from datetime import timedelta

    from chalicelib.api import http

    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    start = http.utcnow()
    # request times in commit order: the 2nd and 4th started before the one before them
    offsets = iter([30, 10, 40, 40, 20, 50])

    def at(offset: int) -> None:
        monkeypatch.setattr(http, "utcnow", lambda: start + timedelta(seconds=offset))

    for n in range(3):
        at(next(offsets))
        status, _ = api.post(
            f"/tickets/{ticket['id']}/actions", agent_key, {"action": "log_time", "minutes": n + 1}
        )
        assert status == 200
        status, comment = api.post(
            f"/tickets/{ticket['id']}/comments", agent_key, {"body": f"c{n}"}
        )
        assert status == 201
    monkeypatch.undo()
    status, page = api.get(f"/tickets/{ticket['id']}/events", agent_key)
    assert status == 200, page
    events = page["items"]
    kinds = [e["type"] for e in events]
    assert kinds == ["created"] + ["action.log_time", "comment"] * 3  # commit order
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    instants = [e["at"] for e in events]
    assert instants == sorted(instants), instants
    assert (comment["id"], comment["at"]) == (events[-1]["id"], events[-1]["at"])  # as stored


def test_a_tenant_patch_is_strict_too(api: Api, admin_key: str, customer: Customer) -> None:
    path = f"/admin/tenants/{customer.tenant_id}"
    merge = {"Content-Type": "application/merge-patch+json"}
    status, body = api.patch(path, admin_key, {"contract": {"active": "yes"}}, headers=merge)
    assert_400_naming(status, body, "contract.active")
    status, tenant = api.patch(
        path,
        admin_key,
        {"operation_started_on": "2026-11-01", "contract": {"active": True}},
        headers=merge,
    )
    assert status == 200, tenant
    assert tenant["contract"]["active"] is True


@pytest.mark.parametrize(
    "edited",
    [{"M": {"calendar": {"S": "edited"}}}, {"S": "not a map"}],
    ids=["wrong-content", "wrong-type"],
)
def test_a_broken_sla_rules_item_breaks_no_list_or_checker_run_and_is_read_again_mended(
    api: Api,
    new_customer: Any,
    agent_key: str,
    monkeypatch: pytest.MonkeyPatch,
    edited: dict[str, Any],
) -> None:
    """The shared rules item of some tickets, hand-edited into a shape we do not
    write: those tickets are skipped like any unreadable item (the list answers
    200 without them, a GET of one is a typed 500, the checker alerts the others),
    the broken rules are not remembered, and once mended they read again."""
    from chalicelib import aws
    from chalicelib.settings import get_settings
    from chalicelib.store import sla_rules
    from tests.integration.helpers import raw_ticket_item

    # its own calendar (a holiday no other test names): rules no other ticket shares
    holiday = f"2031-{uuid.uuid4().int % 12 + 1:02d}-{uuid.uuid4().int % 28 + 1:02d}"
    customer = new_customer(calendar={"holidays": [holiday]})
    other = new_customer()
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    opened = {**INCIDENT, "priority": "blocker", "reported_at": format_instant(reported)}
    status, bad = api.post("/tickets", agent_key, {**opened, "tenant_id": customer.tenant_id})
    assert status == 201, bad
    status, good = api.post("/tickets", agent_key, {**opened, "tenant_id": other.tenant_id})
    assert status == 201, good
    ref = raw_ticket_item(bad["id"])["sla"]["M"]["rules"]["S"]
    assert raw_ticket_item(good["id"])["sla"]["M"]["rules"]["S"] != ref

    dynamodb, table = aws.client("dynamodb"), get_settings().table_name
    stored = dynamodb.get_item(TableName=table, Key=sla_rules.key(ref), ConsistentRead=True)
    broken = {**stored["Item"], "rules": edited}
    dynamodb.put_item(TableName=table, Item=broken)
    monkeypatch.setattr(sla_rules, "_docs", {})  # a container that never read them
    try:
        status, page = api.get("/tickets?limit=50", customer.key)
        assert (status, page["items"]) == (200, []), page
        status, body = api.get(f"/tickets/{bad['id']}", agent_key)
        assert (status, body["error"]["code"]) == (500, "ticket_unreadable"), body
        result = run_checker_until_done(api, datetime.now(UTC).replace(microsecond=0))
        _, history = api.get(f"/tickets/{good['id']}/events", agent_key)
        assert "sla.breached" in [e["type"] for e in history["items"]], result
        assert sla_rules.known(ref) is None
    finally:
        dynamodb.put_item(TableName=table, Item=stored["Item"])  # mended
    status, read = api.get(f"/tickets/{bad['id']}", agent_key)
    assert status == 200, read
    status, page = api.get("/tickets?limit=50", customer.key)
    assert [t["id"] for t in page["items"]] == [bad["id"]]
