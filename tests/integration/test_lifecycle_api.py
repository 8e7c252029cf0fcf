"""A ticket's life through the API: actions with their roles and statuses,
comments, history, list filters (issue 5). Rules cited: E5, E6, E7, A4, A5, A6,
K5, DX2, C4."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.helpers import INCIDENT, Api, Customer, act, assert_error, done


def targets(ticket: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["metric"]: t for t in ticket["sla"]["targets"]}


def history(api: Api, key: str, ticket_id: str) -> list[dict[str, Any]]:
    status, page = api.get(f"/tickets/{ticket_id}/events?limit=100", key)
    assert status == 200, page
    return list(page["items"])


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_ticket(api: Api, key: str, **fields: Any) -> dict[str, Any]:
    status, ticket = api.post("/tickets", key, {**INCIDENT, **fields})
    assert status == 201, ticket
    return dict(ticket)


def subscribe(types: list[str]) -> Callable[[], list[dict[str, Any]]]:
    """A subscriber of the alerts topic filtering on `type` (an SQS queue, raw
    delivery); returns a function that reads what it received."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=f"sub-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    aws.client("sns").subscribe(
        TopicArn=get_settings().alerts_topic_arn,
        Protocol="sqs",
        Endpoint=arn["QueueArn"],
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"type": types})},
    )

    def received() -> list[dict[str, Any]]:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in answer.get("Messages", [])]

    return received


@pytest.fixture
def blocker(api: Api, customer: Customer) -> dict[str, Any]:
    """An Aivo blocker: first response 1 h, resolution 6 h, both 24x7 (A2)."""
    return open_ticket(api, customer.key, priority="blocker")


# ---------------------------------------------------------------------- a whole life


def test_a_whole_life_is_in_the_history_with_who_did_what(
    api: Api, customer: Customer, agent_key: str, admin_key: str, blocker: dict[str, Any]
) -> None:
    tid = blocker["id"]
    done(api, agent_key, tid, "assign", agent="ana@provider.example")
    done(api, agent_key, tid, "wait_on_customer")
    done(api, customer.key, tid, "resume")
    done(api, agent_key, tid, "log_time", minutes=25)
    done(api, agent_key, tid, "resolve")
    done(api, customer.key, tid, "reopen")
    done(api, admin_key, tid, "resolve", resolution_cause="external")
    closed = done(api, customer.key, tid, "close")
    assert closed["status"] == "closed"

    events = history(api, agent_key, tid)
    assert [(e["type"], e["actor"]["role"]) for e in events] == [
        ("created", "customer"),
        ("action.assign", "agent"),
        ("action.wait_on_customer", "agent"),
        ("action.resume", "customer"),
        ("action.log_time", "agent"),
        ("action.resolve", "agent"),
        ("action.reopen", "customer"),
        ("action.resolve", "admin"),
        ("action.close", "customer"),
    ]
    assert all(e["actor"]["key_id"].startswith("key_") for e in events)
    assign = events[1]["data"]
    assert assign["agent"] == "ana@provider.example"
    assert (assign["previous_status"], assign["status"]) == ("new", "open")
    assert assign["met"] == ["first_response"]
    assert events[7]["data"]["resolution_cause"] == "external"
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)


def test_the_response_is_the_ticket_as_get_returns_it(
    api: Api, customer: Customer, agent_key: str, blocker: dict[str, Any]
) -> None:
    after = done(api, agent_key, blocker["id"], "assign", agent="ana")
    status, fetched = api.get(f"/tickets/{blocker['id']}", customer.key)
    assert status == 200
    assert fetched["status"] == after["status"] == "open"
    assert fetched["assignee"] == after["assignee"] == "ana"
    assert [t["state"] for t in fetched["sla"]["targets"]] == [
        t["state"] for t in after["sla"]["targets"]
    ]


# ---------------------------------------------------------------------- SLA effects


def test_assignment_meets_first_response(api: Api, agent_key: str, blocker: dict[str, Any]) -> None:
    """E5, A5."""
    ticket = done(api, agent_key, blocker["id"], "assign", agent="ana")
    first = targets(ticket)["first_response"]
    assert first["state"] == "met"
    assert first["met_at"] is not None
    assert targets(ticket)["resolution"]["state"] == "running"


def test_assigned_late_first_response_stays_breached(
    api: Api, customer: Customer, agent_key: str
) -> None:
    """E5: met after its due instant it stays breached, with met_at recorded."""
    ticket = open_ticket(
        api, agent_key, priority="blocker", tenant_id=customer.tenant_id, reported_at=ago(hours=2)
    )
    first = targets(done(api, agent_key, ticket["id"], "assign", agent="ana"))["first_response"]
    assert first["state"] == "breached"
    assert first["met_at"] is not None
    assert first["breached_at"] is not None


def test_waiting_on_the_customer_stops_resolution_not_first_response(
    api: Api, customer: Customer, agent_key: str, blocker: dict[str, Any]
) -> None:
    """E6, A6: resolution pauses (no due instant), first response keeps running."""
    waiting = done(api, agent_key, blocker["id"], "wait_on_customer")
    assert waiting["status"] == "pending_customer"
    assert targets(waiting)["resolution"]["state"] == "paused"
    assert targets(waiting)["resolution"]["due_at"] is None
    assert targets(waiting)["first_response"]["state"] == "running"
    resumed = done(api, customer.key, blocker["id"], "resume")
    assert resumed["status"] == "open"
    assert targets(resumed)["resolution"]["state"] == "running"
    assert targets(resumed)["resolution"]["due_at"] is not None


def test_resolve_then_reopen_runs_resolution_again_and_a_breach_stays(
    api: Api, customer: Customer, agent_key: str
) -> None:
    """E5, E6: resolved late (7 h > 6 h) it is breached; reopened, it runs again,
    met_at cleared, still breached."""
    ticket = open_ticket(
        api, agent_key, priority="blocker", tenant_id=customer.tenant_id, reported_at=ago(hours=7)
    )
    done(api, agent_key, ticket["id"], "assign", agent="ana")
    resolved = done(api, agent_key, ticket["id"], "resolve")
    assert resolved["status"] == "resolved"
    assert resolved["resolution_cause"] == "fixed"
    resolution = targets(resolved)["resolution"]
    assert (resolution["state"], resolution["met_at"] is not None) == ("breached", True)
    reopened = done(api, customer.key, ticket["id"], "reopen")
    resolution = targets(reopened)["resolution"]
    assert reopened["status"] == "open"
    assert reopened["resolution_cause"] is None
    assert resolution["met_at"] is None
    assert resolution["state"] == "breached"
    assert resolution["elapsed_seconds"] >= 7 * 3600


def test_resolve_on_time_meets_resolution(
    api: Api, customer: Customer, agent_key: str, blocker: dict[str, Any]
) -> None:
    done(api, agent_key, blocker["id"], "assign", agent="ana")
    resolved = done(api, agent_key, blocker["id"], "resolve")
    assert {m: t["state"] for m, t in targets(resolved).items()} == {
        "first_response": "met",
        "resolution": "met",
    }
    reopened = done(api, customer.key, blocker["id"], "reopen")
    assert targets(reopened)["resolution"]["state"] == "running"


def test_an_external_cause_meets_resolution(
    api: Api, agent_key: str, blocker: dict[str, Any]
) -> None:
    """A4: closed with evidence of an external cause, resolution is met."""
    done(api, agent_key, blocker["id"], "assign", agent="ana")
    resolved = done(api, agent_key, blocker["id"], "resolve", resolution_cause="external")
    assert resolved["resolution_cause"] == "external"
    assert targets(resolved)["resolution"]["state"] == "met"


def test_set_priority_retargets_against_the_time_elapsed(
    api: Api, customer: Customer, agent_key: str
) -> None:
    """E7: a low ticket reported 2 h ago raised to blocker (first response 1 h
    24x7) is breached at once; the history records both priorities."""
    ticket = open_ticket(
        api, agent_key, priority="low", tenant_id=customer.tenant_id, reported_at=ago(hours=2)
    )
    raised = done(api, agent_key, ticket["id"], "set_priority", priority="blocker")
    assert raised["priority"] == "blocker"
    first = targets(raised)["first_response"]
    assert (first["clock"], first["target_seconds"], first["state"]) == ("24x7", 3600, "breached")
    assert targets(raised)["resolution"]["target_seconds"] == 6 * 3600
    event = history(api, agent_key, ticket["id"])[-1]
    assert event["type"] == "action.set_priority"
    assert (event["data"]["previous_priority"], event["data"]["priority"]) == ("low", "blocker")


def test_set_priority_to_one_the_policy_does_not_know_is_400(
    api: Api, agent_key: str, blocker: dict[str, Any]
) -> None:
    status, body = act(api, agent_key, blocker["id"], "set_priority", priority="cosmic")
    assert_error(status, body, 400)
    assert "priority" in body["error"]["fields"]


def test_close_cancels_what_runs_but_keeps_a_breach(
    api: Api, customer: Customer, agent_key: str
) -> None:
    ticket = open_ticket(
        api, agent_key, priority="blocker", tenant_id=customer.tenant_id, reported_at=ago(hours=2)
    )
    closed = done(api, customer.key, ticket["id"], "close")
    assert {m: t["state"] for m, t in targets(closed).items()} == {
        "first_response": "breached",
        "resolution": "cancelled",
    }


def test_assess_meets_study_and_marks_the_quote(
    api: Api, new_customer: Any, agent_key: str
) -> None:
    """K5: a requirement's 48 h study is met by the assessment; requires_quote
    is kept in its fields."""
    keybe = new_customer(policy="keybe", tier="standard")
    ticket = open_ticket(
        api,
        keybe.key,
        kind="requirement",
        priority="normal",
        fields={"example": "a bot that books visits"},
    )
    assert targets(ticket)["study"]["target_seconds"] == 48 * 3600
    assessed = done(api, agent_key, ticket["id"], "assess", requires_quote=True)
    assert assessed["status"] == "assessed"
    assert targets(assessed)["study"]["state"] == "met"
    assert assessed["fields"]["requires_quote"] is True


def test_dx2_approval_payment_and_only_then_the_clock(
    api: Api, new_customer: Any, agent_key: str, admin_key: str
) -> None:
    """DX2: awaiting_approval -> approve (billing order) -> awaiting_payment ->
    paid (admin) -> queued, first response 3 h 24x7 starting at payment."""
    administration = subscribe(["billing.order"])
    dx = new_customer(policy="digital_express", contract={"active": False})
    ticket = open_ticket(api, dx.key, channel="email", priority=None)
    assert ticket["status"] == "awaiting_approval"
    assert targets(ticket)["first_response"]["state"] == "pending"
    tid = ticket["id"]

    assert_error(*act(api, dx.key, tid, "mark_paid"), 403)
    approved = done(api, dx.key, tid, "approve_charge")
    assert approved["status"] == "awaiting_payment"
    (order,) = administration()
    assert (order["type"], order["ticket_id"], order["tenant_id"]) == (
        "billing.order",
        tid,
        dx.tenant_id,
    )
    assert order["id"] == f"{tid}:billing.order"
    assert targets(approved)["first_response"]["started_at"] is None
    assert_error(*act(api, agent_key, tid, "mark_paid"), 403)
    paid = done(api, admin_key, tid, "mark_paid")
    assert paid["status"] == "queued"
    first = targets(paid)["first_response"]
    assert first["state"] == "running"
    assert first["started_at"] == paid["updated_at"]
    assert first["target_seconds"] == 3 * 3600
    opened = done(api, agent_key, tid, "assign", agent="ana")
    assert opened["status"] == "open"
    assert targets(opened)["first_response"]["state"] == "met"

    types = [e["type"] for e in history(api, dx.key, tid)]
    assert types == [
        "created",
        "charge.quoted",
        "comment",  # the automatic reply stating the fee (DX2)
        "action.approve_charge",
        "charge.approved",
        "billing.order",
        "action.mark_paid",
        "charge.paid",
        "action.assign",
    ]


def test_a_request_for_extra_services_goes_to_the_commercial_team(
    api: Api, new_customer: Any, agent_key: str
) -> None:
    """DX2: transferred to commercial_quote; the commercial team is alerted."""
    dx = new_customer(policy="digital_express", contract={"active": False})
    ticket = open_ticket(api, dx.key, channel="email", priority=None, title="Training")
    commercial = subscribe(["commercial.review_required"])
    moved = done(api, agent_key, ticket["id"], "transfer_commercial")
    assert moved["status"] == "commercial_quote"
    sent = commercial()
    assert [m["ticket_id"] for m in sent] == [ticket["id"]]
    *_, action, alert = history(api, agent_key, ticket["id"])
    assert alert["type"] == "commercial.review_required"
    assert alert["actor"]["role"] == "system"
    # a repeatable alert is keyed on the history entry of the action that raised it
    assert action["type"] == "action.transfer_commercial"
    expected = f"{ticket['id']}:commercial.review_required#{action['id']}"
    assert alert["data"]["id"] == expected
    assert [m["id"] for m in sent] == [expected]


def test_log_time_accumulates_and_each_entry_is_in_the_history(
    api: Api, customer: Customer, agent_key: str, blocker: dict[str, Any]
) -> None:
    """C4: the total logged is `fields.logged_minutes`."""
    done(api, agent_key, blocker["id"], "log_time", minutes=30)
    ticket = done(api, agent_key, blocker["id"], "log_time", minutes=45)
    assert ticket["fields"]["logged_minutes"] == 75
    logged = [e for e in history(api, agent_key, blocker["id"]) if e["type"] == "action.log_time"]
    assert [e["data"]["minutes"] for e in logged] == [30, 45]
    assert_error(*act(api, customer.key, blocker["id"], "log_time", minutes=5), 403)


# ---------------------------------------------------------------------- refusals


def test_an_action_the_status_does_not_allow_is_422_naming_the_statuses(
    api: Api, customer: Customer, agent_key: str, blocker: dict[str, Any]
) -> None:
    status, body = act(api, agent_key, blocker["id"], "resolve")
    assert_error(status, body, 422, "action_not_allowed")
    assert body["error"]["fields"]["action"] == (
        "allowed when status is one of: open, pending_customer, assessed"
    )
    assert_error(*act(api, customer.key, blocker["id"], "reopen"), 422)
    assert_error(*act(api, customer.key, blocker["id"], "resume"), 422)
    assert_error(*act(api, customer.key, blocker["id"], "approve_charge"), 422)
    # nothing was written by the refusals
    assert [e["type"] for e in history(api, agent_key, blocker["id"])] == ["created"]


def test_a_closed_ticket_takes_no_action_and_no_comment(
    api: Api, customer: Customer, agent_key: str, blocker: dict[str, Any]
) -> None:
    done(api, customer.key, blocker["id"], "close")
    for action, params in (("close", {}), ("assign", {"agent": "a"}), ("log_time", {"minutes": 1})):
        assert_error(*act(api, agent_key, blocker["id"], action, **params), 422)
    status, body = api.post(f"/tickets/{blocker['id']}/comments", customer.key, {"body": "hello?"})
    assert_error(status, body, 422)


def test_roles_per_action(
    api: Api, customer: Customer, agent_key: str, blocker: dict[str, Any]
) -> None:
    """Customers may approve_charge, resume, reopen and close; no more."""
    for action, params in (
        ("assign", {"agent": "me"}),
        ("set_priority", {"priority": "low"}),
        ("wait_on_customer", {}),
        ("assess", {}),
        ("resolve", {}),
        ("log_time", {"minutes": 5}),
        ("transfer_commercial", {}),
        ("mark_paid", {}),
    ):
        status, body = act(api, customer.key, blocker["id"], action, **params)
        assert_error(status, body, 403)
    assert_error(*act(api, agent_key, blocker["id"], "mark_paid"), 403)


def test_bad_parameters_are_400_naming_each(
    api: Api, agent_key: str, blocker: dict[str, Any]
) -> None:
    status, body = act(api, agent_key, blocker["id"], "assign", minutes=5)
    assert_error(status, body, 400)
    assert body["error"]["fields"] == {
        "agent": "required for assign",
        "minutes": "not a parameter of assign",
    }
    status, body = act(api, agent_key, blocker["id"], "fly")
    assert_error(status, body, 400)
    assert "action" in body["error"]["fields"]
    status, body = act(api, agent_key, blocker["id"], "log_time", minutes=0)
    assert "minutes" in body["error"]["fields"]
    status, body = act(api, agent_key, blocker["id"], "resolve", resolution_cause="magic")
    assert "resolution_cause" in body["error"]["fields"]


def test_an_unknown_ticket_is_404(api: Api, agent_key: str) -> None:
    status, body = act(api, agent_key, "tkt_01JZZZZZZZZZZZZZZZZZZZZZZZ", "close")
    assert_error(status, body, 404, "ticket_not_found")


def test_an_action_replays_with_the_same_idempotency_key(
    api: Api, agent_key: str, blocker: dict[str, Any]
) -> None:
    path = f"/tickets/{blocker['id']}/actions"
    headers = {"Idempotency-Key": "log-once"}
    first = api.post(path, agent_key, {"action": "log_time", "minutes": 30}, headers=headers)
    again = api.post(path, agent_key, {"action": "log_time", "minutes": 30}, headers=headers)
    assert first[0] == 200
    assert again == first
    assert api.get(f"/tickets/{blocker['id']}", agent_key)[1]["fields"]["logged_minutes"] == 30


def test_an_action_costs_a_few_dynamodb_calls(
    api: Api, agent_key: str, blocker: dict[str, Any], aws_calls: Counter[str]
) -> None:
    # the agent's key is resolved already (a warm container's key cache): no key lookup
    done(api, agent_key, blocker["id"], "assign", agent="ana")
    assert dict(aws_calls) == {"GetItem": 1, "TransactWriteItems": 1}  # the ticket; write
    aws_calls.clear()
    done(api, agent_key, blocker["id"], "set_priority", priority="high")
    assert dict(aws_calls) == {"GetItem": 3, "TransactWriteItems": 1}  # + tenant, policy


# ---------------------------------------------------------------------- comments


def test_comment_shape_and_history(
    api: Api, customer: Customer, agent_key: str, blocker: dict[str, Any]
) -> None:
    status, posted = api.post(
        f"/tickets/{blocker['id']}/comments", customer.key, {"body": "Still down"}
    )
    assert status == 201, posted
    assert set(posted) == {"id", "at", "body", "public", "author_role"}
    assert (posted["body"], posted["public"], posted["author_role"]) == (
        "Still down",
        True,
        "customer",
    )
    event = history(api, customer.key, blocker["id"])[-1]
    assert (event["id"], event["type"], event["at"]) == (posted["id"], "comment", posted["at"])
    assert event["data"]["body"] == "Still down"


def test_an_aivo_reply_without_assignment_does_not_meet_first_response(
    api: Api, agent_key: str, blocker: dict[str, Any]
) -> None:
    """A5: only assignment meets Aivo's first response."""
    status, _ = api.post(f"/tickets/{blocker['id']}/comments", agent_key, {"body": "Looking"})
    assert status == 201
    status, ticket = api.get(f"/tickets/{blocker['id']}", agent_key)
    assert targets(ticket)["first_response"]["state"] == "running"


def test_a_public_agent_reply_meets_first_response_elsewhere(
    api: Api, new_customer: Any, agent_key: str
) -> None:
    """E5: under Digital Express (contract) a public agent reply meets it; an
    internal note or the customer's own comment does not."""
    dx = new_customer(policy="digital_express", contract={"active": True})
    ticket = open_ticket(api, dx.key, priority="urgent")
    path = f"/tickets/{ticket['id']}/comments"
    assert api.post(path, dx.key, {"body": "Any news?"})[0] == 201
    assert api.post(path, agent_key, {"body": "internal", "public": False})[0] == 201
    _, now = api.get(f"/tickets/{ticket['id']}", agent_key)
    assert targets(now)["first_response"]["state"] == "running"
    assert api.post(path, agent_key, {"body": "On it"})[0] == 201
    _, now = api.get(f"/tickets/{ticket['id']}", agent_key)
    assert targets(now)["first_response"]["state"] == "met"
    assert now["status"] == "new"  # a reply does not take the ticket


def test_internal_notes_are_hidden_from_the_customer(
    api: Api, customer: Customer, agent_key: str, blocker: dict[str, Any]
) -> None:
    path = f"/tickets/{blocker['id']}/comments"
    assert api.post(path, agent_key, {"body": "customer is grumpy", "public": False})[0] == 201
    assert api.post(path, agent_key, {"body": "We are on it"})[0] == 201
    seen_by_customer = [e["data"].get("body") for e in history(api, customer.key, blocker["id"])]
    seen_by_agent = [e["data"].get("body") for e in history(api, agent_key, blocker["id"])]
    assert "customer is grumpy" not in seen_by_customer
    assert "We are on it" in seen_by_customer
    assert "customer is grumpy" in seen_by_agent
    status, body = api.post(path, customer.key, {"body": "psst", "public": False})
    assert_error(status, body, 403)


def test_bad_comments_are_400(api: Api, customer: Customer, blocker: dict[str, Any]) -> None:
    path = f"/tickets/{blocker['id']}/comments"
    status, body = api.post(path, customer.key, {"body": ""})
    assert_error(status, body, 400)
    assert "body" in body["error"]["fields"]
    status, body = api.post(path, customer.key, {"body": "x", "public": "maybe", "at": 1})
    assert {"public", "at"} <= set(body["error"]["fields"])


# ---------------------------------------------------------------------- list filters


def _ids(api: Api, key: str, query: str) -> list[str]:
    """Every id of a filtered list, following the cursors (2 a page)."""
    seen: list[str] = []
    cursor = None
    while True:
        path = f"/tickets?limit=2&{query}" + (f"&cursor={cursor}" if cursor else "")
        status, page = api.get(path, key)
        assert status == 200, page
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_list_filters_status_priority_breached_never_scan(
    api: Api, new_customer: Any, agent_key: str, aws_calls: Counter[str]
) -> None:
    acme = new_customer()
    key = acme.key

    def make(priority: str, **more: Any) -> str:
        body = {"priority": priority, "tenant_id": acme.tenant_id, **more}
        return str(open_ticket(api, agent_key, **body)["id"])

    high_new = make("high")
    blocker_open = make("blocker")
    done(api, agent_key, blocker_open, "assign", agent="a")
    late_open = make("blocker", reported_at=ago(hours=3))
    done(api, agent_key, late_open, "assign", agent="a")  # met late: breached
    late_closed = make("high", reported_at=ago(days=6))
    done(api, agent_key, late_closed, "assign", agent="a")
    done(api, agent_key, late_closed, "close")
    low_new = make("low")
    aws_calls.clear()

    assert _ids(api, key, "status=open") == [late_open, blocker_open]
    assert _ids(api, key, "priority=high") == [late_closed, high_new]
    assert _ids(api, key, "breached=true") == [late_closed, late_open]
    assert _ids(api, key, "breached=true&status=open") == [late_open]
    assert _ids(api, key, "breached=true&priority=high") == [late_closed]
    assert _ids(api, key, "status=new&priority=low") == [low_new]
    assert _ids(api, key, "breached=false") == [low_new, blocker_open, high_new]
    assert _ids(api, key, "status=resolved") == []
    assert "Scan" not in aws_calls
    # a cursor belongs to its filter
    _, page = api.get("/tickets?limit=1&status=open", key)
    status, body = api.get(f"/tickets?limit=1&status=new&cursor={page['next_cursor']}", key)
    assert_error(status, body, 400)
    status, body = api.get("/tickets?status=sleeping&breached=perhaps&=x", key)
    assert_error(status, body, 400)
    assert {"status", "breached", "query"} <= set(body["error"]["fields"])
