"""The agents' queue in the domain (docs/queue.md): a ticket's next running deadline
(`Ticket.next_deadline`, the queue index's key) and what the queue shows of it as of
an instant (`domain.queue`). Pure: every instant is passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import sla
from chalicelib.domain.intake import Intake
from chalicelib.domain.policy import Policy
from chalicelib.domain.queue import queue_item
from chalicelib.domain.sla import TargetSpec, Threshold
from chalicelib.domain.ticket import Ticket
from chalicelib.policies import load_shipped
from tests.unit.helpers import open_ticket

BA = ZoneInfo("America/Argentina/Buenos_Aires")
HOUR = 3600
MON_10 = datetime(2026, 3, 9, 10, tzinfo=BA)  # no Argentine holiday that week


@pytest.fixture(scope="module")
def policies() -> dict[str, Policy]:
    return load_shipped()


def local(ticket: Ticket) -> tuple[datetime, str] | None:
    deadline = ticket.next_deadline()
    return None if deadline is None else (deadline[0].astimezone(BA), deadline[1])


def shown(ticket: Ticket, at: datetime) -> tuple[str, str, int] | None:
    item = queue_item(ticket, at)
    return None if item is None else (item["metric"], item["state"], item["remaining_seconds"])


def test_the_next_deadline_follows_the_running_targets(policies: dict[str, Policy]) -> None:
    """A2 high: first response 2 and resolution 8 business hours, Mon-Fri 09-18."""
    ticket, _ = open_ticket(policies["aivo"], Intake("incident", "high"), MON_10)
    assert local(ticket) == (MON_10.replace(hour=12), "first_response")
    ticket.act("assign", {"agent": "ana"}, "agent", MON_10 + timedelta(minutes=30))  # A5
    assert local(ticket) == (MON_10.replace(hour=18), "resolution")  # E4: at closing time
    ticket.act("wait_on_customer", {}, "agent", MON_10 + timedelta(minutes=30))  # E6
    assert ticket.next_deadline() is None  # met and paused: out of the queue
    ticket.act("resume", {}, "customer", MON_10 + timedelta(hours=1))  # 7.5 h left at 11:00
    assert local(ticket) == (datetime(2026, 3, 10, 9, 30, tzinfo=BA), "resolution")
    ticket.act("resolve", {}, "agent", MON_10 + timedelta(hours=2))
    assert ticket.next_deadline() is None
    ticket.act("reopen", {}, "customer", MON_10 + timedelta(hours=3))
    assert local(ticket) is not None
    ticket.act("close", {}, "customer", MON_10 + timedelta(hours=3))
    assert ticket.next_deadline() is None


def test_a_clock_that_waits_for_payment_is_not_in_the_queue(policies: dict[str, Policy]) -> None:
    """DX2: without a contract the first response starts when the fee is paid."""
    ticket, _ = open_ticket(
        policies["digital_express"],
        Intake("query", channel="email"),
        MON_10,
        {"contract": {"active": False}},
    )
    assert [t.state for t in ticket.sla.targets] == ["pending"]
    assert ticket.next_deadline() is None
    ticket.act("approve_charge", {}, "customer", MON_10)
    ticket.act("mark_paid", {}, "admin", MON_10 + timedelta(hours=1))
    assert ticket.next_deadline() == (
        (MON_10 + timedelta(hours=4)).astimezone(UTC),
        "first_response",
    )


def test_a_tie_names_the_first_target(policies: dict[str, Policy]) -> None:
    ticket, _ = open_ticket(policies["aivo"], Intake("incident", "blocker"), MON_10)
    specs = [TargetSpec("first_response", "24x7", HOUR), TargetSpec("resolution", "24x7", HOUR)]
    ticket.sla.targets = sla.start_targets(specs, MON_10)
    assert local(ticket) == (MON_10 + timedelta(hours=1), "first_response")


def test_on_track_at_risk_from_the_warning_instant_breached_from_the_due_instant(
    policies: dict[str, Policy],
) -> None:
    """A2 blocker: first response 1 h, 24x7; E8 warns at 75 % (45 minutes)."""
    ticket, _ = open_ticket(policies["aivo"], Intake("incident", "blocker"), MON_10)
    seen = [
        shown(ticket, MON_10 + timedelta(seconds=s))
        for s in (0, 45 * 60 - 1, 45 * 60, HOUR - 1, HOUR, 3 * HOUR)
    ]
    assert seen == [
        ("first_response", "on_track", HOUR),
        ("first_response", "on_track", 15 * 60 + 1),
        ("first_response", "at_risk", 15 * 60),
        ("first_response", "at_risk", 1),
        ("first_response", "breached", 0),
        ("first_response", "breached", -2 * HOUR),
    ]


def test_at_risk_follows_the_target_s_own_first_warning(policies: dict[str, Policy]) -> None:
    """A policy may override the ladder (E8): a warning at 50 % puts the target at
    risk at half time; a ladder without a warning never does."""
    ticket, _ = open_ticket(policies["aivo"], Intake("incident", "blocker"), MON_10)
    half = (Threshold(50, "sla.warning", 1), Threshold(90, "sla.warning", 1))
    none = (Threshold(100, "sla.breached", 1),)
    at = MON_10 + timedelta(minutes=40)
    for ladder, state in ((half, "at_risk"), (none, "on_track")):
        spec = TargetSpec("first_response", "24x7", HOUR, ladder)
        ticket.sla.targets = sla.start_targets([spec], MON_10)
        assert shown(ticket, at) == ("first_response", state, 20 * 60)


def test_time_left_on_a_business_clock_is_business_time(policies: dict[str, Policy]) -> None:
    ticket, _ = open_ticket(policies["aivo"], Intake("incident", "high"), MON_10)
    tuesday = datetime(2026, 3, 10, 10, tzinfo=BA)  # 12:00 Mon due; 6 + 1 business h since
    item = queue_item(ticket, tuesday)
    assert item is not None
    assert item == {
        "ticket_id": "tkt_unit",
        "tenant_id": "acme",
        "title": "A ticket",
        "priority": "high",
        "status": ticket.status,
        "assignee": None,
        "metric": "first_response",
        "due_at": "2026-03-09T15:00:00Z",
        "remaining_seconds": -7 * HOUR,
        "state": "breached",
    }
