"""Target clocks (docs/policies.md E3-E9, A4, A6, DX2), driven through the shipped
policies' plans. Instants are Buenos Aires wall time (UTC-3, no DST in 2026);
2026-03-09..13 is a week without Argentine holidays, 2026-11-23 is a holiday."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.calendar import CONTINUOUS, clock_for
from chalicelib.domain.intake import Intake
from chalicelib.domain.policy import Policy
from chalicelib.domain.sla import (
    PAUSING_METRICS,
    Target,
    TargetSpec,
    Threshold,
    cancel,
    due_thresholds,
    is_breached,
    mark_alerted,
    meet,
    next_threshold,
    pause,
    reopen_resolution,
    resume,
    retarget,
    start_pending,
    start_targets,
    view,
)
from chalicelib.domain.terms import SlaBasis, TenantTerms, calendar_for
from chalicelib.domain.ticket import Ticket
from chalicelib.policies import load_shipped
from tests.unit.helpers import open_ticket

BA = ZoneInfo("America/Argentina/Buenos_Aires")
HOUR = 3600


def ba(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=BA)


def z(at: datetime) -> str:
    """The contract's spelling of an instant."""
    return at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def policies() -> dict[str, Policy]:
    return load_shipped()


def aggregate(
    policy: Policy, intake: Intake, reported_at: datetime, tenant: dict[str, Any] | None = None
) -> Ticket:
    return open_ticket(policy, intake, reported_at, tenant)[0]


def target_of(ticket: Ticket, metric: str) -> Target:
    found = ticket.target(metric)
    assert found is not None, metric
    return found


def put(ticket: Ticket, changed: Target) -> None:
    """Put one target back on the ticket (after an `sla` transition under test)."""
    ticket.sla.targets = [changed if t.metric == changed.metric else t for t in ticket.sla.targets]


def apply(ticket: Ticket, metric: str, step: Any, now: datetime) -> None:
    """One `sla` transition on one target of the ticket, on the ticket's clock."""
    current = target_of(ticket, metric)
    put(ticket, step(current, ticket.clock(current.clock), now))


def seen(ticket: Ticket, metric: str, now: datetime) -> dict[str, Any]:
    """The contract's view of one target of the ticket as of `now`."""
    return next(v for v in ticket.view(now)["sla"]["targets"] if v["metric"] == metric)


def replan(
    ticket: Ticket,
    policy: Policy,
    intake: Intake,
    now: datetime,
    tenant: dict[str, Any] | None = None,
) -> None:
    """E7 on the aggregate: a new kind or priority against the time elapsed."""
    ticket.replan(
        SlaBasis.of(policy, tenant or {}), now, priority=intake.priority, kind=intake.kind
    )


NO_CONTRACT: dict[str, Any] = {"contract": {"active": False}}  # DX2


def aivo(policies: dict[str, Policy], priority: str, at: datetime) -> Ticket:
    return aggregate(policies["aivo"], Intake("incident", priority), at)


# ------------------------------------------------------------------ E2 E3 E4


def test_e3_high_reported_friday_17h_is_due_monday_10h(policies: dict[str, Policy]) -> None:
    ticket = aivo(policies, "high", ba(3, 6, 17))
    first = seen(ticket, "first_response", ba(3, 6, 17, 30))
    assert first == {
        "metric": "first_response",
        "clock": "business",
        "target_seconds": 2 * HOUR,
        "started_at": "2026-03-06T20:00:00Z",
        "due_at": "2026-03-09T13:00:00Z",  # Monday 10:00 in Buenos Aires
        "state": "running",
        "elapsed_seconds": 1800,
        "remaining_seconds": 5400,
        "met_at": None,
        "breached_at": None,
    }
    # Over the weekend the business clock stands still.
    assert seen(ticket, "first_response", ba(3, 8, 12))["elapsed_seconds"] == HOUR
    # 8 business hours: Friday 17-18, then Monday 09-16.
    assert seen(ticket, "resolution", ba(3, 6, 17))["due_at"] == z(ba(3, 9, 16))


def test_e3_started_outside_hours_accumulates_from_the_next_opening_skipping_a_holiday(
    policies: dict[str, Policy],
) -> None:
    # Sunday night before Monday 2026-11-23 (National Sovereignty Day).
    ticket = aivo(policies, "high", ba(11, 22, 21))
    first = seen(ticket, "first_response", ba(11, 23, 12))
    assert first["started_at"] == z(ba(11, 22, 21))
    assert first["elapsed_seconds"] == 0
    assert first["due_at"] == z(ba(11, 24, 11))


def test_e4_a_deadline_on_closing_time_is_due_at_closing_time(
    policies: dict[str, Policy],
) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    assert seen(ticket, "resolution", ba(3, 9, 10))["due_at"] == z(ba(3, 9, 18))


def test_e2_medium_resolution_is_5_business_days_of_9_hours(policies: dict[str, Policy]) -> None:
    ticket = aivo(policies, "medium", ba(3, 9, 10))
    resolution = seen(ticket, "resolution", ba(3, 9, 10))
    assert resolution["target_seconds"] == 45 * HOUR
    # Mon 8 h + Tue..Fri 36 h = 44 h, the last hour on the next Monday.
    assert resolution["due_at"] == z(ba(3, 16, 10))


def test_e1_blocker_runs_on_the_24x7_clock(policies: dict[str, Policy]) -> None:
    ticket = aivo(policies, "blocker", ba(3, 6, 23))
    assert seen(ticket, "first_response", ba(3, 6, 23))["due_at"] == z(ba(3, 7, 0))
    assert seen(ticket, "resolution", ba(3, 6, 23))["due_at"] == z(ba(3, 7, 5))


# ------------------------------------------------------------------ E5 A4


def test_e5_met_before_due_is_met_and_keeps_its_due_instant(policies: dict[str, Policy]) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    apply(ticket, "first_response", meet, ba(3, 9, 11))
    later = seen(ticket, "first_response", ba(3, 12, 10))
    assert later["state"] == "met"
    assert later["met_at"] == z(ba(3, 9, 11))
    assert later["due_at"] == z(ba(3, 9, 12))
    assert (later["elapsed_seconds"], later["remaining_seconds"]) == (HOUR, HOUR)
    assert later["breached_at"] is None
    # The first meeting event counts.
    apply(ticket, "first_response", meet, ba(3, 9, 11, 30))
    assert seen(ticket, "first_response", ba(3, 12, 10))["met_at"] == z(ba(3, 9, 11))


def test_e5_a_target_is_breached_at_its_due_instant_itself(policies: dict[str, Policy]) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    just_before = seen(ticket, "first_response", ba(3, 9, 11, 59, 59))
    assert (just_before["state"], just_before["remaining_seconds"]) == ("running", 1)
    at_due = seen(ticket, "first_response", ba(3, 9, 12))
    assert at_due["state"] == "breached"
    assert at_due["breached_at"] == z(ba(3, 9, 12))
    assert at_due["remaining_seconds"] == 0
    past = seen(ticket, "first_response", ba(3, 9, 13))
    assert past["remaining_seconds"] == -HOUR


def test_e5_met_after_due_stays_breached_with_met_at(policies: dict[str, Policy]) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    apply(ticket, "first_response", meet, ba(3, 9, 12))  # exactly at due: too late
    met = seen(ticket, "first_response", ba(3, 10, 9))
    assert met["state"] == "breached"
    assert met["met_at"] == z(ba(3, 9, 12))
    assert met["breached_at"] == z(ba(3, 9, 12))
    assert met["due_at"] == z(ba(3, 9, 12))
    assert is_breached(target_of(ticket, "first_response"), CONTINUOUS, ba(3, 10, 9))


def test_a4_closing_with_an_external_cause_meets_resolution(policies: dict[str, Policy]) -> None:
    # A4: the agent closes the incident as caused outside (the customer's or a third
    # party's systems): `resolve {resolution_cause: external}` meets resolution.
    ticket = aivo(policies, "blocker", ba(3, 9, 10))
    ticket.act("assign", {"agent": "ana@provider.example"}, "agent", ba(3, 9, 10, 30))
    outcome = ticket.act("resolve", {"resolution_cause": "external"}, "agent", ba(3, 9, 14))
    assert "resolution" in outcome.met
    assert (ticket.status, ticket.resolution_cause) == ("resolved", "external")
    resolution = seen(ticket, "resolution", ba(3, 9, 20))
    assert (resolution["state"], resolution["met_at"]) == ("met", z(ba(3, 9, 14)))


# ------------------------------------------------------------------ E6 A6


def test_e6_a6_resolution_pauses_while_waiting_on_the_customer_first_response_runs(
    policies: dict[str, Policy],
) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    for each in ticket.sla.targets:
        if each.metric in PAUSING_METRICS:
            apply(ticket, each.metric, pause, ba(3, 9, 11))
    paused = seen(ticket, "resolution", ba(3, 9, 15))
    assert (paused["state"], paused["due_at"], paused["elapsed_seconds"]) == ("paused", None, HOUR)
    assert seen(ticket, "first_response", ba(3, 9, 15))["state"] == "breached"
    # Nothing counts while paused, even across the night.
    apply(ticket, "resolution", resume, ba(3, 10, 10))
    running = seen(ticket, "resolution", ba(3, 10, 10))
    assert (running["state"], running["elapsed_seconds"]) == ("running", HOUR)
    assert running["due_at"] == z(ba(3, 10, 17))  # 7 business hours left from Tue 10:00


def test_e6_pause_and_resume_are_idempotent(policies: dict[str, Policy]) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    apply(ticket, "resolution", pause, ba(3, 9, 11))
    apply(ticket, "resolution", pause, ba(3, 9, 12))
    apply(ticket, "resolution", resume, ba(3, 9, 13))
    apply(ticket, "resolution", resume, ba(3, 9, 14))
    assert seen(ticket, "resolution", ba(3, 9, 15))["elapsed_seconds"] == 3 * HOUR


def test_e6_reopen_runs_resolution_again_from_its_elapsed_time(
    policies: dict[str, Policy],
) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    apply(ticket, "resolution", meet, ba(3, 9, 13))
    apply(ticket, "resolution", reopen_resolution, ba(3, 10, 9))
    reopened = seen(ticket, "resolution", ba(3, 10, 10))
    assert reopened["state"] == "running"
    assert reopened["met_at"] is None
    assert reopened["elapsed_seconds"] == 4 * HOUR  # 3 h on Monday + 1 h on Tuesday
    assert reopened["due_at"] == z(ba(3, 10, 14))


def test_e6_reopen_keeps_a_breach(policies: dict[str, Policy]) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    apply(ticket, "first_response", meet, ba(3, 9, 13))  # met late: breached at 12:00
    apply(ticket, "first_response", reopen_resolution, ba(3, 10, 9))
    reopened = seen(ticket, "first_response", ba(3, 10, 9))
    assert reopened["state"] == "breached"
    assert reopened["breached_at"] == z(ba(3, 9, 12))
    assert reopened["met_at"] is None


# ------------------------------------------------------------------ E7


def test_e7_raising_to_blocker_past_the_new_duration_breaches_at_once(
    policies: dict[str, Policy],
) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    replan(ticket, policies["aivo"], Intake("incident", "blocker"), ba(3, 9, 11, 30))
    first = seen(ticket, "first_response", ba(3, 9, 11, 30))
    assert (first["clock"], first["target_seconds"]) == ("24x7", HOUR)
    assert first["state"] == "breached"
    assert first["breached_at"] == z(ba(3, 9, 11, 30))
    assert first["elapsed_seconds"] == 5400
    # Resolution (6 h on 24x7) still has time: due 6 h after the report.
    resolution = seen(ticket, "resolution", ba(3, 9, 11, 30))
    assert (resolution["state"], resolution["due_at"]) == ("running", z(ba(3, 9, 16)))
    # The breach alert is due at once.
    target = target_of(ticket, "first_response")
    due = due_thresholds(target, CONTINUOUS, ba(3, 9, 11, 30))
    assert [t.pct for t in due] == [75, 100, 150]


def test_e7_a_weekend_counts_once_the_ticket_moves_to_a_24x7_clock(
    policies: dict[str, Policy],
) -> None:
    ticket = aivo(policies, "high", ba(3, 6, 17))  # 1 business hour by Monday 08:00
    replan(ticket, policies["aivo"], Intake("incident", "blocker"), ba(3, 9, 8))
    first = seen(ticket, "first_response", ba(3, 9, 8))
    assert first["elapsed_seconds"] == 63 * HOUR
    assert (first["state"], first["breached_at"]) == ("breached", z(ba(3, 9, 8)))


def test_e7_retarget_measures_elapsed_time_on_the_new_clock_without_pauses(
    policies: dict[str, Policy],
) -> None:
    ticket = aivo(policies, "low", ba(3, 9, 10))
    apply(ticket, "resolution", pause, ba(3, 9, 11))
    apply(ticket, "resolution", resume, ba(3, 9, 12))
    replan(ticket, policies["aivo"], Intake("incident", "blocker"), ba(3, 9, 14))
    resolution = seen(ticket, "resolution", ba(3, 9, 14))
    # 10-11 and 12-14 ran: 3 h of the 6 h on the 24x7 clock.
    assert resolution["elapsed_seconds"] == 3 * HOUR
    assert resolution["due_at"] == z(ba(3, 9, 17))
    assert resolution["state"] == "running"


def test_e7_lowering_the_priority_keeps_a_breach_and_alerted_thresholds(
    policies: dict[str, Policy],
) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    first = target_of(ticket, "first_response")
    for rung in due_thresholds(first, ticket.clock("business"), ba(3, 9, 12)):
        first = mark_alerted(first, rung.pct)
    put(ticket, first)
    replan(ticket, policies["aivo"], Intake("incident", "low"), ba(3, 9, 12, 30))
    lowered = target_of(ticket, "first_response")
    assert lowered.target_seconds == 4 * HOUR
    assert lowered.alerted == (75, 100)
    assert seen(ticket, "first_response", ba(3, 9, 12, 30))["state"] == "breached"


def test_e7_a_metric_the_new_plan_drops_is_cancelled_and_a_new_one_starts_at_report(
    policies: dict[str, Policy],
) -> None:
    keybe = policies["keybe"]
    reported = ba(3, 9, 10)
    ticket = aggregate(
        keybe,
        Intake("requirement", description="x", fields={"example": "y"}),
        reported,
        {"tier": "standard"},
    )
    replan(ticket, keybe, Intake("query"), ba(3, 9, 11), {"tier": "standard"})
    assert seen(ticket, "study", ba(3, 9, 12))["state"] == "cancelled"
    resolution = seen(ticket, "resolution", ba(3, 9, 12))
    assert resolution["started_at"] == z(reported)
    assert resolution["elapsed_seconds"] == 2 * HOUR
    assert resolution["due_at"] == z(ba(3, 9, 14))


# ------------------------------------------------------------------ E8


def test_e8_ladder_instants_on_a_business_clock(policies: dict[str, Policy]) -> None:
    ticket = aivo(policies, "high", ba(3, 6, 17))  # first response: 2 business hours
    target = target_of(ticket, "first_response")
    clock = ticket.clock("business")
    seen: list[tuple[str, int, str, int]] = []
    while (step := next_threshold(target, clock)) is not None:
        at, rung = step
        seen.append((z(at), rung.pct, rung.type, rung.level))
        target = mark_alerted(target, rung.pct)
    assert seen == [
        (z(ba(3, 9, 9, 30)), 75, "sla.warning", 1),
        (z(ba(3, 9, 10)), 100, "sla.breached", 1),
        (z(ba(3, 9, 11)), 150, "sla.escalated", 2),
        (z(ba(3, 9, 12)), 200, "sla.escalated", 3),
    ]


def test_e8_due_thresholds_are_each_crossed_rung_not_yet_alerted(
    policies: dict[str, Policy],
) -> None:
    ticket = aivo(policies, "high", ba(3, 6, 17))
    target = target_of(ticket, "first_response")
    clock = ticket.clock("business")
    assert due_thresholds(target, clock, ba(3, 9, 9, 29, 59)) == []
    due = due_thresholds(target, clock, ba(3, 9, 10))
    assert due == [Threshold(75, "sla.warning", 1), Threshold(100, "sla.breached", 1)]
    for rung in due:
        target = mark_alerted(target, rung.pct)
    target = mark_alerted(target, 100)  # twice: no second record
    assert target.alerted == (75, 100)
    assert due_thresholds(target, clock, ba(3, 9, 10, 30)) == []
    nxt = next_threshold(target, clock)
    assert nxt is not None
    assert (z(nxt[0]), nxt[1].pct) == (z(ba(3, 9, 11)), 150)
    # The due index keys a ticket on its soonest pending threshold: first_response's
    # 150 % (Monday 11:00) comes before resolution's 75 % (6 business hours: Monday 14:00).
    put(ticket, target)
    soonest = ticket.next_due()
    assert soonest == ba(3, 9, 11)


def test_e8_k3_emergency_ladder_escalates_at_300_pct_only(policies: dict[str, Policy]) -> None:
    ticket = aggregate(policies["keybe"], Intake("emergency"), ba(3, 9, 10))
    target = target_of(ticket, "resolution")
    instants: list[tuple[str, int, int]] = []
    while (step := next_threshold(target, CONTINUOUS)) is not None:
        instants.append((z(step[0]), step[1].pct, step[1].level))
        target = mark_alerted(target, step[1].pct)
    assert instants == [
        (z(ba(3, 9, 10, 45)), 75, 1),
        (z(ba(3, 9, 11)), 100, 1),
        (z(ba(3, 9, 13)), 300, 2),
    ]


def test_e8_paused_met_cancelled_and_pending_targets_raise_nothing(
    policies: dict[str, Policy],
) -> None:
    ticket = aivo(policies, "high", ba(3, 9, 10))
    clock = ticket.clock("business")
    much_later = ba(3, 13, 17)
    base = target_of(ticket, "resolution")
    for quiet in (
        pause(base, clock, ba(3, 9, 11)),
        meet(base, clock, ba(3, 9, 11)),
        cancel(base, clock, ba(3, 9, 11)),
    ):
        assert next_threshold(quiet, clock) is None
        assert due_thresholds(quiet, clock, much_later) == []
    dx = aggregate(
        policies["digital_express"],
        Intake("incident", channel="email"),
        ba(3, 9, 10),
        NO_CONTRACT,
    )
    pending = target_of(dx, "first_response")
    assert next_threshold(pending, CONTINUOUS) is None
    assert due_thresholds(pending, CONTINUOUS, much_later) == []


# ------------------------------------------------------------------ E9


def test_e9_a_holiday_added_later_moves_the_due_instant_of_open_tickets(
    policies: dict[str, Policy],
) -> None:
    aivo_policy = policies["aivo"]
    ticket = aivo(policies, "medium", ba(3, 9, 10))
    assert seen(ticket, "resolution", ba(3, 10, 12))["due_at"] == z(ba(3, 16, 10))
    changed = aivo_policy.model_copy(
        update={
            "version": 2,
            "calendar": aivo_policy.calendar.model_copy(
                update={"holidays": [datetime(2026, 3, 11).date()]}
            ),
        }
    )
    basis = SlaBasis.of(changed, {})
    assert ticket.is_stale(basis)
    entry = ticket.refresh(basis, ba(3, 10, 12), "policy.updated")
    assert entry is not None
    assert (entry["cause"], entry["new_policy_version"]) == ("policy.updated", 2)
    assert not ticket.is_stale(basis)
    moved = seen(ticket, "resolution", ba(3, 10, 12))
    assert moved["due_at"] == z(ba(3, 17, 10))  # one working day (9 h) later
    assert moved["elapsed_seconds"] == 8 * HOUR + 3 * HOUR


# ------------------------------------------------------------------ DX2


def test_dx2_first_response_is_pending_until_payment_then_runs_3h_24x7(
    policies: dict[str, Policy],
) -> None:
    ticket = aggregate(
        policies["digital_express"],
        Intake("incident", channel="email"),
        ba(3, 9, 10),
        NO_CONTRACT,
    )
    pending = seen(ticket, "first_response", ba(3, 10, 10))
    assert pending == {
        "metric": "first_response",
        "clock": "24x7",
        "target_seconds": 3 * HOUR,
        "started_at": None,
        "due_at": None,
        "state": "pending",
        "elapsed_seconds": 0,
        "remaining_seconds": 3 * HOUR,
        "met_at": None,
        "breached_at": None,
    }
    target = start_pending(target_of(ticket, "first_response"), ba(3, 11, 16))
    assert start_pending(target, ba(3, 11, 17)) == target  # a second payment changes nothing
    running = view(target, CONTINUOUS, ba(3, 11, 17))
    assert running["started_at"] == z(ba(3, 11, 16))
    assert running["due_at"] == z(ba(3, 11, 19))
    assert (running["state"], running["elapsed_seconds"]) == ("running", HOUR)


def test_dx2_a_pending_target_stays_pending_through_a_replan(
    policies: dict[str, Policy],
) -> None:
    ticket = aggregate(
        policies["digital_express"],
        Intake("incident", channel="email"),
        ba(3, 9, 10),
        NO_CONTRACT,
    )
    replan(
        ticket,
        policies["digital_express"],
        Intake("query", channel="email"),
        ba(3, 9, 11),
        NO_CONTRACT,
    )
    assert target_of(ticket, "first_response").state == "pending"


# ------------------------------------------------------------------ storage


def test_targets_round_trip_through_a_plain_dict(policies: dict[str, Policy]) -> None:
    ticket = aivo(policies, "high", ba(3, 6, 17))
    apply(ticket, "resolution", pause, ba(3, 9, 11))
    apply(ticket, "resolution", resume, ba(3, 9, 12))
    apply(ticket, "first_response", meet, ba(3, 9, 10, 30))
    for each in ticket.sla.targets:
        stored = json.loads(json.dumps(each.to_dict()))
        assert Target.from_dict(stored) == each
        # DynamoDB gives numbers back as Decimal.
        as_dynamo = {k: (Decimal(v) if isinstance(v, int) else v) for k, v in stored.items()}
        as_dynamo["alerted"] = [Decimal(p) for p in stored["alerted"]]
        assert Target.from_dict(as_dynamo) == each
    stored = target_of(ticket, "resolution").to_dict()
    assert stored["running_since"] == "2026-03-09T15:00:00Z"
    assert stored["runs"] == [["2026-03-06T20:00:00Z", "2026-03-09T14:00:00Z"]]


def test_naive_instants_are_refused() -> None:
    spec = TargetSpec("resolution", "24x7", HOUR)
    with pytest.raises(ValueError, match="timezone-aware"):
        start_targets([spec], datetime(2026, 3, 9, 10))


# ------------------------------------------------------------------ properties

_gaps = st.lists(st.integers(min_value=0, max_value=3 * 86_400), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(gaps=_gaps, target_hours=st.integers(min_value=1, max_value=60))
def test_e6_elapsed_is_the_running_time_and_retarget_to_the_same_spec_changes_nothing(
    policies: dict[str, Policy], gaps: list[int], target_hours: int
) -> None:
    """Alternating run/pause periods: on 24x7, elapsed is the sum of the running
    periods; on business time, re-measuring the runs (E7/E9) gives the same view."""
    business = clock_for("business", calendar_for(policies["aivo"], TenantTerms()))
    for clock_kind, clock in (("24x7", CONTINUOUS), ("business", business)):
        spec = TargetSpec("resolution", clock_kind, target_hours * HOUR)
        (target,) = start_targets([spec], ba(3, 9, 10))
        now, ran = ba(3, 9, 10), 0
        for i, gap in enumerate(gaps):
            step = pause if i % 2 == 0 else resume
            if i % 2 == 0:
                ran += gap
            now += timedelta(seconds=gap)
            target = step(target, clock, now)
        seen = view(target, clock, now)
        if clock_kind == "24x7":
            assert seen["elapsed_seconds"] == ran
        assert seen["elapsed_seconds"] + seen["remaining_seconds"] == spec.seconds
        assert view(retarget(target, spec, clock, now), clock, now) == seen


def test_e8_a_cancelled_then_re_added_metric_keeps_its_alerted_thresholds() -> None:
    """E7 + E8: set_priority away and back cancels and re-adds `resolution`; the
    thresholds it already alerted must not be alerted again (the outbox key
    (ticket, metric, threshold) exists), and the ladder goes on from there."""
    from chalicelib.domain import sla as s

    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("UTC"))
    spec = s.TargetSpec(metric="resolution", clock="24x7", seconds=3600)
    (target,) = s.start_targets([spec], t0)
    for pct in (75, 100):
        target = s.mark_alerted(target, pct)
    (cancelled,) = s.reconcile([target], [], lambda _: CONTINUOUS, t0, t0 + timedelta(hours=1))
    assert cancelled.state == "cancelled"
    (again,) = s.reconcile([cancelled], [spec], lambda _: CONTINUOUS, t0, t0 + timedelta(hours=2))
    assert set(again.alerted) == {75, 100}
    due = s.due_thresholds(again, CONTINUOUS, t0 + timedelta(hours=2))
    assert [t.pct for t in due] == [150, 200]
