"""The Ticket aggregate (`chalicelib.domain.ticket`), driven directly: opening,
actions, comments, re-targeting (E7, E9), thresholds (E8), the next due instant
and the view. Pure: every instant is passed in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.errors import IntakeError
from chalicelib.domain.intake import Intake
from chalicelib.domain.lifecycle import ActionRefused
from chalicelib.domain.policy import Policy
from chalicelib.domain.terms import SlaBasis
from chalicelib.domain.ticket import Ticket
from chalicelib.policies import load_shipped
from tests.unit.helpers import open_ticket

BA = ZoneInfo("America/Argentina/Buenos_Aires")
HOUR = 3600
MON_10 = datetime(2026, 3, 9, 10, tzinfo=BA)  # no Argentine holiday that week
CONTRACT: dict[str, Any] = {"contract": {"active": True}}  # DX1


@pytest.fixture(scope="module")
def policies() -> dict[str, Policy]:
    return load_shipped()


def opened(
    policy: Policy, intake: Intake, at: datetime = MON_10, tenant: dict[str, Any] | None = None
) -> tuple[Ticket, tuple[str, ...]]:
    return open_ticket(policy, intake, at, tenant)


def states(ticket: Ticket, now: datetime) -> dict[str, str]:
    return {v["metric"]: v["state"] for v in ticket.target_views(now)}


# ------------------------------------------------------------------ opening


def test_opening_plans_typed_targets_on_the_policy_calendar(policies: dict[str, Policy]) -> None:
    ticket, alerts = opened(policies["aivo"], Intake("incident", "high", description="down"))
    assert alerts == ()
    assert (ticket.status, ticket.priority, ticket.channel) == ("new", "high", "api")
    assert [(t.metric, t.clock, t.target_seconds) for t in ticket.sla.targets] == [
        ("first_response", "business", 2 * HOUR),
        ("resolution", "business", 8 * HOUR),
    ]
    assert ticket.sla.calendar.timezone == "America/Argentina/Buenos_Aires"
    assert ticket.sla.policy_version == policies["aivo"].version
    assert ticket.next_due() == MON_10 + timedelta(hours=1, minutes=30)  # 75 % of 2 h


def test_k2_opening_a_prime_ticket_raises_its_alert(policies: dict[str, Policy]) -> None:
    ticket, alerts = opened(policies["keybe"], Intake("query"), tenant={"tier": "prime"})
    assert alerts == ("ticket.prime_opened",)
    assert (ticket.tier, ticket.priority) == ("prime", "emergency")


def test_a_webhook_ticket_opens_back_dated_on_its_channel(policies: dict[str, Policy]) -> None:
    """What a partner ingest needs: channel `webhook`, the partner's own creation
    time as `reported_at` (E3)."""
    reported = MON_10 - timedelta(hours=1)
    ticket, _ = opened(
        policies["aivo"], Intake("incident", "blocker", channel="webhook"), at=reported
    )
    assert ticket.channel == "webhook"
    first = ticket.target_views(MON_10)[0]
    assert (first["started_at"], first["elapsed_seconds"]) == ("2026-03-09T12:00:00Z", HOUR)


def test_an_intake_the_policy_refuses_names_its_fields(policies: dict[str, Policy]) -> None:
    with pytest.raises(IntakeError) as refused:
        opened(policies["aivo"], Intake("incident", "urgent"))
    assert set(refused.value.fields) == {"priority"}


# ------------------------------------------------------------------ act and comment


def test_assign_meets_first_response_and_opens_the_ticket(policies: dict[str, Policy]) -> None:
    ticket, _ = opened(policies["aivo"], Intake("incident", "high"))
    at = MON_10 + timedelta(minutes=30)
    outcome = ticket.act("assign", {"agent": "ana@provider.example"}, "agent", at)
    assert outcome.met == ["first_response"]
    assert (ticket.status, ticket.assignee, ticket.updated_at) == (
        "open",
        "ana@provider.example",
        at,
    )
    assert states(ticket, at) == {"first_response": "met", "resolution": "running"}


def test_an_action_the_status_refuses_changes_nothing(policies: dict[str, Policy]) -> None:
    ticket, _ = opened(policies["aivo"], Intake("incident", "high"))
    before = (ticket.status, list(ticket.sla.targets), ticket.updated_at)
    with pytest.raises(ActionRefused):
        ticket.act("reopen", {}, "customer", MON_10 + timedelta(hours=1))
    assert (ticket.status, ticket.sla.targets, ticket.updated_at) == before


def test_e6_waiting_on_the_customer_pauses_resolution_not_first_response(
    policies: dict[str, Policy],
) -> None:
    ticket, _ = opened(policies["aivo"], Intake("incident", "high"))
    ticket.act("wait_on_customer", {}, "agent", MON_10 + timedelta(hours=1))
    later = MON_10 + timedelta(hours=5)
    assert states(ticket, later) == {"first_response": "breached", "resolution": "paused"}
    ticket.act("resume", {}, "customer", later)
    resolution = ticket.target_views(later)[1]
    assert (resolution["state"], resolution["elapsed_seconds"]) == ("running", HOUR)


def test_e5_an_agents_public_reply_meets_first_response_a5_not_under_aivo(
    policies: dict[str, Policy],
) -> None:
    dx, _ = opened(policies["digital_express"], Intake("incident", "urgent"), tenant=CONTRACT)
    assert dx.comment("agent", True, MON_10 + timedelta(minutes=10)) == ["first_response"]
    aivo, _ = opened(policies["aivo"], Intake("incident", "high"))
    assert aivo.comment("agent", True, MON_10 + timedelta(minutes=10)) == []  # A5
    assert dx.comment("customer", True, MON_10 + timedelta(minutes=20)) == []


# ------------------------------------------------------------------ E7 / E9


def test_e7_change_priority_retargets_against_the_time_elapsed(
    policies: dict[str, Policy],
) -> None:
    aivo = policies["aivo"]
    ticket, _ = opened(aivo, Intake("incident", "high"))
    at = MON_10 + timedelta(hours=1, minutes=30)
    ticket.act("set_priority", {"priority": "blocker"}, "agent", at, basis=SlaBasis.of(aivo, {}))
    first = ticket.target_views(at)[0]
    assert ticket.priority == "blocker"
    assert (first["clock"], first["target_seconds"], first["state"]) == ("24x7", HOUR, "breached")
    due = ticket.next_due()
    assert due is not None
    assert due <= at  # its thresholds are due at once


def test_e9_a_current_ticket_is_not_stale_and_refresh_leaves_it(
    policies: dict[str, Policy],
) -> None:
    aivo = policies["aivo"]
    ticket, _ = opened(aivo, Intake("incident", "high"))
    basis = SlaBasis.of(aivo, {})
    assert not ticket.is_stale(basis)
    assert ticket.refresh(basis, MON_10 + timedelta(hours=1), "stale") is None
    assert ticket.updated_at == MON_10


def test_e9_new_tenant_terms_or_calendar_make_it_stale(policies: dict[str, Policy]) -> None:
    aivo = policies["aivo"]
    mon_15 = MON_10 + timedelta(hours=5)
    ticket, _ = opened(aivo, Intake("incident", "high"), at=mon_15)
    assert ticket.target_views(mon_15)[1]["due_at"] == "2026-03-10T17:00:00Z"  # Tue 14:00
    assert ticket.is_stale(SlaBasis.of(aivo, {"contract": {"options": ["integrations_24x7"]}}))
    holiday = {"calendar": {"holidays": ["2026-03-10"]}}
    assert ticket.is_stale(SlaBasis.of(aivo, holiday))
    entry = ticket.refresh(SlaBasis.of(aivo, holiday), mon_15 + timedelta(hours=1), "stale")
    assert entry is not None
    assert entry["cause"] == "stale"
    # 8 business hours from Monday 15:00 with Tuesday off: Wednesday 14:00.
    resolution = ticket.target_views(mon_15 + timedelta(hours=1))[1]
    assert resolution["due_at"] == "2026-03-11T17:00:00Z"


def test_e9_a_ticket_that_no_longer_fits_keeps_its_targets(policies: dict[str, Policy]) -> None:
    aivo = policies["aivo"]
    ticket, _ = opened(aivo, Intake("incident", "high"))
    narrowed = aivo.model_copy(
        update={
            "version": aivo.version + 1,
            "kinds": {"query": aivo.kinds["query"]},  # incidents left the policy
        }
    )
    basis = SlaBasis.of(narrowed, {})
    entry = ticket.refresh(basis, MON_10 + timedelta(hours=1), "policy.updated")
    assert entry is not None
    assert entry["kept_targets"] is True
    assert "kind" in entry["fields"]
    assert [(t.metric, t.target_seconds) for t in ticket.sla.targets] == [
        ("first_response", 2 * HOUR),
        ("resolution", 8 * HOUR),
    ]
    assert not ticket.is_stale(basis)  # not tried again on every checker run


def test_e9_a_closed_ticket_is_never_retargeted(policies: dict[str, Policy]) -> None:
    aivo = policies["aivo"]
    ticket, _ = opened(aivo, Intake("incident", "high"))
    ticket.act("close", {}, "customer", MON_10 + timedelta(minutes=5))
    newer = aivo.model_copy(update={"version": aivo.version + 1})
    assert ticket.refresh(SlaBasis.of(newer, {}), MON_10 + timedelta(hours=1), "stale") is None


# ------------------------------------------------------------------ E8


def test_e8_crossed_thresholds_are_alerted_once_and_the_next_due_moves_on(
    policies: dict[str, Policy],
) -> None:
    ticket, _ = opened(policies["aivo"], Intake("incident", "blocker"))  # 1 h / 6 h, 24x7
    at = MON_10 + timedelta(hours=1)
    crossed = ticket.cross_thresholds(at)
    assert [(c.metric, c.threshold.pct, c.threshold.type) for c in crossed] == [
        ("first_response", 75, "sla.warning"),
        ("first_response", 100, "sla.breached"),
    ]
    assert crossed[0].at == MON_10 + timedelta(minutes=45)
    assert crossed[0].due_at == at
    assert ticket.cross_thresholds(at) == []  # each threshold once
    assert ticket.next_due() == MON_10 + timedelta(minutes=90)  # first response's 150 %
    assert ticket.breach_recorded()


def test_e8_a_met_ticket_has_nothing_due(policies: dict[str, Policy]) -> None:
    ticket, _ = opened(policies["aivo"], Intake("incident", "blocker"))
    ticket.act("assign", {"agent": "ana"}, "agent", MON_10 + timedelta(minutes=5))
    ticket.act("resolve", {}, "agent", MON_10 + timedelta(minutes=10))
    assert ticket.next_due() is None
    assert ticket.cross_thresholds(MON_10 + timedelta(days=3)) == []
    assert not ticket.breach_recorded()


# ------------------------------------------------------------------ the view


def test_the_view_is_the_contracts_ticket_as_of_an_instant(policies: dict[str, Policy]) -> None:
    ticket, _ = opened(policies["aivo"], Intake("incident", "high", fields={"x": 1}))
    view = ticket.view(MON_10 + timedelta(minutes=30))
    assert set(view) == {
        "id",
        "tenant_id",
        "title",
        "description",
        "kind",
        "priority",
        "channel",
        "status",
        "assignee",
        "contact",
        "tier",
        "reported_at",
        "created_at",
        "updated_at",
        "fields",
        "integration",
        "resolution_cause",
        "sla",
        "charge",
    }
    assert view["reported_at"] == "2026-03-09T13:00:00Z"
    assert view["fields"] == {"x": 1}
    assert view["sla"]["targets"][0]["elapsed_seconds"] == 1800


# ------------------------------------------------------------------ what it records


def test_each_operation_records_what_it_decided(policies: dict[str, Policy]) -> None:
    """The aggregate's events (`domain/events.py`): opening, an action with what it
    met, a comment with its role, an E7 priority change with the priority it led to."""
    from chalicelib.domain import events as ev

    aivo = policies["aivo"]
    ticket, _ = opened(aivo, Intake("incident", "high"))
    assert ticket.events == [ev.Opened("new")]
    ticket.events.clear()
    at = MON_10 + timedelta(minutes=5)
    ticket.act("assign", {"agent": "ana"}, "agent", at)
    ticket.comment("agent", True, at, "On it")
    ticket.act("set_priority", {"priority": "blocker"}, "agent", at, basis=SlaBasis.of(aivo, {}))
    assert ticket.events == [
        ev.Acted("assign", {"agent": "ana"}, "open", "new", ["first_response"]),
        ev.Commented("On it", True, "agent", []),
        ev.Acted(
            "set_priority",
            {"priority": "blocker"},
            "open",
            "open",
            [],
            {"priority": "blocker", "previous_priority": "high"},
        ),
    ]


def test_e7_set_priority_needs_the_basis_and_changes_nothing_without_it(
    policies: dict[str, Policy],
) -> None:
    ticket, _ = opened(policies["aivo"], Intake("incident", "high"))
    ticket.events.clear()
    with pytest.raises(ValueError, match="basis"):
        ticket.act("set_priority", {"priority": "blocker"}, "agent", MON_10)
    assert (ticket.priority, ticket.events) == ("high", [])


def test_e8_crossings_are_recorded_as_alerts_keyed_once_per_threshold(
    policies: dict[str, Policy],
) -> None:
    from chalicelib.domain import events as ev

    ticket, _ = opened(policies["aivo"], Intake("incident", "high"))
    ticket.events.clear()
    ticket.cross_thresholds(MON_10 + timedelta(hours=3))
    raised = [e for e in ticket.events if isinstance(e, ev.AlertRaised)]
    assert [(e.type, e.key) for e in raised][:2] == [
        ("sla.warning", "first_response#75"),
        ("sla.breached", "first_response#100"),
    ]


def test_dx4_a_late_assignment_records_the_waiver_once(policies: dict[str, Policy]) -> None:
    from chalicelib.domain import events as ev

    dx = policies["digital_express"]
    no_contract: dict[str, Any] = {"contract": {"active": False}}
    ticket, _ = opened(dx, Intake("query", channel="email"), tenant=no_contract)
    ticket.act("approve_charge", {}, "customer", MON_10 + timedelta(minutes=1))
    ticket.act("mark_paid", {}, "admin", MON_10 + timedelta(minutes=2))
    ticket.events.clear()
    late = MON_10 + timedelta(days=5)
    ticket.act("assign", {"agent": "ana"}, "agent", late)
    ticket.comment("agent", True, late, "Sorry for the wait")
    waived = [e for e in ticket.events if isinstance(e, ev.ChargeWaived)]
    assert len(waived) == 1
    assert (waived[0].before.status, waived[0].after.status) == ("paid", "waived")
