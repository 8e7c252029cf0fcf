"""Replay equals reality (issue 23; ARCHITECTURE, "One way to change a ticket"):
a ticket's recorded history, replayed through the aggregate under the policy it
was planned with (`chalicelib.domain.replay`), gives exactly the stored ticket:
status, priority, assignee, targets (due instants, states, breaches) and charge.
A difference is a rule written outside the aggregate.

Histories are generated (hypothesis) and written by the real routes on moto, so
the entries are the ones the services record; then the demo tenants of the local
stack (dev/demo.py) with a scripted day of work; then what replay cannot do: a
ticket re-targeted by a policy change (E9) is named, with why.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import policies as shipped
from tests.integration.helpers import (
    INCIDENT,
    KEYBE_FAILURE,
    Api,
    RequestClock,
    history,
    with_target,
)

# Profiles: a tenant (policy and terms) and the tickets its customers open.
QUERY = {"title": "Question", "description": "How do I export?", "kind": "query"}
PROFILES: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "aivo": (
        {"policy": "aivo", "contract": {"active": True, "options": ["integrations_24x7"]}},
        [{**INCIDENT, "priority": p} for p in ("blocker", "high", "medium", "low")]
        + [
            QUERY,
            {**INCIDENT, "integration": {"built_by": "provider", "name": "CRM"}},  # A3
            {**INCIDENT, "kind": "feature_request", "priority": None},  # A7
        ],
    ),
    "keybe": (
        {"policy": "keybe", "tier": "premium"},
        [KEYBE_FAILURE, {**KEYBE_FAILURE, "priority": "emergency"}, QUERY],
    ),
    "keybe_prime": ({"policy": "keybe", "tier": "prime"}, [QUERY]),  # K2
    "dx_contract": (
        {"policy": "digital_express", "contract": {"active": True}},
        [{**QUERY, "priority": "urgent"}, {**INCIDENT, "priority": "normal"}],
    ),
    "dx_no_contract": (  # DX2-DX4: fee, approval, payment, waiver
        {"policy": "digital_express", "contract": {"active": False}},
        [{**QUERY, "channel": "email"}],
    ),
    "clever": (
        {"policy": "clever_ideas", "billing": {"hourly_rate": "60.00"}},
        [
            {**INCIDENT, "priority": "high"},
            {
                "title": "dialers please",
                "description": "See the attached screenshot",
                "kind": "service_request",
                "fields": {"product": "ucontact", "action": "dialers"},
            },
        ],
    ),
}
PRIORITIES = ("blocker", "high", "medium", "low", "emergency", "normal", "urgent")
# (action, who takes it, parameters)
OPERATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("assign", "agent", {"agent": "ana"}),
    ("assign", "agent", {"agent": "luis"}),
    ("wait_on_customer", "agent", {}),
    ("resume", "customer", {}),
    ("resolve", "agent", {}),
    ("resolve", "agent", {"resolution_cause": "external"}),
    ("reopen", "customer", {}),
    ("close", "customer", {}),
    ("assess", "agent", {"requires_quote": True}),
    ("log_time", "agent", {"minutes": 30}),
    ("approve_charge", "customer", {}),
    ("mark_paid", "admin", {}),
    ("transfer_commercial", "agent", {}),
    *[("set_priority", "agent", {"priority": p}) for p in PRIORITIES],
    ("comment", "agent", {"public": True}),
    ("comment", "agent", {"public": False}),
    ("comment", "customer", {"public": True}),
]


class Keys:
    def __init__(self, admin: str, agent: str, customers: dict[str, tuple[str, str]]) -> None:
        self.admin, self.agent, self.customers = admin, agent, customers

    def of(self, who: str, profile: str) -> str:
        if who == "admin":
            return self.admin
        return self.agent if who == "agent" else self.customers[profile][1]


@pytest.fixture(scope="module")
def request_clock() -> Iterator[RequestClock]:
    from chalicelib.api import http

    clock = RequestClock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(http, "utcnow", clock)
        yield clock


@pytest.fixture(scope="module")
def keys(api: Api, admin_key: str, agent_key: str) -> Keys:
    customers: dict[str, tuple[str, str]] = {}
    for name, (tenant, _) in PROFILES.items():
        tenant_id = f"r-{name.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
        status, body = api.post(
            "/admin/tenants", admin_key, {"id": tenant_id, "name": name, **tenant}
        )
        assert status == 201, body
        status, body = api.post(f"/admin/tenants/{tenant_id}/keys", admin_key, {"role": "customer"})
        assert status == 201, body
        customers[name] = (tenant_id, body["api_key"])
    return Keys(admin_key, agent_key, customers)


def apply(api: Api, key: str, ticket_id: str, action: str, params: dict[str, Any]) -> int:
    if action == "comment":
        status, _ = api.post(f"/tickets/{ticket_id}/comments", key, {"body": "…", **params})
    else:
        status, _ = api.post(f"/tickets/{ticket_id}/actions", key, {"action": action, **params})
    assert status < 500
    return status


def check(ticket_id: str, now: datetime) -> list[str]:
    from chalicelib.services import whatif

    return whatif.check_ticket(ticket_id, now)


_serial = itertools.count()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    profile=st.sampled_from(sorted(PROFILES)),
    body=st.integers(0, 10),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)),
    steps=st.lists(
        st.tuples(st.integers(0, 3 * 24 * 60), st.integers(0, len(OPERATIONS) - 1)),
        max_size=10,
    ),
)
def test_replay_under_the_stored_policy_gives_the_stored_ticket(
    api: Api,
    keys: Keys,
    request_clock: RequestClock,
    profile: str,
    body: int,
    start: datetime,
    steps: list[tuple[int, int]],
) -> None:
    # Given a ticket opened at a random instant of 2026 (weekends, holidays, DST of
    # the tenants' calendars), then random operations at random delays; the ones its
    # status or the role refuse are refused, as they would be
    tenant_id, _ = keys.customers[profile]
    bodies = PROFILES[profile][1]
    now = start.replace(tzinfo=UTC, microsecond=0) + timedelta(seconds=next(_serial))
    request_clock.now = now
    payload = {k: v for k, v in bodies[body % len(bodies)].items() if v is not None}
    status, ticket = api.post("/tickets", keys.agent, {**payload, "tenant_id": tenant_id})
    assert status == 201, ticket
    for minutes, index in steps:
        now += timedelta(minutes=minutes)
        request_clock.now = now
        action, who, params = OPERATIONS[index]
        apply(api, keys.of(who, profile), ticket["id"], action, params)
    # When its history is replayed under the stored policy, as of a day later
    # Then it is the stored ticket
    assert check(ticket["id"], now + timedelta(days=1)) == []


def test_a_partner_helpdesks_ticket_replays_to_what_is_stored(
    api: Api, admin_key: str, new_customer: Any, clock: RequestClock
) -> None:
    """Entries a partner's webhook wrote (`actor.role: partner`, the comment's
    `author_role`) replay like the API's."""
    from tests.integration.helpers import Helpdesk

    customer = new_customer()
    clock.now = datetime.now(UTC).replace(microsecond=0)  # the fixtures' own times
    status, partner = api.post(
        "/admin/partners",
        admin_key,
        {"id": f"p-{uuid.uuid4().hex[:8]}", "tenant_id": customer.tenant_id, "format": "generic"},
    )
    assert status == 201, partner
    desk = Helpdesk(api, "generic", partner["id"], partner["secret"], customer.tenant_id)
    status, opened = desk.send("ticket_created")
    assert status == 200, opened
    assert opened["applied"], opened
    for name in ("ticket_updated", "ticket_assigned", "comment_created", "ticket_solved"):
        status, answer = desk.send(name)  # E7 to blocker, assigned, replied, solved
        assert status == 200, (name, answer)
        assert answer["applied"], (name, answer)
    types = [e["type"] for e in history(api, admin_key, opened["ticket_id"])]
    assert types[:1] + sorted(set(types) - {"created"}) == [
        "created",
        "action.assign",
        "action.resolve",
        "action.set_priority",
        "comment",
    ]
    assert check(opened["ticket_id"], clock.now + timedelta(hours=1)) == []


def test_what_replay_cannot_reproduce_is_named_with_why(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, clock: RequestClock
) -> None:
    # Given a high ticket of a custom policy, 5 business hours in, when an admin
    # shortens high resolution to 4 business hours: re-targeted, breached at once (E7, E9)
    doc = shipped.load_shipped()["aivo"].model_dump(mode="json")
    policy_id = doc["id"] = f"rp-{uuid.uuid4().hex[:8]}"
    clock.set("2026-11-02T12:00:00Z")  # Monday 09:00 in Buenos Aires
    assert api.put(f"/admin/policies/{policy_id}", admin_key, doc)[0] == 200
    customer = new_customer(policy=policy_id)
    status, ticket = api.post("/tickets", agent_key, {**INCIDENT, "tenant_id": customer.tenant_id})
    assert status == 201, ticket
    clock.set("2026-11-02T17:00:00Z")
    doc = with_target(doc, "A2.high", "resolution", hours=4)
    status, stored = api.put(f"/admin/policies/{policy_id}", admin_key, doc)
    assert status == 200, stored
    assert stored["retargeted"] == 1, stored
    # When it is replayed under the policy now stored (version 2, from the opening)
    found = check(ticket["id"], clock.now)
    # Then it is named, and why: its breach is at the re-target (17:00 UTC), while
    # version 2 from the start breaches it at 16:00; the old version is not kept
    from chalicelib.domain.replay import GAP_RETARGETED

    assert found[0] == GAP_RETARGETED
    assert any("2026-11-02T17:00:00Z" in line for line in found[1:]), found
    # And the simulation says so too, comparing replay with replay for that ticket
    status, body = api.post(
        f"/admin/policies/{policy_id}/simulate",
        admin_key,
        {"policy": doc, "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
    )
    assert status == 200, body
    assert body["unreproduced"] == [{"ticket_id": ticket["id"], "reasons": [GAP_RETARGETED]}]
    assert body["changed_total"] == 0


def test_dx4_waivers_by_a_late_assignment_and_by_the_checker_replay(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, clock: RequestClock
) -> None:
    """DX2-DX4: fee quoted, approved, paid (the 3 h first response starts), then
    waived: once by an assignment after the due instant, once by the breach
    checker (its `sla.*` alerts and `charge.waived` entry are in the history)."""
    from tests.integration.helpers import run_checker_until_done

    customer = new_customer(
        policy="digital_express", contract={"active": False}, billing={"ticket_fee": "38.50"}
    )
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    ids = []
    for _ in range(2):
        clock.now = start
        status, ticket = api.post("/tickets", customer.key, {**QUERY, "channel": "email"})
        assert status == 201, ticket
        ids.append(ticket["id"])
        clock.now = start + timedelta(minutes=5)
        assert apply(api, customer.key, ticket["id"], "approve_charge", {}) == 200
        clock.now = start + timedelta(minutes=10)
        assert apply(api, admin_key, ticket["id"], "mark_paid", {}) == 200
    late, unattended = ids
    clock.now = start + timedelta(hours=4)
    assert apply(api, agent_key, late, "assign", {"agent": "ana"}) == 200
    run_checker_until_done(api, start + timedelta(hours=5))
    for ticket_id in ids:
        status, stored = api.get(f"/tickets/{ticket_id}", agent_key)
        assert stored["charge"]["status"] == "waived", stored
        assert check(ticket_id, start + timedelta(hours=6)) == []
    types = {e["type"] for e in history(api, admin_key, unattended)}
    assert {"sla.warning", "sla.breached", "charge.waived"} <= types


# A day of work on each demo tenant: (minutes after 09:00 UTC, who, action, params).
DEMO_DAY: list[tuple[int, str, str, dict[str, Any]]] = [
    (20, "agent", "assign", {"agent": "ana"}),
    (60, "agent", "comment", {"public": True}),
    (90, "agent", "wait_on_customer", {}),
    (300, "customer", "resume", {}),
    (310, "agent", "set_priority", {}),  # the policy's other priority (E7)
    (400, "agent", "log_time", {"minutes": 45}),
    (480, "agent", "resolve", {}),
    (600, "customer", "reopen", {}),
    (24 * 60, "agent", "resolve", {"resolution_cause": "external"}),
    (25 * 60, "customer", "close", {}),
]
DEMO_BODIES: dict[str, list[dict[str, Any]]] = {
    "aivo": [{**INCIDENT, "priority": "high"}, {**INCIDENT, "priority": "blocker"}, QUERY],
    "keybe": [KEYBE_FAILURE, {**QUERY, "priority": "emergency"}],
    "clever_ideas": [PROFILES["clever"][1][1], {**INCIDENT, "priority": "medium"}],
    "digital_express": [{**QUERY, "priority": "urgent"}, {**INCIDENT, "priority": "normal"}],
}
OTHER_PRIORITY = {
    "aivo": "medium",
    "keybe": "normal",
    "clever_ideas": "low",
    "digital_express": "urgent",
}


def test_the_demo_tenants_work_replays_to_what_is_stored(
    api: Api, admin_key: str, agent_key: str, clock: RequestClock, provider: dict[str, str]
) -> None:
    """The local stack's demo data (dev/demo.py: one tenant per shipped policy, its
    keys) with a scripted day of work per ticket, each ticket its step further:
    replay under each shipped policy gives every ticket as stored, and an
    unchanged draft changes nothing."""
    from chalicelib.services import whatif
    from dev import demo

    keys = demo.create(uuid.uuid4().bytes)
    day = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
    for tenant in demo.TENANTS:
        customer = keys[tenant.variable]
        for offset, body in enumerate(DEMO_BODIES[tenant.policy]):
            clock.now = day + timedelta(minutes=offset)
            if tenant.policy == "digital_express" and "no-contract" in tenant.id:
                body = {**body, "channel": "email"}  # DX2: e-mail only without a contract
            status, ticket = api.post("/tickets", customer, body)
            assert status == 201, (tenant.id, ticket)
            for minutes, who, action, params in DEMO_DAY[: 4 + 3 * offset]:
                clock.now = day + timedelta(minutes=offset + minutes)
                if action == "set_priority":
                    params = {"priority": OTHER_PRIORITY[tenant.policy]}
                key = {"agent": agent_key, "admin": admin_key}.get(who, customer)
                apply(api, key, ticket["id"], action, params)
    now = day + timedelta(days=3)
    for tenant in demo.TENANTS:
        assert whatif.reality_check(tenant.policy, day, now, now, tenant.id) == {}, tenant.id
        stored = whatif._stored_policy(tenant.policy).model_dump(mode="json")
        answer = whatif.simulate(tenant.policy, stored, day, now, tenant.id, now)
        assert answer["tickets"] == len(DEMO_BODIES[tenant.policy])
        assert (answer["changed_total"], answer["unreproduced_total"]) == (0, 0), answer
