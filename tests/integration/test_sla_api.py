"""SLA targets through the API (issue 4): POST /tickets plans them from the tenant's
policy, tier, contract and calendar; GET /tickets/{id} shows them as of the request.

The request time is frozen (`clock`) so every instant below is computed by hand.
Buenos Aires is UTC-3 all year (no DST). Argentine holidays near the dates used
(`holidays` package): Mon 2026-11-23 (National Sovereignty Day); Fri 2026-11-20 and
Mon 2026-11-16 are working days. Aivo's calendar: Mon-Fri 09:00-18:00 (A1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.helpers import INCIDENT, Api, Customer

# "Today": Monday 2026-11-23 12:00 in Buenos Aires, an Argentine holiday.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
H = 3600


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the request time the routes see (chalicelib.api.http.utcnow)."""
    from chalicelib.api import http

    frozen = Clock()
    monkeypatch.setattr(http, "utcnow", lambda: frozen.now)
    return frozen


def targets(ticket: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["metric"]: t for t in ticket["sla"]["targets"]}


def open_as_agent(api: Api, agent_key: str, tenant: Customer, **body: Any) -> dict[str, Any]:
    status, ticket = api.post(
        "/tickets", agent_key, {**INCIDENT, "tenant_id": tenant.tenant_id, **body}
    )
    assert status == 201, ticket
    return dict(ticket)


def fields_of(status: int, body: Any) -> dict[str, str]:
    assert status == 400, body
    return dict(body["error"]["fields"])


# --- Aivo (A1, A2, A3, A7) ----------------------------------------------------


def test_a2_high_backdated_friday_evening_is_due_monday_morning(
    api: Api, agent_key: str, customer: Customer, clock: Clock
) -> None:
    """A2 high: 2 business h of first response, 8 of resolution. Reported Friday
    2026-11-13 17:00 local (an agent logs a phone call later, E3): one hour on
    Friday, the rest from Monday 09:00 -> first response due Monday 10:00 local."""
    ticket = open_as_agent(api, agent_key, customer, reported_at="2026-11-13T17:00:00-03:00")
    assert ticket["reported_at"] == "2026-11-13T20:00:00Z"
    assert ticket["created_at"] == "2026-11-23T15:00:00Z"
    first, resolution = targets(ticket)["first_response"], targets(ticket)["resolution"]
    assert (first["clock"], first["target_seconds"]) == ("business", 2 * H)
    assert first["started_at"] == "2026-11-13T20:00:00Z"
    assert first["due_at"] == "2026-11-16T13:00:00Z"  # Monday 10:00 local
    assert (resolution["clock"], resolution["target_seconds"]) == ("business", 8 * H)
    assert resolution["due_at"] == "2026-11-16T19:00:00Z"  # Monday 16:00 local


def test_e5_a_past_due_running_target_is_breached_with_negative_remaining(
    api: Api, agent_key: str, customer: Customer, clock: Clock
) -> None:
    """E5: as of Mon 2026-11-23 (a holiday) the ticket of Fri 13th 17:00 has run
    1 h (Fri 13) + 5 x 9 h (Mon 16 - Fri 20) = 46 business h; nothing is met."""
    ticket = open_as_agent(api, agent_key, customer, reported_at="2026-11-13T17:00:00-03:00")
    status, seen = api.get(f"/tickets/{ticket['id']}", agent_key)
    assert status == 200, seen
    first, resolution = targets(seen)["first_response"], targets(seen)["resolution"]
    assert first["state"] == resolution["state"] == "breached"
    assert first["elapsed_seconds"] == resolution["elapsed_seconds"] == 46 * H
    assert first["remaining_seconds"] == (2 - 46) * H
    assert resolution["remaining_seconds"] == (8 - 46) * H
    assert first["breached_at"] == first["due_at"] == "2026-11-16T13:00:00Z"


def test_a2_medium_five_business_days_skip_the_argentine_holiday(
    api: Api, agent_key: str, customer: Customer, clock: Clock
) -> None:
    """A2 medium: 4 business h / 5 business days = 5 x 9 = 45 business h (E2).
    Reported Fri 2026-11-20 17:00 local; Mon 23 is a holiday (A1) and counts nothing:
    first response Fri 1 h + Tue 3 h -> Tue 24 12:00 local; resolution Fri 1 h,
    Tue-Fri 36 h, Mon 30 8 h -> Mon 30 17:00 local."""
    ticket = open_as_agent(
        api, agent_key, customer, priority="medium", reported_at="2026-11-20T20:00:00Z"
    )
    first, resolution = targets(ticket)["first_response"], targets(ticket)["resolution"]
    assert first["target_seconds"] == 4 * H
    assert resolution["target_seconds"] == 45 * H
    assert first["due_at"] == "2026-11-24T15:00:00Z"
    assert resolution["due_at"] == "2026-11-30T20:00:00Z"
    # As of the request: Monday the 23rd is a holiday, so only Friday's hour counts.
    _, seen = api.get(f"/tickets/{ticket['id']}", agent_key)
    first = targets(seen)["first_response"]
    assert (first["state"], first["elapsed_seconds"], first["remaining_seconds"]) == (
        "running",
        1 * H,
        3 * H,
    )
    # Tuesday 11:00 local: 3 h elapsed, 1 h left.
    clock.set("2026-11-24T14:00:00Z")
    _, seen = api.get(f"/tickets/{ticket['id']}", agent_key)
    first = targets(seen)["first_response"]
    assert (first["state"], first["elapsed_seconds"], first["remaining_seconds"]) == (
        "running",
        3 * H,
        1 * H,
    )
    # At the due instant itself the target is breached (E5), remaining 0.
    clock.set("2026-11-24T15:00:00Z")
    _, seen = api.get(f"/tickets/{ticket['id']}", agent_key)
    first = targets(seen)["first_response"]
    assert (first["state"], first["remaining_seconds"]) == ("breached", 0)
    assert targets(seen)["resolution"]["state"] == "running"


def test_backdating_is_bounded_to_400_days_and_never_the_future(
    api: Api, agent_key: str, customer: Customer, clock: Clock
) -> None:
    """docs/api.md: reported_at at most 400 days back, never in the future -> 400."""
    body = {**INCIDENT, "tenant_id": customer.tenant_id}
    oldest = "2025-10-19T15:00:00Z"  # exactly 400 days before now
    assert api.post("/tickets", agent_key, {**body, "reported_at": oldest})[0] == 201
    too_old = api.post("/tickets", agent_key, {**body, "reported_at": "2025-10-19T14:59:59Z"})
    assert "reported_at" in fields_of(*too_old)
    future = api.post("/tickets", agent_key, {**body, "reported_at": "2026-11-23T15:00:01Z"})
    assert "reported_at" in fields_of(*future)


def test_a3_night_high_integration_incident_gets_16_hours_24x7(
    api: Api, agent_key: str, new_customer: Any, clock: Clock
) -> None:
    """A3: contracted 24x7 integrations support, a provider-built integration, a high
    incident reported at night (Wed 18th 23:30 local = Thu 02:30Z): resolution 16 h
    on the 24x7 clock; first response stays A2 (2 business h from Thu 09:00)."""
    tenant = new_customer(contract={"active": True, "options": ["integrations_24x7"]})
    crm = {"built_by": "provider", "name": "CRM"}
    night = open_as_agent(
        api, agent_key, tenant, integration=crm, reported_at="2026-11-18T23:30:00-03:00"
    )
    resolution = targets(night)["resolution"]
    assert (resolution["clock"], resolution["target_seconds"]) == ("24x7", 16 * H)
    assert resolution["due_at"] == "2026-11-19T18:30:00Z"
    assert targets(night)["first_response"]["due_at"] == "2026-11-19T14:00:00Z"
    # Inside working hours A2 stands: 8 business hours.
    day = open_as_agent(
        api, agent_key, tenant, integration=crm, reported_at="2026-11-19T10:00:00-03:00"
    )
    assert targets(day)["resolution"]["clock"] == "business"
    assert targets(day)["resolution"]["target_seconds"] == 8 * H
    # Never for a self-service integration, nor for a customer without the option.
    own = {"built_by": "self_service", "name": "Zapier"}
    self_built = open_as_agent(
        api, agent_key, tenant, integration=own, reported_at="2026-11-18T23:30:00-03:00"
    )
    assert targets(self_built)["resolution"]["clock"] == "business"
    plain_tenant = new_customer()
    uncontracted = open_as_agent(
        api, agent_key, plain_tenant, integration=crm, reported_at="2026-11-18T23:30:00-03:00"
    )
    assert targets(uncontracted)["resolution"]["clock"] == "business"


def test_a7_feature_requests_carry_no_targets(api: Api, customer: Customer, clock: Clock) -> None:
    status, ticket = api.post(
        "/tickets", customer.key, {**INCIDENT, "kind": "feature_request", "priority": None}
    )
    assert status == 201, ticket
    assert ticket["sla"]["targets"] == []
    assert ticket["priority"] == "low"


def test_unknown_kind_or_priority_names_the_field(api: Api, customer: Customer) -> None:
    assert "kind" in fields_of(*api.post("/tickets", customer.key, {**INCIDENT, "kind": "rant"}))
    bad_priority = api.post("/tickets", customer.key, {**INCIDENT, "priority": "cosmic"})
    assert "priority" in fields_of(*bad_priority)
    missing = api.post(
        "/tickets", customer.key, {k: v for k, v in INCIDENT.items() if k != "priority"}
    )
    assert "priority" in fields_of(*missing)  # A2: an incident needs its priority


# --- Keybe (K1-K5) ------------------------------------------------------------

QUERY = {"title": "How do I", "description": "export contacts?", "kind": "query"}


def test_k1_tier_derived_from_the_contract_plan(api: Api, new_customer: Any, clock: Clock) -> None:
    """K1: no tier set, plan "50,000 daily chats" -> premium -> resolution 2 h 24x7;
    "Pro 1,000" -> preferred -> 24 h."""
    premium = new_customer(policy="keybe", contract={"active": True, "plan": "50,000 daily chats"})
    status, ticket = api.post("/tickets", premium.key, QUERY)
    assert status == 201, ticket
    assert ticket["tier"] == "premium"
    resolution = targets(ticket)["resolution"]
    assert (resolution["clock"], resolution["target_seconds"]) == ("24x7", 2 * H)
    assert resolution["due_at"] == "2026-11-23T17:00:00Z"
    preferred = new_customer(policy="keybe", contract={"active": True, "plan": "Pro 1,000"})
    _, ticket = api.post("/tickets", preferred.key, QUERY)
    assert targets(ticket)["resolution"]["target_seconds"] == 24 * H


def test_k2_a_prime_ticket_is_an_emergency_and_raises_prime_opened(
    api: Api, new_customer: Any, clock: Clock
) -> None:
    prime = new_customer(policy="keybe", tier="prime")
    status, ticket = api.post("/tickets", prime.key, {**QUERY, "priority": "normal"})
    assert status == 201, ticket
    assert (ticket["priority"], ticket["tier"]) == ("emergency", "prime")
    assert targets(ticket)["resolution"]["target_seconds"] == 1 * H
    _, page = api.get(f"/tickets/{ticket['id']}/events", prime.key)
    types = [e["type"] for e in page["items"]]
    assert types.count("ticket.prime_opened") == 1, types
    # A standard customer's ticket raises nothing of the kind.
    standard = new_customer(policy="keybe", tier="standard")
    _, ticket = api.post("/tickets", standard.key, QUERY)
    _, page = api.get(f"/tickets/{ticket['id']}/events", standard.key)
    assert [e["type"] for e in page["items"]] == ["created"]
    assert targets(ticket)["resolution"]["target_seconds"] == 4 * H


def test_k3_an_emergency_is_one_hour_with_the_three_hour_ceiling_ladder(
    api: Api, new_customer: Any, clock: Clock
) -> None:
    """K3: any tier, resolution 1 h (24x7); ladder 75 % warning, 100 % breached,
    level 2 at 300 % (the 3 h ceiling), no level 3 (read by the breach checker)."""
    from chalicelib.store import tickets as store

    tenant = new_customer(policy="keybe", tier="on_demand")
    status, ticket = api.post(
        "/tickets", tenant.key, {**QUERY, "kind": "emergency", "title": "All chats down"}
    )
    assert status == 201, ticket
    assert ticket["priority"] == "emergency"
    resolution = targets(ticket)["resolution"]
    assert (resolution["clock"], resolution["target_seconds"]) == ("24x7", 1 * H)
    assert resolution["due_at"] == "2026-11-23T16:00:00Z"
    stored = store.get(ticket["id"])
    assert stored is not None
    ladder = [(r.pct, r.type, r.level) for r in stored.sla.targets[0].ladder]
    assert ladder == [
        (75, "sla.warning", 1),
        (100, "sla.breached", 1),
        (300, "sla.escalated", 2),
    ]


def test_k4_a_failure_report_names_each_missing_or_bad_field(
    api: Api, new_customer: Any, clock: Clock
) -> None:
    tenant = new_customer(policy="keybe", tier="standard")
    failure = {"title": "Chats lost", "description": "Chats vanish", "kind": "failure"}
    fields = fields_of(*api.post("/tickets", tenant.key, failure))
    assert set(fields) == {
        "fields.affected_users",
        "fields.module",
        "fields.device",
        "fields.occurred_at",
        "fields.verifications",
        "fields.evidence",
    }
    bad = {
        "affected_users": [],
        "module": "chats",
        "device": "tablet",
        "occurred_at": "yesterday",
        "verifications": [],
        "evidence": ["not a link"],
    }
    fields = fields_of(*api.post("/tickets", tenant.key, {**failure, "fields": bad}))
    assert set(fields) == {
        "fields.affected_users",
        "fields.device",
        "fields.occurred_at",
        "fields.evidence",
    }
    good = {
        **bad,
        "affected_users": ["ana@acme.example"],
        "device": "pc",
        "occurred_at": "2026-11-23T08:30:00-05:00",
        "evidence": ["https://videos.example/1"],
    }
    status, ticket = api.post("/tickets", tenant.key, {**failure, "fields": good})
    assert status == 201, ticket
    assert targets(ticket)["resolution"]["target_seconds"] == 4 * H  # K1 standard


def test_k5_a_requirement_gets_a_48_hour_study_and_no_resolution(
    api: Api, new_customer: Any, clock: Clock
) -> None:
    tenant = new_customer(policy="keybe", tier="premium")
    requirement = {
        "title": "Bot for sales",
        "description": "A bot that books demos",
        "kind": "requirement",
        "fields": {"example": "like the one of acme.example"},
    }
    status, ticket = api.post("/tickets", tenant.key, requirement)
    assert status == 201, ticket
    assert set(targets(ticket)) == {"study"}
    study = targets(ticket)["study"]
    assert (study["clock"], study["target_seconds"]) == ("24x7", 48 * H)
    assert study["due_at"] == "2026-11-25T15:00:00Z"
    custom_bot = {**requirement, "fields": {"example": "x", "custom_bot": True}}
    assert "fields.flow_url" in fields_of(*api.post("/tickets", tenant.key, custom_bot))


# --- Clever Ideas (C2) ----------------------------------------------------------


def test_c2_a_service_request_names_an_action_of_the_matrix(
    api: Api, new_customer: Any, clock: Clock
) -> None:
    tenant = new_customer(policy="clever_ideas")
    request = {"title": "New agent", "description": "Please", "kind": "service_request"}
    unknown = {**request, "fields": {"product": "ucontact", "action": "make_coffee"}}
    assert set(fields_of(*api.post("/tickets", tenant.key, unknown))) == {"fields.action"}
    bad_product = {**request, "fields": {"product": "fax", "action": "user_creation"}}
    assert "fields.product" in fields_of(*api.post("/tickets", tenant.key, bad_product))
    ok = {**request, "fields": {"product": "ucontact", "action": "user_creation"}}
    status, ticket = api.post("/tickets", tenant.key, ok)
    assert status == 201, ticket
    assert ticket["sla"]["targets"] == []  # C2: the seed commits no response times


# --- Digital Express (DX1, DX2, DX6) -----------------------------------------


def test_dx1_contract_urgent_is_one_hour_24x7_and_normal_three_business_hours(
    api: Api, new_customer: Any, clock: Clock
) -> None:
    tenant = new_customer(policy="digital_express", contract={"active": True})
    _, urgent = api.post("/tickets", tenant.key, {**INCIDENT, "priority": "urgent"})
    first = targets(urgent)["first_response"]
    assert (first["clock"], first["target_seconds"], first["due_at"]) == (
        "24x7",
        1 * H,
        "2026-11-23T16:00:00Z",
    )
    _, normal = api.post("/tickets", tenant.key, {**INCIDENT, "priority": "normal"})
    first = targets(normal)["first_response"]
    # The DX calendar has no country holidays: Monday 12:00 local + 3 h = 15:00 local.
    assert (first["clock"], first["target_seconds"], first["due_at"]) == (
        "business",
        3 * H,
        "2026-11-23T18:00:00Z",
    )


def test_dx2_without_contract_only_email_and_the_clock_waits_for_payment(
    api: Api, new_customer: Any, clock: Clock
) -> None:
    tenant = new_customer(policy="digital_express")
    status, body = api.post("/tickets", tenant.key, {**INCIDENT, "priority": "normal"})
    assert status == 403, body
    assert body["error"]["code"] == "channel_not_in_contract"
    status, ticket = api.post(
        "/tickets", tenant.key, {**INCIDENT, "priority": "normal", "channel": "email"}
    )
    assert status == 201, ticket
    assert ticket["status"] == "awaiting_approval"
    first = targets(ticket)["first_response"]
    assert (first["state"], first["due_at"], first["started_at"]) == ("pending", None, None)
    assert (first["clock"], first["target_seconds"]) == ("24x7", 3 * H)


def test_dx6_no_urgencies_without_contract(api: Api, new_customer: Any, clock: Clock) -> None:
    tenant = new_customer(policy="digital_express", contract={"active": False})
    status, ticket = api.post(
        "/tickets", tenant.key, {**INCIDENT, "priority": "urgent", "channel": "email"}
    )
    assert status == 201, ticket
    assert ticket["priority"] == "normal"
    assert targets(ticket)["first_response"]["state"] == "pending"


# --- E7/E9: a tenant change reaches its open tickets -------------------------


def test_e9_a_holiday_added_to_the_tenant_calendar_moves_the_due_instant(
    api: Api, admin_key: str, agent_key: str, customer: Customer, clock: Clock
) -> None:
    """Medium ticket of Fri 20th 17:00 local: first response due Tue 24 12:00 local.
    The tenant declares Tue 24 a holiday: due Wed 25 12:00 local instead."""
    ticket = open_as_agent(
        api, agent_key, customer, priority="medium", reported_at="2026-11-20T20:00:00Z"
    )
    assert targets(ticket)["first_response"]["due_at"] == "2026-11-24T15:00:00Z"
    status, tenant = api.patch(
        f"/admin/tenants/{customer.tenant_id}",
        admin_key,
        {"calendar": {"holidays": ["2026-11-24"]}},
    )
    assert status == 200, tenant
    _, seen = api.get(f"/tickets/{ticket['id']}", customer.key)
    assert targets(seen)["first_response"]["due_at"] == "2026-11-25T15:00:00Z"
    assert targets(seen)["resolution"]["due_at"] == "2026-12-01T20:00:00Z"
    _, page = api.get(f"/tickets/{ticket['id']}/events", customer.key)
    (event,) = [e for e in page["items"] if e["type"] == "policy.retargeted"]
    assert event["data"]["cause"] == "tenant.updated"
    assert event["data"]["old_calendar_version"] != event["data"]["new_calendar_version"]
    # A change of nothing the targets read (the name) re-targets nothing.
    api.patch(f"/admin/tenants/{customer.tenant_id}", admin_key, {"name": "Acme Corp"})
    _, again = api.get(f"/tickets/{ticket['id']}/events", customer.key)
    assert len(again["items"]) == len(page["items"])


def test_e7_a_tier_change_of_the_tenant_retargets_its_open_tickets(
    api: Api, admin_key: str, new_customer: Any, clock: Clock
) -> None:
    """K1 + E7: premium (2 h) -> standard (4 h) against the time already elapsed."""
    tenant = new_customer(policy="keybe", tier="premium")
    _, ticket = api.post("/tickets", tenant.key, QUERY)
    assert targets(ticket)["resolution"]["due_at"] == "2026-11-23T17:00:00Z"
    clock.set("2026-11-23T16:00:00Z")
    status, _ = api.patch(f"/admin/tenants/{tenant.tenant_id}", admin_key, {"tier": "standard"})
    assert status == 200
    _, seen = api.get(f"/tickets/{ticket['id']}", tenant.key)
    assert seen["tier"] == "standard"
    resolution = targets(seen)["resolution"]
    assert (resolution["target_seconds"], resolution["elapsed_seconds"]) == (4 * H, 1 * H)
    assert resolution["due_at"] == "2026-11-23T19:00:00Z"
