"""What a ticket adds to the report counters (`chalicelib.domain.report_counts`):
its record's verdict, plus a breach from `unsettled_due` on, is the verdict the
report judges as of any instant (business and 24x7 clocks, paused, reopened,
settled); and `delta` moves only what changed. Pure: every instant is passed in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import report_counts as rc
from chalicelib.domain.intake import Intake
from chalicelib.domain.policy import Policy
from chalicelib.domain.terms import SlaBasis
from chalicelib.domain.ticket import Ticket
from chalicelib.policies import load_shipped
from tests.unit.helpers import open_ticket

BA = ZoneInfo("America/Argentina/Buenos_Aires")
MON_10 = datetime(2026, 3, 9, 10, tzinfo=BA)  # no Argentine holiday that week
H = timedelta(hours=1)


@pytest.fixture(scope="module")
def policies() -> dict[str, Policy]:
    return load_shipped()


def as_of(ticket: Ticket, now: datetime) -> str | None:
    """The verdict the report computes from the counters and the unsettled index."""
    due = rc.unsettled_due(ticket)
    return "breached" if due is not None and due <= now else rc.settled_verdict(ticket)


Step = Callable[[Ticket], object]

LIVES: dict[str, list[tuple[timedelta, Step]]] = {
    "untouched": [],
    "answered in time": [
        (0.5 * H, lambda t: t.act("assign", {"agent": "a"}, "agent", MON_10 + 0.5 * H))
    ],
    "answered late": [
        (30 * H, lambda t: t.act("assign", {"agent": "a"}, "agent", MON_10 + 30 * H))
    ],
    "waiting on the customer": [
        (0.5 * H, lambda t: t.act("assign", {"agent": "a"}, "agent", MON_10 + 0.5 * H)),
        (H, lambda t: t.act("wait_on_customer", {}, "agent", MON_10 + H)),
    ],
    "resolved, then reopened": [
        (0.5 * H, lambda t: t.act("assign", {"agent": "a"}, "agent", MON_10 + 0.5 * H)),
        (H, lambda t: t.act("resolve", {}, "agent", MON_10 + H)),
        (2 * H, lambda t: t.act("reopen", {}, "customer", MON_10 + 2 * H)),
    ],
}


@pytest.mark.parametrize("priority", ["blocker", "high", "low"])  # 24x7 and business clocks
@pytest.mark.parametrize("life", list(LIVES))
def test_the_record_and_the_due_instant_give_the_verdict_as_of_any_instant(
    policies: dict[str, Policy], life: str, priority: str
) -> None:
    ticket, _ = open_ticket(policies["aivo"], Intake("incident", priority), MON_10)
    last = timedelta(0)
    for at, step in LIVES[life]:
        step(ticket)
        last = at
    for minutes in range(0, 14 * 24 * 60, 17):  # two weeks after the last change
        now = MON_10 + last + timedelta(minutes=minutes)
        views = ticket.target_views(now)
        assert as_of(ticket, now) == rc.judge(v["state"] for v in views), (life, now)


def test_counts_and_the_delta_of_a_change(policies: dict[str, Policy]) -> None:
    ticket, _ = open_ticket(policies["aivo"], Intake("incident", "blocker"), MON_10)
    day = "2026-03-09"  # MON_10 in UTC
    opened = rc.counts(ticket)
    assert opened == {(rc.SLA, day, "blocker"): {"tickets": 1, "met": 0, "breached": 0}}
    assert rc.delta({}, opened) == {(rc.SLA, day, "blocker"): {"tickets": 1}}
    ticket.act("assign", {"agent": "a"}, "agent", MON_10 + 0.5 * H)
    assert rc.delta(opened, rc.counts(ticket)) == {}  # the resolution still runs
    ticket.act("resolve", {}, "agent", MON_10 + H)
    met = rc.counts(ticket)
    assert rc.delta(opened, met) == {(rc.SLA, day, "blocker"): {"met": 1}}
    basis = SlaBasis.of(policies["aivo"], {})
    ticket.act("set_priority", {"priority": "low"}, "agent", MON_10 + 2 * H, basis=basis)
    assert rc.delta(met, rc.counts(ticket)) == {
        (rc.SLA, day, "blocker"): {"tickets": -1, "met": -1},
        (rc.SLA, day, "low"): {"tickets": 1, "met": 1},
    }


def test_a_charge_counts_as_the_charges_report_adds_it(policies: dict[str, Policy]) -> None:
    intake = Intake("query", None, channel="email")
    ticket, _ = open_ticket(
        policies["digital_express"], intake, MON_10, {"contract": {"active": False}}
    )
    assert ticket.charge is not None
    quoted = rc.counts(ticket)
    key = (rc.CHARGES, "2026-03-09", ticket.charge.currency)
    assert quoted[key] == {
        "charges": 1,
        "charged": 0,
        "waived": 0,
        "minutes": 0,
        "amount_due": Decimal("0.00"),
    }
    ticket.act("approve_charge", {}, "customer", MON_10 + H)
    moved = rc.delta(quoted, rc.counts(ticket))
    assert moved[key]["charged"] == 1
    assert moved[key]["amount_due"] == ticket.charge.amount > 0
