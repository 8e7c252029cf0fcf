"""The ticket state machine and the SLA effect of each action (E5, E6, A4, A5,
A6, K5, DX2), on the pure domain: 24x7 clocks, instants passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import charges, lifecycle, sla
from chalicelib.domain.calendar import CONTINUOUS, Clock
from chalicelib.domain.lifecycle import (
    ROLES,
    STATUSES,
    TRANSITIONS,
    ActionForbidden,
    ActionInvalid,
    ActionRefused,
    Outcome,
    breach_recorded,
    comment,
    decide,
)

T0 = datetime(2026, 3, 9, 12, tzinfo=UTC)
HOUR = 3600
HOUR_D = timedelta(hours=1)


def clocks(kind: str) -> Clock:
    return CONTINUOUS


def targets(*specs: tuple[str, int], starts_on: str = "reported") -> list[sla.Target]:
    return sla.start_targets(
        [sla.TargetSpec(metric, "24x7", seconds, starts_on=starts_on) for metric, seconds in specs],
        T0,
    )


def aivo_blocker() -> list[sla.Target]:
    return targets(("first_response", HOUR), ("resolution", 6 * HOUR))


def states(ts: list[sla.Target], now: datetime) -> dict[str, str]:
    return {t.metric: sla.view(t, CONTINUOUS, now)["state"] for t in ts}


def act(
    action: str,
    status: str,
    ts: list[sla.Target],
    now: datetime,
    role: str = "agent",
    fields: dict[str, Any] | None = None,
    charge: dict[str, Any] | None = None,
    **params: Any,
) -> Outcome:
    return decide(
        action,
        params,
        role,
        status,
        ts,
        clocks,
        now,
        fields=fields or {},
        charge=charges.from_stored(charge),
    )


# ---------------------------------------------------------------------- the tables


def test_every_action_has_roles_parameters_and_leads_to_a_known_status() -> None:
    assert set(TRANSITIONS) == set(ROLES) == set(lifecycle.PARAMETERS)
    for action, row in TRANSITIONS.items():
        assert row, action
        assert set(row) | set(row.values()) <= set(STATUSES), action


def test_roles_follow_the_contract() -> None:
    """docs/api.md: customers approve_charge, resume, reopen, close; agents all but
    mark_paid; admins all."""
    by_role = {r: {a for a, roles in ROLES.items() if r in roles} for r in lifecycle.EVERYONE}
    assert by_role["customer"] == {"approve_charge", "resume", "reopen", "close"}
    assert by_role["agent"] == set(TRANSITIONS) - {"mark_paid"}
    assert by_role["admin"] == set(TRANSITIONS)


def test_closed_is_final_and_every_other_status_can_be_closed() -> None:
    assert all("closed" not in row for row in TRANSITIONS.values())
    assert set(TRANSITIONS["close"]) == set(STATUSES) - {"closed"}


def test_every_status_is_reachable_from_a_status_a_ticket_opens_in() -> None:
    """Initial statuses: `new`, or a policy's (DX2 awaiting_approval, DX5
    commercial_review)."""
    seen = {"new", "awaiting_approval", "commercial_review"}
    frontier = list(seen)
    while frontier:
        status = frontier.pop()
        for row in TRANSITIONS.values():
            nxt = row.get(status)
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(STATUSES)


def test_a_refused_action_names_the_statuses_that_allow_it() -> None:
    with pytest.raises(ActionRefused) as refused:
        act("resolve", "new", aivo_blocker(), T0)
    assert refused.value.status == 422
    assert refused.value.fields == {
        "action": "allowed when status is one of: open, pending_customer, assessed"
    }
    assert "while the ticket is new" in str(refused.value)


def test_role_is_checked_before_status_and_parameters() -> None:
    with pytest.raises(ActionForbidden) as forbidden:
        act("mark_paid", "new", [], T0, role="agent")
    assert forbidden.value.status == 403
    with pytest.raises(ActionForbidden):
        act("assign", "new", [], T0, role="customer", agent="ana")


def test_parameters_missing_or_foreign_are_each_named() -> None:
    with pytest.raises(ActionInvalid) as invalid:
        act("assign", "new", [], T0, minutes=5)
    assert invalid.value.status == 400
    assert invalid.value.fields == {
        "agent": "required for assign",
        "minutes": "not a parameter of assign",
    }


# ---------------------------------------------------------------------- SLA effects


def test_assign_meets_first_response_and_opens_the_ticket() -> None:
    """E5, A5."""
    out = act("assign", "new", aivo_blocker(), T0 + timedelta(minutes=20), agent="ana")
    assert out.status == "open"
    assert out.changes == {"assignee": "ana"}
    assert out.met == ["first_response"]
    assert states(out.targets, T0 + timedelta(minutes=20)) == {
        "first_response": "met",
        "resolution": "running",
    }


def test_reassigning_keeps_the_status_and_the_first_meeting() -> None:
    first = act("assign", "new", aivo_blocker(), T0 + timedelta(minutes=20), agent="ana")
    waiting = act("wait_on_customer", "open", first.targets, T0 + timedelta(minutes=30))
    again = act(
        "assign", "pending_customer", waiting.targets, T0 + 2 * timedelta(hours=1), agent="bo"
    )
    assert again.status == "pending_customer"
    assert again.met == []
    fr = next(t for t in again.targets if t.metric == "first_response")
    assert fr.met_at == T0 + timedelta(minutes=20)


def test_waiting_on_the_customer_pauses_resolution_not_first_response() -> None:
    """E6, A6: an hour of waiting does not count for resolution."""
    out = act("wait_on_customer", "new", aivo_blocker(), T0 + timedelta(minutes=30))
    assert out.status == "pending_customer"
    later = T0 + timedelta(hours=2)
    assert states(out.targets, later) == {"first_response": "breached", "resolution": "paused"}
    back = act("resume", "pending_customer", out.targets, later, role="customer")
    assert back.status == "open"
    resolution = next(t for t in back.targets if t.metric == "resolution")
    view = sla.view(resolution, CONTINUOUS, later + timedelta(minutes=10))
    assert view["elapsed_seconds"] == 40 * 60
    assert view["state"] == "running"


def test_resolve_meets_resolution_and_reopen_resumes_it_where_it_stopped() -> None:
    """E5, E6: met_at cleared on reopen, the elapsed time kept."""
    opened = act("assign", "new", aivo_blocker(), T0 + timedelta(minutes=5), agent="ana")
    resolved = act("resolve", "open", opened.targets, T0 + timedelta(hours=2))
    assert resolved.status == "resolved"
    assert resolved.changes == {"resolution_cause": "fixed"}
    assert resolved.met == ["resolution"]
    reopened = act("reopen", "resolved", resolved.targets, T0 + timedelta(hours=5), role="customer")
    assert reopened.status == "open"
    assert reopened.changes == {"resolution_cause": None}
    resolution = next(t for t in reopened.targets if t.metric == "resolution")
    view = sla.view(resolution, CONTINUOUS, T0 + timedelta(hours=6))
    assert view["state"] == "running"
    assert view["met_at"] is None
    assert view["elapsed_seconds"] == 3 * HOUR  # 2 h before resolving, 1 h since reopening


def test_a_resolution_met_late_stays_breached_after_reopening() -> None:
    """E5, E6: a breach stays a breach."""
    resolved = act("resolve", "open", aivo_blocker(), T0 + timedelta(hours=7))
    reopened = act("reopen", "resolved", resolved.targets, T0 + timedelta(hours=8))
    assert states(reopened.targets, T0 + timedelta(hours=8))["resolution"] == "breached"


def test_an_external_cause_meets_resolution_too() -> None:
    """A4."""
    out = act("resolve", "open", aivo_blocker(), T0 + HOUR_D, resolution_cause="external")
    assert out.changes == {"resolution_cause": "external"}
    assert "resolution" in out.met


def test_resolving_meets_every_live_target_so_none_runs_on() -> None:
    """The resolution answers the customer: a first response nobody gave is met
    with it, or stays breached when it was due already (E5)."""
    early = act("resolve", "open", aivo_blocker(), T0 + timedelta(minutes=30))
    assert early.met == ["first_response", "resolution"]
    assert states(early.targets, T0 + timedelta(days=1)) == {
        "first_response": "met",
        "resolution": "met",
    }
    late = act("resolve", "open", aivo_blocker(), T0 + timedelta(hours=2))
    assert states(late.targets, T0 + timedelta(days=1)) == {
        "first_response": "breached",
        "resolution": "met",
    }
    assert sla.earliest_threshold(late.targets, clocks) is None


def test_assess_meets_study_and_marks_a_quote() -> None:
    """K5: a requirement's study target is met by the assessment."""
    out = act("assess", "open", targets(("study", 48 * HOUR)), T0 + HOUR_D, fields={"example": "x"})
    assert out.status == "assessed"
    assert out.met == ["study"]
    assert "fields" not in out.changes
    quoted = act(
        "assess",
        "open",
        targets(("study", 48 * HOUR)),
        T0 + HOUR_D,
        fields={"example": "x"},
        requires_quote=True,
    )
    assert quoted.changes == {"fields": {"example": "x", "requires_quote": True}}


def test_close_cancels_live_targets_but_a_breach_stays() -> None:
    out = act("close", "open", aivo_blocker(), T0 + timedelta(hours=2), role="customer")
    assert out.status == "closed"
    assert states(out.targets, T0 + timedelta(days=3)) == {
        "first_response": "breached",
        "resolution": "cancelled",
    }
    assert sla.earliest_threshold(out.targets, clocks) is None


def test_dx2_approval_raises_a_billing_order_and_payment_starts_the_clock() -> None:
    """DX2: the first response (3 h, 24x7) starts only when the invoice is paid."""
    pending = targets(("first_response", 3 * HOUR), starts_on="payment")
    charge = {
        "kind": "fixed_fee",
        "amount": "45.00",
        "currency": "USD",
        "status": "quoted",
        "reason": "DX3: fixed fee",
        "rule": "DX3",
    }
    approved = act(
        "approve_charge", "awaiting_approval", pending, T0, role="customer", charge=charge
    )
    assert approved.status == "awaiting_payment"
    assert approved.alert == "billing.order"
    assert approved.changes["charge"].to_dict() == {**charge, "status": "approved"}
    assert states(approved.targets, T0 + timedelta(days=1)) == {"first_response": "pending"}
    paid_at = T0 + timedelta(days=1)
    paid = act(
        "mark_paid",
        "awaiting_payment",
        approved.targets,
        paid_at,
        role="admin",
        charge=approved.changes["charge"].to_dict(),
    )
    assert paid.status == "queued"
    assert paid.changes["charge"].to_dict() == {**charge, "status": "paid"}
    view = sla.view(paid.targets[0], CONTINUOUS, paid_at + HOUR_D)
    assert view["state"] == "running"
    assert view["started_at"] == "2026-03-10T12:00:00Z"
    assert view["due_at"] == "2026-03-10T15:00:00Z"


def test_transfer_to_the_commercial_team_alerts_it() -> None:
    out = act("transfer_commercial", "awaiting_approval", [], T0)
    assert (out.status, out.alert) == ("commercial_quote", "commercial.review_required")


def test_log_time_keeps_a_total_in_fields() -> None:
    """C4: the total logged is on the ticket; each entry is in its history."""
    out = act("log_time", "resolved", [], T0, fields={"module": "chats"}, minutes=30)
    out = act("log_time", "resolved", [], T0, fields=out.changes["fields"], minutes=45)
    assert out.changes == {"fields": {"module": "chats", "logged_minutes": 75}}
    assert out.status == "resolved"


# ---------------------------------------------------------------------- comments


def test_an_agent_public_reply_meets_first_response_unless_only_assignment_counts() -> None:
    """E5; Aivo A5: a reply without assignment does not meet it."""
    ts = aivo_blocker()
    at = T0 + timedelta(minutes=10)
    replied, which = comment("agent", True, "new", ts, "assignment_or_public_reply", clocks, at)
    assert which == ["first_response"]
    assert states(replied, at)["first_response"] == "met"
    _, which = comment("agent", True, "new", ts, "assignment", clocks, at)
    assert which == []
    _, which = comment("agent", False, "new", ts, "assignment_or_public_reply", clocks, at)
    assert which == []
    _, which = comment("customer", True, "new", ts, "assignment_or_public_reply", clocks, at)
    assert which == []


def test_an_agent_reply_meets_next_response() -> None:
    ts = targets(("next_response", HOUR))
    _, which = comment("agent", True, "open", ts, "assignment", clocks, T0)
    assert which == ["next_response"]


def test_comments_are_refused_on_a_closed_ticket_and_customers_post_no_notes() -> None:
    with pytest.raises(ActionRefused):
        comment("agent", True, "closed", [], "assignment", clocks, T0)
    with pytest.raises(ActionForbidden):
        comment("customer", False, "open", [], "assignment", clocks, T0)


# ---------------------------------------------------------------------- breached marker


def test_breach_recorded_without_reading_the_clock() -> None:
    fresh = aivo_blocker()
    assert not breach_recorded(fresh)
    met_late = act("assign", "new", fresh, T0 + timedelta(hours=2), agent="a").targets
    assert breach_recorded(met_late)
    alerted = [sla.mark_alerted(fresh[0], 100), fresh[1]]
    assert breach_recorded(alerted)
    assert not breach_recorded([sla.mark_alerted(fresh[0], 75)])
    cancelled = [sla.cancel(t, CONTINUOUS, T0 + HOUR_D) for t in alerted]
    assert not breach_recorded(cancelled)


# ---------------------------------------------------------------------- properties

ACTION_PARAMS: dict[str, dict[str, Any]] = {
    "assign": {"agent": "ana"},
    "set_priority": {"priority": "high"},
    "log_time": {"minutes": 5},
}


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(sorted(TRANSITIONS)), st.integers(0, 3 * HOUR)),
        max_size=12,
    )
)
def test_any_walk_keeps_a_breach_and_stops_every_clock_once_closed(
    steps: list[tuple[str, int]],
) -> None:
    """Whatever the actions (refused ones skipped): the status stays known, a
    target once breached stays breached (E5, E6), and a closed ticket has no
    clock left that could alert."""
    status, ts, now = "new", aivo_blocker(), T0
    breached: set[str] = set()
    for action, wait in steps:
        now += timedelta(seconds=wait)
        try:
            out = act(action, status, ts, now, role="admin", **ACTION_PARAMS.get(action, {}))
        except ActionRefused:
            continue
        status, ts = out.status, out.targets
        assert status in STATUSES
        current = {m for m, s in states(ts, now).items() if s == "breached"}
        assert breached <= current, (action, breached, current)
        breached = current
    if status == "closed":
        assert sla.earliest_threshold(ts, clocks) is None
