"""GET /reports/sla: tickets reported in [from, to), per priority, judged by
their own SLA state (docs/api.md: breached if any target is, met if all are;
achievement_pct = 100·met/(met+breached))."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.helpers import INCIDENT, Api, Customer, act, assert_error, done


def z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(hours=3)  # the report's [from, to)
END = NOW


def report(api: Api, key: str, tenant_id: str, start: datetime = START, end: datetime = END) -> Any:
    status, body = api.get(f"/reports/sla?from={z(start)}&to={z(end)}&tenant_id={tenant_id}", key)
    assert status == 200, body
    return body


def reported(api: Api, agent_key: str, customer: Customer, at: datetime, **fields: Any) -> str:
    status, ticket = api.post(
        "/tickets",
        agent_key,
        {**INCIDENT, "tenant_id": customer.tenant_id, "reported_at": z(at), **fields},
    )
    assert status == 201, ticket
    return str(ticket["id"])


def verdict(ticket: dict[str, Any]) -> str:
    """What a user reading the ticket concludes (docs/api.md's definition)."""
    states = [t["state"] for t in ticket["sla"]["targets"] if t["state"] != "cancelled"]
    if "breached" in states:
        return "breached"
    return "met" if states and all(s == "met" for s in states) else "neither"


def test_report_counts_per_priority_as_the_tickets_own_state(
    api: Api, customer: Customer, agent_key: str, aws_calls: Counter[str]
) -> None:
    """Aivo blockers: first response 1 h, resolution 6 h, 24x7 (A2)."""
    met = reported(api, agent_key, customer, NOW - timedelta(minutes=30), priority="blocker")
    late = reported(api, agent_key, customer, NOW - timedelta(hours=2), priority="blocker")
    at_from = reported(api, agent_key, customer, START, priority="blocker")  # never answered
    running = reported(api, agent_key, customer, NOW - timedelta(minutes=10), priority="blocker")
    hour_ago = NOW - timedelta(hours=1)
    query = reported(api, agent_key, customer, hour_ago, kind="query", priority=None)  # low
    feature = reported(api, agent_key, customer, hour_ago, kind="feature_request", priority=None)
    # outside [from, to): one second before `from`, and at `to` exactly
    reported(api, agent_key, customer, START - timedelta(seconds=1), priority="blocker")
    for tid in (met, late):
        done(api, agent_key, tid, "assign", agent="a")
        done(api, agent_key, tid, "resolve")
    reported(api, agent_key, customer, END, priority="blocker")
    aws_calls.clear()

    body = report(api, agent_key, customer.tenant_id)
    assert "Scan" not in aws_calls
    assert (body["from"], body["to"], body["tenant_id"]) == (z(START), z(END), customer.tenant_id)
    assert body["items"] == [
        {"priority": "blocker", "tickets": 4, "met": 1, "breached": 2, "achievement_pct": 33.33},
        {"priority": "high", "tickets": 0, "met": 0, "breached": 0, "achievement_pct": None},
        {"priority": "medium", "tickets": 0, "met": 0, "breached": 0, "achievement_pct": None},
        {"priority": "low", "tickets": 2, "met": 0, "breached": 0, "achievement_pct": None},
    ]
    # the same numbers a user gets by reading each ticket
    seen: Counter[tuple[str, str]] = Counter()
    for tid in (met, late, at_from, running, query, feature):
        _, ticket = api.get(f"/tickets/{tid}", agent_key)
        seen[(ticket["priority"], verdict(ticket))] += 1
    for row in body["items"]:
        assert row["met"] == seen[(row["priority"], "met")]
        assert row["breached"] == seen[(row["priority"], "breached")]


def test_report_access_and_input(
    api: Api, customer: Customer, agent_key: str, admin_key: str
) -> None:
    base = f"/reports/sla?from={z(START)}&to={z(END)}"
    assert_error(*api.get(f"{base}&tenant_id={customer.tenant_id}", customer.key), 403)
    assert api.get(f"{base}&tenant_id={customer.tenant_id}", admin_key)[0] == 200
    assert_error(*api.get(f"{base}&tenant_id=nobody-here", agent_key), 404)
    status, body = api.get(
        f"/reports/sla?from={z(END)}&to={z(START)}&tenant_id={customer.tenant_id}", agent_key
    )
    assert_error(status, body, 400)
    assert "to" in body["error"]["fields"]
    status, body = api.get(f"/reports/sla?to=yesterday&tenant_id={customer.tenant_id}", agent_key)
    assert_error(status, body, 400)
    assert {"from", "to"} <= set(body["error"]["fields"])
    status, body = api.get(
        f"/reports/sla?from=2026-01-01T00:00:00&to={z(END)}&tenant_id={customer.tenant_id}",
        agent_key,
    )
    assert_error(status, body, 400)  # an instant needs its offset
    # the offset is honoured: 03:00-03:00 is 06:00Z
    status, body = api.get(
        "/reports/sla?from=2026-01-01T03:00:00-03:00&to=2026-01-02T00:00:00%2B00:00"
        f"&tenant_id={customer.tenant_id}",
        agent_key,
    )
    assert status == 200, body
    assert body["from"] == "2026-01-01T06:00:00Z"


def test_a_resolved_late_ticket_is_breached_in_the_report_even_after_reopening(
    api: Api, customer: Customer, agent_key: str
) -> None:
    """E6: a breach stays a breach."""
    tid = reported(api, agent_key, customer, NOW - timedelta(hours=7), priority="blocker")
    done(api, agent_key, tid, "assign", agent="a")
    done(api, agent_key, tid, "resolve")
    assert act(api, customer.key, tid, "reopen")[0] == 200
    body = report(api, agent_key, customer.tenant_id, NOW - timedelta(hours=8), NOW)
    (row,) = [i for i in body["items"] if i["priority"] == "blocker"]
    assert (row["tickets"], row["met"], row["breached"]) == (1, 0, 1)


def test_a_provider_report_without_tenant_sums_every_customer(
    api: Api, agent_key: str, new_customer: Any
) -> None:
    """docs/api.md: `tenant_id` is optional for agent and admin keys: every customer."""
    first, second = new_customer(), new_customer()
    for who in (first, second):
        status, _ = api.post(
            "/tickets",
            agent_key,
            {**INCIDENT, "tenant_id": who.tenant_id, "reported_at": z(START + timedelta(hours=1))},
        )
        assert status == 201
    one = {r["priority"]: r for r in report(api, agent_key, first.tenant_id)["items"]}
    two = {r["priority"]: r for r in report(api, agent_key, second.tenant_id)["items"]}
    status, everyone = api.get(f"/reports/sla?from={z(START)}&to={z(END)}", agent_key)
    assert status == 200, everyone
    assert everyone["tenant_id"] is None
    for row in everyone["items"]:
        mine = one.get(row["priority"], {}).get("tickets", 0)
        mine += two.get(row["priority"], {}).get("tickets", 0)
        assert row["tickets"] >= mine
    assert sum(r["tickets"] for r in everyone["items"]) >= 2
