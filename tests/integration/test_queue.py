"""The agents' queue over the API (docs/queue.md; docs/api.md, The agents' queue):
every customer's open work, or one tenant's, earliest running deadline first, with
the state a person reads as of the request, kept exact through every change that
moves a deadline (actions, E6 pauses, E7 priority changes, E9 policy and calendar
changes, partner events, E8 threshold crossings, the DX2 payment), never a Scan.

Aivo (A2): a blocker's first response is 1 h and its resolution 6 h on 24x7
clocks; a high's 2 and 8 business hours, Mon-Fri 09:00-18:00 in Buenos Aires
(UTC-3). The request clock is frozen; Wed 2026-11-25 13:00Z is 10:00 there."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.integration.helpers import (
    INCIDENT,
    Api,
    Customer,
    Helpdesk,
    RequestClock,
    assert_error,
    done,
    iso,
    run_checker,
)

WED = "2026-11-25T13:00:00Z"  # 10:00 in Buenos Aires, a working day
H = 3600


def queue(api: Api, key: str, tenant_id: str | None = None, limit: int = 100) -> list[Any]:
    """Every page of the queue (of one tenant when named), in order."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        query = f"limit={limit}" + (f"&tenant_id={tenant_id}" if tenant_id else "")
        status, page = api.get(f"/queue?{query}" + (f"&cursor={cursor}" if cursor else ""), key)
        assert status == 200, page
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def open_at(
    api: Api, agent_key: str, tenant_id: str, priority: str, reported_at: datetime, title: str
) -> str:
    body = {**INCIDENT, "priority": priority, "title": title, "tenant_id": tenant_id}
    status, ticket = api.post("/tickets", agent_key, {**body, "reported_at": iso(reported_at)})
    assert status == 201, ticket
    return str(ticket["id"])


def next_deadline_of(ticket: dict[str, Any]) -> tuple[str, str] | None:
    """What the ticket's own page shows as its next deadline: the earliest due_at of
    the targets whose clock runs (a paused one has no due_at, a met one a met_at)."""
    if ticket["status"] in ("resolved", "closed"):
        return None
    running = [
        (t["due_at"], t["metric"])
        for t in ticket["sla"]["targets"]
        if t["due_at"] is not None and t["met_at"] is None and t["state"] in ("running", "breached")
    ]
    return min(running, key=lambda step: step[0], default=None)


def assert_agrees_with_tickets(api: Api, key: str, items: list[Any], ids: list[str]) -> None:
    """The queue holds exactly those of `ids` that have a running target, ordered by
    the deadline each ticket's own page shows, with that deadline and metric."""
    expected = []
    for ticket_id in ids:
        status, ticket = api.get(f"/tickets/{ticket_id}", key)
        assert status == 200, ticket
        deadline = next_deadline_of(ticket)
        if deadline is not None:
            expected.append((deadline[0], ticket_id, deadline[1]))
    mine = [(i["due_at"], i["ticket_id"], i["metric"]) for i in items if i["ticket_id"] in ids]
    assert mine == sorted(expected)


def shown(items: list[Any], names: dict[str, str]) -> list[tuple[str, str, str, int]]:
    """The queue as a person reads it: which ticket, which deadline, state, time left."""
    return [
        (names[i["ticket_id"]], i["metric"], i["state"], i["remaining_seconds"])
        for i in items
        if i["ticket_id"] in names
    ]


@pytest.fixture
def wed(clock: RequestClock) -> RequestClock:
    clock.set(WED)
    return clock


def test_breached_first_then_what_breaches_soonest_with_the_state_as_of_now(
    api: Api, agent_key: str, customer: Customer, wed: RequestClock
) -> None:
    now = wed.now
    names = {}
    for name, minutes_ago in (("on_track", 10), ("breached", 120), ("at_risk", 50)):
        ticket_id = open_at(
            api, agent_key, customer.tenant_id, "blocker", now - timedelta(minutes=minutes_ago), name
        )
        names[ticket_id] = name
    assigned = open_at(api, agent_key, customer.tenant_id, "blocker", now, "assigned")
    names[assigned] = "assigned"
    done(api, agent_key, assigned, "assign", agent="ana")  # A5: first response met
    for gone in ("resolved", "closed", "paused"):
        ticket_id = open_at(api, agent_key, customer.tenant_id, "blocker", now, gone)
        names[ticket_id] = gone
        done(api, agent_key, ticket_id, "assign", agent="ana")
        action = {"resolved": "resolve", "closed": "close", "paused": "wait_on_customer"}[gone]
        done(api, agent_key, ticket_id, action)

    items = queue(api, agent_key, customer.tenant_id)

    assert shown(items, names) == [
        ("breached", "first_response", "breached", -H),  # due 1 h ago
        ("at_risk", "first_response", "at_risk", 10 * 60),  # 50 of 60 minutes used: 83 %
        ("on_track", "first_response", "on_track", 50 * 60),
        ("assigned", "resolution", "on_track", 6 * H),
    ]
    first = items[0]
    assert first == {
        "ticket_id": first["ticket_id"],
        "tenant_id": customer.tenant_id,
        "title": "breached",
        "priority": "blocker",
        "status": "new",
        "assignee": None,
        "metric": "first_response",
        "due_at": iso(now - timedelta(hours=1)),
        "remaining_seconds": -H,
        "state": "breached",
    }
    assert items[-1]["assignee"] == "ana"
    assert_agrees_with_tickets(api, agent_key, items, list(names))
    # An admin reads the same queue; a customer has no queue.
    assert queue(api, agent_key, customer.tenant_id) == items
    status, body = api.get(f"/queue?tenant_id={customer.tenant_id}", customer.key)
    assert_error(status, body, 403)


def test_at_risk_begins_exactly_when_the_warning_threshold_is_reached(
    api: Api, agent_key: str, customer: Customer, wed: RequestClock
) -> None:
    """E8: 75 % of a 1 h first response is 45 minutes: at_risk from that second on,
    breached from the due instant itself (E5)."""
    start = wed.now
    ticket_id = open_at(api, agent_key, customer.tenant_id, "blocker", start, "down")
    states = []
    for seconds in (0, 45 * 60 - 1, 45 * 60, H - 1, H, 2 * H):
        wed.now = start + timedelta(seconds=seconds)
        (item,) = queue(api, agent_key, customer.tenant_id)
        assert item["ticket_id"] == ticket_id
        states.append((item["state"], item["remaining_seconds"]))
    assert states == [
        ("on_track", H),
        ("on_track", 15 * 60 + 1),
        ("at_risk", 15 * 60),
        ("at_risk", 1),
        ("breached", 0),
        ("breached", -H),
    ]


def test_every_action_that_moves_a_deadline_moves_the_ticket_in_the_queue(
    api: Api, agent_key: str, customer: Customer, wed: RequestClock
) -> None:
    """Actions (E5, A5), E6 pause and resume, E7 priority, resolve, reopen, close."""
    start = wed.now
    blocker = open_at(api, agent_key, customer.tenant_id, "blocker", start, "blocker")
    high = open_at(api, agent_key, customer.tenant_id, "high", start, "high")
    names = {blocker: "blocker", high: "high"}

    def seen() -> list[tuple[str, str, str, int]]:
        items = queue(api, agent_key, customer.tenant_id)
        assert_agrees_with_tickets(api, agent_key, items, list(names))
        return shown(items, names)

    assert seen() == [
        ("blocker", "first_response", "on_track", H),
        ("high", "first_response", "on_track", 2 * H),  # 12:00 local
    ]
    done(api, agent_key, blocker, "assign", agent="ana")  # A5: first response met
    assert seen() == [
        ("high", "first_response", "on_track", 2 * H),
        ("blocker", "resolution", "on_track", 6 * H),
    ]
    done(api, agent_key, high, "set_priority", priority="blocker")  # E7: 1 h, 24x7
    assert seen() == [
        ("high", "first_response", "on_track", H),
        ("blocker", "resolution", "on_track", 6 * H),
    ]
    done(api, agent_key, blocker, "wait_on_customer")  # E6: resolution paused
    assert seen() == [("high", "first_response", "on_track", H)]
    wed.now = start + timedelta(minutes=30)
    done(api, customer.key, blocker, "resume")  # runs again with the 6 h it had left
    assert seen() == [
        ("high", "first_response", "on_track", 30 * 60),
        ("blocker", "resolution", "on_track", 6 * H),
    ]
    done(api, agent_key, high, "assign", agent="ana")
    done(api, agent_key, high, "resolve")  # met: it leaves the queue
    assert seen() == [("blocker", "resolution", "on_track", 6 * H)]
    wed.now = start + timedelta(hours=2)
    done(api, customer.key, high, "reopen")  # E6: resolution runs again, 30 min used
    assert seen() == [
        ("blocker", "resolution", "on_track", 4 * H + 30 * 60),
        ("high", "resolution", "on_track", 5 * H + 30 * 60),
    ]
    done(api, customer.key, high, "close")
    done(api, agent_key, blocker, "close")
    assert seen() == []
