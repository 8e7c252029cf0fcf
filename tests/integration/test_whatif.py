"""What-if and explain over the API (issue 23; docs/api.md, "What-if: a draft
policy against real tickets" and "Why a target is due when it is").

Each test puts a fresh tenant on a fresh copy of a shipped policy, so the tickets
under that policy are its own; the request clock is moved by hand."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from chalicelib import policies as shipped
from tests.integration.helpers import (
    INCIDENT,
    Api,
    Customer,
    RequestClock,
    assert_error,
    done,
    history,
    iso,
    with_target,
)

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # Monday 09:00 in Buenos Aires
WINDOW = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}


@pytest.fixture
def policy_copy(api: Api, admin_key: str) -> Any:
    """Store a copy of a shipped policy under a new id: (its id, its document)."""

    def make(base: str = "aivo") -> tuple[str, dict[str, Any]]:
        doc = shipped.load_shipped()[base].model_dump(mode="json")
        policy_id = f"wi-{uuid.uuid4().hex[:8]}"
        doc["id"] = policy_id
        status, body = api.put(f"/admin/policies/{policy_id}", admin_key, doc)
        assert status == 200, body
        return policy_id, doc

    return make


@pytest.fixture
def under(api: Api, admin_key: str, new_customer: Any) -> Any:
    """A customer tenant under a policy."""

    def make(policy_id: str, **fields: Any) -> Customer:
        customer: Customer = new_customer(policy=policy_id, **fields)
        return customer

    return make


def at(clock: RequestClock, when: datetime) -> None:
    clock.now = when


def open_ticket(api: Api, agent_key: str, tenant_id: str, **fields: Any) -> dict[str, Any]:
    status, ticket = api.post("/tickets", agent_key, {**INCIDENT, "tenant_id": tenant_id, **fields})
    assert status == 201, ticket
    return dict(ticket)


def answered_blocker(api: Api, agent_key: str, customer: Customer, clock: RequestClock) -> str:
    """A blocker opened at T0 and assigned 45 minutes later: in time for 1 h (A2)."""
    at(clock, T0)
    ticket = str(open_ticket(api, agent_key, customer.tenant_id, priority="blocker")["id"])
    at(clock, T0 + timedelta(minutes=45))
    done(api, agent_key, ticket, "assign", agent="ana")
    return ticket


def a_week_of_tickets(
    api: Api, agent_key: str, customer: Customer, clock: RequestClock
) -> dict[str, str]:
    """Tickets with every kind of history entry replay reads: assignments, pauses,
    replies, a priority change (E7), resolution, reopen, close."""
    tenant = customer.tenant_id
    at(clock, T0)
    high = open_ticket(api, agent_key, tenant)["id"]
    blocker = open_ticket(api, agent_key, tenant, priority="blocker")["id"]
    medium = open_ticket(api, agent_key, tenant, priority="medium")["id"]
    query = open_ticket(api, agent_key, tenant, kind="query", priority=None)["id"]
    at(clock, T0 + timedelta(minutes=30))
    done(api, agent_key, blocker, "assign", agent="ana")
    done(api, agent_key, medium, "wait_on_customer")  # E6
    status, _ = api.post(f"/tickets/{query}/comments", agent_key, {"body": "On it"})
    assert status == 201
    at(clock, T0 + timedelta(hours=3))
    done(api, customer.key, medium, "resume")
    done(api, agent_key, high, "set_priority", priority="medium")  # E7
    done(api, agent_key, blocker, "resolve")
    at(clock, T0 + timedelta(hours=5))
    done(api, customer.key, blocker, "reopen")  # E6
    done(api, agent_key, query, "assign", agent="luis")
    done(api, agent_key, query, "resolve", resolution_cause="external")  # A4
    at(clock, T0 + timedelta(days=1))
    done(api, agent_key, blocker, "resolve")
    done(api, customer.key, query, "close")
    at(clock, T0 + timedelta(days=2))
    return {"high": high, "blocker": blocker, "medium": medium, "query": query}


def simulate(
    api: Api, admin_key: str, policy_id: str, draft: dict[str, Any], **more: Any
) -> tuple[int, Any]:
    return api.post(
        f"/admin/policies/{policy_id}/simulate", admin_key, {"policy": draft, **WINDOW, **more}
    )


def test_an_unchanged_draft_changes_nothing_and_current_is_the_sla_report(
    api: Api, admin_key: str, agent_key: str, policy_copy: Any, under: Any, clock: RequestClock
) -> None:
    # Given a week of tickets under a copy of Aivo's policy
    policy_id, doc = policy_copy()
    customer = under(policy_id)
    a_week_of_tickets(api, agent_key, customer, clock)
    # When the stored document itself is simulated
    status, body = simulate(api, admin_key, policy_id, doc)
    # Then nothing changes, every ticket replays to what is stored, and `current`
    # is what GET /reports/sla says
    assert status == 200, body
    assert body["tickets"] == 4
    assert (body["changed"], body["changed_total"]) == ([], 0)
    assert (body["unreproduced"], body["unreproduced_total"], body["refused"]) == ([], 0, [])
    status, report = api.get(
        f"/reports/sla?from={WINDOW['from']}&to={WINDOW['to']}&tenant_id={customer.tenant_id}",
        agent_key,
    )
    assert status == 200, report
    assert body["current"]["items"] == report["items"]
    assert body["draft"] == body["current"]
    by_priority = {i["priority"]: i for i in report["items"]}
    assert by_priority["blocker"]["tickets"] == 1  # the report is not empty
    assert sum(i["tickets"] for i in report["items"]) == 4


def test_a_longer_target_changes_what_it_should_and_stores_nothing(
    api: Api, admin_key: str, agent_key: str, policy_copy: Any, under: Any, clock: RequestClock
) -> None:
    # Given an open high ticket (A2: resolution 8 business hours, first response 2)
    # nobody took, and a blocker answered in time
    policy_id, doc = policy_copy()
    customer = under(policy_id)
    at(clock, T0)
    high = open_ticket(api, agent_key, customer.tenant_id)
    blocker = open_ticket(api, agent_key, customer.tenant_id, priority="blocker")["id"]
    at(clock, T0 + timedelta(minutes=10))
    done(api, agent_key, blocker, "assign", agent="ana")
    at(clock, T0 + timedelta(hours=1))
    before = {t: api.get(f"/tickets/{t}", agent_key)[1] for t in (high["id"], blocker)}
    entries = {t: len(history(api, agent_key, t)) for t in before}
    # When a draft gives high tickets 16 business hours to resolution
    draft = with_target(doc, "A2.high", "resolution", hours=16)
    status, body = simulate(api, admin_key, policy_id, draft, tenant_id=customer.tenant_id)
    # Then exactly the high ticket's resolution is due later: Tuesday, not Monday
    assert status == 200, body
    assert body["changed_total"] == 1
    assert body["changed"] == [
        {
            "ticket_id": high["id"],
            "metric": "resolution",
            "current_due_at": "2026-11-02T20:00:00Z",  # Monday 17:00 local
            "draft_due_at": "2026-11-03T19:00:00Z",  # Tuesday 16:00 local (9 h + 7 h)
            "current_state": "running",
            "draft_state": "running",
        }
    ]
    # And nothing was stored: tickets, histories and the policy's version as they were
    assert {t: api.get(f"/tickets/{t}", agent_key)[1] for t in before} == before
    assert {t: len(history(api, agent_key, t)) for t in before} == entries
    status, stored = api.get(f"/admin/policies/{policy_id}", admin_key)
    assert stored == {**doc, "version": 1}  # a new custom policy's first version


def test_a_shorter_first_response_turns_a_met_target_breached(
    api: Api, admin_key: str, agent_key: str, policy_copy: Any, under: Any, clock: RequestClock
) -> None:
    policy_id, doc = policy_copy()
    ticket = answered_blocker(api, agent_key, under(policy_id), clock)
    draft = with_target(doc, "A2.blocker", "first_response", minutes=30)
    status, body = simulate(api, admin_key, policy_id, draft)
    assert status == 200, body
    assert body["changed"] == [
        {
            "ticket_id": ticket,
            "metric": "first_response",
            "current_due_at": iso(T0 + timedelta(hours=1)),
            "draft_due_at": iso(T0 + timedelta(minutes=30)),
            "current_state": "met",
            "draft_state": "breached",
        }
    ]
    blockers = {i["priority"]: i for i in body["draft"]["items"]}["blocker"]
    assert (blockers["met"], blockers["breached"]) == (0, 1)


def test_a_bad_draft_is_a_400_naming_each_field(api: Api, admin_key: str, policy_copy: Any) -> None:
    policy_id, doc = policy_copy()
    draft = {**doc, "calendar": {**doc["calendar"], "timezone": "Mars/Olympus"}, "kinds": {}}
    status, body = simulate(api, admin_key, policy_id, draft)
    assert_error(status, body, 400, "invalid_policy")
    assert {"policy.calendar.timezone", "policy.kinds"} <= set(body["error"]["fields"])


def test_simulate_bounds_and_roles(
    api: Api,
    admin_key: str,
    agent_key: str,
    policy_copy: Any,
    under: Any,
    clock: RequestClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy_id, doc = policy_copy()
    customer = under(policy_id)
    at(clock, T0)
    for _ in range(3):
        open_ticket(api, agent_key, customer.tenant_id)
    # more than 400 days: 400 naming `to`
    status, body = api.post(
        f"/admin/policies/{policy_id}/simulate",
        admin_key,
        {"policy": doc, "from": "2025-01-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
    )
    assert_error(status, body, 400)
    assert "to" in body["error"]["fields"]
    # more tickets than a simulation replays: 422 naming the count (bound lowered to 2)
    from chalicelib.services import whatif

    monkeypatch.setattr(whatif, "MAX_TICKETS", 2)
    status, body = simulate(api, admin_key, policy_id, doc)
    assert_error(status, body, 422, "too_many_tickets")
    assert "3 tickets" in body["error"]["message"]
    # a simulation that would outlast the request stops with a 422 saying so
    monkeypatch.setattr(whatif, "MAX_TICKETS", 2_000)
    monkeypatch.setattr(whatif, "REPLAY_SECONDS", -1.0)
    status, body = simulate(api, admin_key, policy_id, doc)
    assert_error(status, body, 422, "simulation_too_long")
    assert "replayed 0 of 3 tickets" in body["error"]["message"]
    # an agent may not simulate; an unknown policy is a 404
    status, body = simulate(api, agent_key, policy_id, doc)
    assert_error(status, body, 403)
    status, body = simulate(api, admin_key, "no-such-policy", doc)
    assert_error(status, body, 404)


def test_the_bound_counts_only_the_tickets_under_the_policy(
    api: Api,
    admin_key: str,
    agent_key: str,
    policy_copy: Any,
    under: Any,
    clock: RequestClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A customer keeps the tickets it had under its earlier policy: the 2,000 bound
    counts the index's entries alone (no ticket read) while they are within it,
    and past it the tickets under the policy, read from their items."""
    from chalicelib import aws
    from chalicelib.services import whatif
    from chalicelib.settings import get_settings

    policy_id, doc = policy_copy()
    customer = under(policy_id)
    at(clock, T0)
    ids = [open_ticket(api, agent_key, customer.tenant_id)["id"] for _ in range(3)]
    aws.client("dynamodb").update_item(  # opened before its tenant moved to the policy
        TableName=get_settings().table_name,
        Key={"pk": {"S": f"TICKET#{ids[0]}"}, "sk": {"S": "TICKET"}},
        UpdateExpression="SET sla.#p = :p",
        ExpressionAttributeNames={"#p": "policy"},
        ExpressionAttributeValues={":p": {"S": "aivo"}},
    )
    monkeypatch.setattr(whatif, "MAX_TICKETS", 2)  # 3 entries, 2 tickets under the policy
    status, body = simulate(api, admin_key, policy_id, doc)
    assert status == 200, body
    assert body["tickets"] == 2
    monkeypatch.setattr(whatif, "MAX_TICKETS", 1)
    status, body = simulate(api, admin_key, policy_id, doc)
    assert_error(status, body, 422, "too_many_tickets")
    assert "2 tickets" in body["error"]["message"]


# ------------------------------------------------------------------ explain


def explain(api: Api, key: str, ticket_id: str) -> Any:
    status, body = api.get(f"/tickets/{ticket_id}/sla/explain", key)
    assert status == 200, body
    return body


def assert_adds_up(target: dict[str, Any]) -> None:
    steps = target["steps"]
    assert steps[0]["from"] == target["started_at"]
    assert steps[-1]["to"] == target["due_at"]
    for before, after in pairwise(steps):
        assert before["to"] == after["from"]
    assert sum(s["counted_seconds"] for s in steps) == target["target_seconds"]


def test_explain_says_why_a_friday_evening_ticket_is_due_on_tuesday(
    api: Api, agent_key: str, new_customer: Any, clock: RequestClock
) -> None:
    # Given an Aivo high incident reported Friday 2026-05-22 19:00 in Buenos Aires,
    # before the weekend and the 25 May holiday (A1, A2)
    customer = new_customer()
    at(clock, datetime(2026, 5, 22, 22, 0, tzinfo=UTC))
    ticket = open_ticket(api, agent_key, customer.tenant_id)
    # When its customer asks why
    body = explain(api, customer.key, ticket["id"])
    # Then each target names its rules and walks to its due instant
    assert (body["policy"], body["ticket_id"]) == ("aivo", ticket["id"])
    targets = {t["metric"]: t for t in body["targets"]}
    resolution = targets["resolution"]
    assert resolution["rules"] == ["A2", "E1", "E2", "E3", "E4"]
    assert resolution["policy_rules"] == ["A2.high"]
    assert resolution["timezone"] == "America/Argentina/Buenos_Aires"
    assert resolution["due_at"] == "2026-05-26T20:00:00Z"  # Tuesday 17:00 local
    assert [(s["why"], s.get("date")) for s in resolution["steps"]] == [
        ("outside hours", None),
        ("weekend", None),
        ("holiday", "2026-05-25"),
        ("outside hours", None),
        ("business hours", None),
    ]
    for target in body["targets"]:
        assert_adds_up(target)
    # And the OpenAPI document's example is this very answer
    from chalicelib.api.examples import EXPLAINED_RESOLUTION

    assert resolution == EXPLAINED_RESOLUTION


def test_explain_across_a_dst_change_and_a_pause(
    api: Api,
    admin_key: str,
    agent_key: str,
    policy_copy: Any,
    under: Any,
    clock: RequestClock,
) -> None:
    # Given Aivo's policy on a Madrid calendar (CET -> CEST on 2026-03-29)
    policy_id, _ = policy_copy()
    customer = under(policy_id, calendar={"timezone": "Europe/Madrid", "country": "ES"})
    at(clock, datetime(2026, 3, 27, 16, 0, tzinfo=UTC))  # Friday 17:00 CET
    ticket = open_ticket(api, agent_key, customer.tenant_id, priority="medium")["id"]
    at(clock, datetime(2026, 3, 27, 16, 30, tzinfo=UTC))
    done(api, agent_key, ticket, "wait_on_customer")  # E6
    at(clock, datetime(2026, 3, 30, 8, 0, tzinfo=UTC))  # Monday 10:00 CEST
    done(api, customer.key, ticket, "resume")
    body = explain(api, customer.key, ticket)
    targets = {t["metric"]: t for t in body["targets"]}
    resolution = targets["resolution"]
    assert_adds_up(resolution)
    assert resolution["timezone"] == "Europe/Madrid"
    paused = [s for s in resolution["steps"] if s["why"] == "paused"]
    assert paused == [
        {
            "from": "2026-03-27T16:30:00Z",
            "to": "2026-03-30T08:00:00Z",
            "counted_seconds": 0,
            "why": "paused",
            "status": "pending_customer",
        }
    ]
    assert "E6" in resolution["rules"]
    business = [s for s in resolution["steps"] if s["why"] == "business hours"]
    assert business[1]["from"] == "2026-03-30T08:00:00Z"
    assert business[1]["to"] == "2026-03-30T16:00:00Z"  # 18:00 CEST: wall hours kept
    assert_adds_up(targets["first_response"])


def test_explain_of_another_tenants_ticket_is_404(
    api: Api, agent_key: str, new_customer: Any, clock: RequestClock
) -> None:
    one, other = new_customer(), new_customer()
    at(clock, T0)
    ticket = open_ticket(api, agent_key, one.tenant_id)["id"]
    status, body = api.get(f"/tickets/{ticket}/sla/explain", other.key)
    assert_error(status, body, 404)


def test_the_cli_prints_both_achievement_tables_side_by_side(
    api: Api,
    admin_key: str,
    agent_key: str,
    policy_copy: Any,
    under: Any,
    clock: RequestClock,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from chalicelib import cli

    # Given a blocker answered in 45 minutes and a draft that gives blockers 30
    policy_id, doc = policy_copy()
    ticket = answered_blocker(api, agent_key, under(policy_id), clock)
    done(api, agent_key, ticket, "resolve")
    draft = with_target(doc, "A2.blocker", "first_response", minutes=30)
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(draft))
    args = ["simulate", "--policy-file", str(path), "--from", WINDOW["from"], "--to", WINDOW["to"]]
    # When an operator simulates it
    assert cli.main(args) == 0
    table = capsys.readouterr().out
    # Then the blocker row reads met under the stored policy, breached under the draft
    assert f"policy {policy_id} (stored version 1) against the draft: 1 tickets" in table
    blocker = next(line for line in table.splitlines() if line.startswith("blocker"))
    assert blocker.split("|")[1].split() == ["1", "1", "0", "100.00", "%"]
    assert blocker.split("|")[2].split() == ["1", "0", "1", "0.00", "%"]
    assert f"{ticket} first_response: due {iso(T0 + timedelta(hours=1))} ->" in table
    # And --json prints the API's answer
    assert cli.main([*args, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["changed_total"] == 1
    assert answer["changed"][0]["draft_state"] == "breached"
