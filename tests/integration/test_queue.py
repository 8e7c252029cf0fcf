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
    raw_ticket_item,
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
            api,
            agent_key,
            customer.tenant_id,
            "blocker",
            now - timedelta(minutes=minutes_ago),
            name,
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


def test_e9_a_policy_change_and_a_calendar_change_move_the_deadlines(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, wed: RequestClock
) -> None:
    """A2.high first response 2 -> 7 business hours: it now comes after the
    blocker's resolution; then today becomes a holiday for the customer (E2): its
    business clock counts from Thursday 09:00 local."""
    status, aivo = api.get("/admin/policies/aivo", admin_key)
    assert status == 200, aivo
    policy_id = f"aivo-queue-{uuid.uuid4().hex[:8]}"
    status, stored = api.put(f"/admin/policies/{policy_id}", admin_key, {**aivo, "id": policy_id})
    assert status == 200, stored
    tenant = new_customer(policy=policy_id)
    now = wed.now
    high = open_at(api, agent_key, tenant.tenant_id, "high", now, "high")
    blocker = open_at(api, agent_key, tenant.tenant_id, "blocker", now - timedelta(minutes=30), "b")
    done(api, agent_key, blocker, "assign", agent="ana")  # resolution due 5.5 h from now
    names = {high: "high", blocker: "blocker"}

    def seen() -> list[tuple[str, str, str]]:
        items = queue(api, agent_key, tenant.tenant_id)
        assert_agrees_with_tickets(api, agent_key, items, list(names))
        return [(names[i["ticket_id"]], i["metric"], i["due_at"]) for i in items]

    assert seen() == [
        ("high", "first_response", "2026-11-25T15:00:00Z"),  # 12:00 local
        ("blocker", "resolution", "2026-11-25T18:30:00Z"),
    ]
    changed = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    rule = next(r for r in changed["target_rules"] if r["id"] == "A2.high")
    rule["targets"][0]["hours"] = 7
    status, result = api.put(f"/admin/policies/{policy_id}", admin_key, changed)
    assert status == 200, result
    assert result["remaining"] == 0
    assert seen() == [
        ("blocker", "resolution", "2026-11-25T18:30:00Z"),
        ("high", "first_response", "2026-11-25T20:00:00Z"),  # 17:00 local
    ]
    status, body = api.patch(
        f"/admin/tenants/{tenant.tenant_id}", admin_key, {"calendar": {"holidays": ["2026-11-25"]}}
    )
    assert status == 200, body
    assert seen() == [
        ("blocker", "resolution", "2026-11-25T18:30:00Z"),  # 24x7: no holiday
        ("high", "first_response", "2026-11-26T19:00:00Z"),  # Thu 09:00 + 7 h local
    ]


def test_a_partner_event_that_raises_the_priority_moves_the_ticket(
    api: Api, admin_key: str, agent_key: str, customer: Customer
) -> None:
    """A generic partner raises a high to blocker (E7): first response 1 h on a 24x7
    clock from the partner's creation time (the real clock: signatures are checked
    against it)."""
    partner_id = f"p-queue-{uuid.uuid4().hex[:8]}"
    status, body = api.post(
        "/admin/partners",
        admin_key,
        {"id": partner_id, "tenant_id": customer.tenant_id, "format": "generic"},
    )
    assert status == 201, body
    desk = Helpdesk(api, "generic", partner_id, body["secret"], customer.tenant_id)
    status, answer = desk.send("ticket_created")
    assert status == 200, answer
    ticket_id = answer["ticket_id"]
    (before,) = queue(api, agent_key, customer.tenant_id)
    assert_agrees_with_tickets(api, agent_key, [before], [ticket_id])
    assert before["priority"] == "high"
    status, answer = desk.send("ticket_updated")
    assert status == 200, answer
    assert answer["applied"] is True
    (after,) = queue(api, agent_key, customer.tenant_id)
    assert_agrees_with_tickets(api, agent_key, [after], [ticket_id])
    assert after["priority"] == "blocker"
    status, ticket = api.get(f"/tickets/{ticket_id}", agent_key)
    reported = datetime.fromisoformat(ticket["reported_at"].replace("Z", "+00:00"))
    assert (after["metric"], after["due_at"]) == (
        "first_response",
        iso(reported + timedelta(hours=1)),
    )
    assert after["due_at"] != before["due_at"]


def _queue_units(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, int]:
    """Write units the queue indexes take for a write from `old` to `new`, as
    DynamoDB bills them (bench.moto_harness.WriteMeter)."""
    from bench.moto_harness import WriteMeter
    from chalicelib.store.schema import MAIN_TABLE, QUEUE_BY_TENANT_INDEX, QUEUE_INDEX

    meter = WriteMeter(MAIN_TABLE)
    meter.put(old, new, transactional=True)
    return {name: meter.units[name] for name in (QUEUE_INDEX, QUEUE_BY_TENANT_INDEX)}


def test_a_threshold_crossing_changes_the_state_not_the_place_and_writes_no_queue_entry(
    api: Api, agent_key: str, customer: Customer, wed: RequestClock
) -> None:
    """E8: the checker's warning (75 %) and breach (100 %) writes leave the deadline
    where it is: the keys-only queue entries are not rewritten (0 write units),
    while an E7 move costs 2 on each queue index (a removal and a put), and
    entering or leaving the queue 1 each."""
    start = wed.now
    early = open_at(
        api, agent_key, customer.tenant_id, "blocker", start - timedelta(minutes=5), "e"
    )
    late = open_at(api, agent_key, customer.tenant_id, "blocker", start, "late")
    names = {early: "early", late: "late"}
    assert _queue_units(None, raw_ticket_item(early)) == {"queue": 1, "queue_by_tenant": 1}

    for minutes, expected in (
        (40, [("early", "at_risk", 15 * 60), ("late", "on_track", 20 * 60)]),
        (55, [("early", "breached", 0), ("late", "at_risk", 5 * 60)]),
    ):
        before = raw_ticket_item(early)
        at = start + timedelta(minutes=minutes)
        run_checker(api, at)
        after = raw_ticket_item(early)
        assert after["version"] != before["version"]  # the checker wrote the ticket
        assert _queue_units(before, after) == {"queue": 0, "queue_by_tenant": 0}
        wed.now = at
        items = queue(api, agent_key, customer.tenant_id)
        assert [
            (names[i["ticket_id"]], i["state"], i["remaining_seconds"]) for i in items
        ] == expected

    before = raw_ticket_item(late)
    done(api, agent_key, late, "set_priority", priority="high")  # E7: moves the deadline
    assert _queue_units(before, raw_ticket_item(late)) == {"queue": 2, "queue_by_tenant": 2}
    before = raw_ticket_item(late)
    done(api, agent_key, late, "close")
    assert _queue_units(before, raw_ticket_item(late)) == {"queue": 1, "queue_by_tenant": 1}


def test_dx2_the_payment_that_starts_the_clock_puts_the_ticket_in_the_queue(
    api: Api, admin_key: str, new_customer: Any, wed: RequestClock
) -> None:
    tenant = new_customer(policy="digital_express", contract={"active": False})
    query = {"title": "Question", "description": "How do I export?", "kind": "query"}
    status, ticket = api.post("/tickets", tenant.key, {**query, "channel": "email"})
    assert status == 201, ticket
    ticket_id = ticket["id"]
    assert queue(api, admin_key, tenant.tenant_id) == []  # pending until paid
    done(api, tenant.key, ticket_id, "approve_charge")
    assert queue(api, admin_key, tenant.tenant_id) == []
    wed.now += timedelta(hours=1)
    done(api, admin_key, ticket_id, "mark_paid")
    items = queue(api, admin_key, tenant.tenant_id)
    assert_agrees_with_tickets(api, admin_key, items, [ticket_id])
    assert [(i["ticket_id"], i["status"], i["state"], i["remaining_seconds"]) for i in items] == [
        (ticket_id, "queued", "on_track", 3 * H)
    ]


def test_every_customer_s_queue_pages_through_in_deadline_order(
    api: Api, agent_key: str, admin_key: str, new_customer: Any, wed: RequestClock
) -> None:
    """No tenant named: every customer's open work merged by deadline; a cursor goes
    on exactly after the last item shown, with nothing twice or left out."""
    now = wed.now
    ago: dict[str, int] = {}  # ticket -> minutes since it was reported
    for tenant, minutes in [(new_customer(), m) for m in (5, 26, 47)] + [
        (new_customer(), m) for m in (8, 29, 50)
    ]:
        reported = now - timedelta(minutes=minutes)
        ago[open_at(api, agent_key, tenant.tenant_id, "blocker", reported, "x")] = minutes
    pages = []
    cursor: str | None = None
    while True:
        status, page = api.get(
            "/queue?limit=4" + (f"&cursor={cursor}" if cursor else ""), admin_key
        )
        assert status == 200, page
        assert len(page["items"]) <= 4
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    items = [item for page in pages for item in page]
    keys = [(i["due_at"], i["ticket_id"]) for i in items]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    # the two customers' tickets interleaved, the longest waiting (due first) first
    assert [ago[i["ticket_id"]] for i in items if i["ticket_id"] in ago] == [
        50,
        47,
        29,
        26,
        8,
        5,
    ]
    assert items == queue(api, agent_key)


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("cursor=bm90LWEtY3Vyc29y", 400, "cursor"),
        ("limit=0", 400, "limit"),
        ("limit=101", 400, "limit"),
        ("tenant_id=Not%20A%20Tenant", 400, "tenant_id"),
        ("tenant_id=no-such-tenant", 404, None),
    ],
)
def test_bad_queue_requests_are_400_or_404_in_the_contract_s_shape(
    api: Api, agent_key: str, query: str, status: int, field: str | None
) -> None:
    got, body = api.get(f"/queue?{query}", agent_key)
    assert_error(got, body, status)
    if field is not None:
        assert field in body["error"]["fields"], body


def test_a_cursor_is_for_the_list_it_came_from(
    api: Api, agent_key: str, customer: Customer, wed: RequestClock
) -> None:
    for minutes in (1, 2):
        open_at(api, agent_key, customer.tenant_id, "blocker", wed.now, f"t{minutes}")
    status, page = api.get(f"/queue?limit=1&tenant_id={customer.tenant_id}", agent_key)
    assert status == 200, page
    cursor = page["next_cursor"]
    assert cursor is not None
    status, body = api.get(f"/queue?limit=1&cursor={cursor}", agent_key)  # every customer's
    assert_error(status, body, 400)
    status, rest = api.get(f"/queue?tenant_id={customer.tenant_id}&cursor={cursor}", agent_key)
    assert status == 200, rest
    assert [i["title"] for i in page["items"] + rest["items"]] == ["t1", "t2"]
    assert rest["next_cursor"] is None


# --- what a page costs ----------------------------------------------------------


def _table() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.settings import get_settings

    return dynamodb_backends["123456789012"]["us-east-1"].get_table(get_settings().table_name)


def _clone(template_id: str, count: int, reported: Any = None) -> list[str]:
    """`count` copies of a stored ticket, each reported at `reported(n)` (its targets
    started again then) or as it is (a closed one), mapped by the store as on every
    save (`to_item`: the index keys derived from the aggregate) and put straight
    into moto's table: 6,000 tickets through the API (or moto's own put_item, which
    re-measures the item at each attribute) would take minutes."""
    from dataclasses import replace

    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from ulid import ULID

    from chalicelib.domain import sla
    from chalicelib.store import tickets as store

    table = _table()
    base = store.get(template_id)
    assert base is not None
    specs = [sla.TargetSpec(t.metric, t.clock, t.target_seconds) for t in base.sla.targets]
    ids = []
    for n in range(count):
        ticket = replace(base, id=f"tkt_{ULID()}", version=1, sla=replace(base.sla))
        if reported is not None:
            ticket.reported_at = reported(n)
            ticket.sla.targets = sla.start_targets(specs, ticket.reported_at)
        item = store.to_item(ticket)
        item.version = 1
        entry: Any = Item.__new__(Item)  # its __init__ re-measures the item per attribute
        entry.attrs = LimitedSizeDict({k: DynamoType(v) for k, v in item.serialize().items()})
        entry.hash_key, entry.range_key = entry.attrs["pk"], entry.attrs["sk"]
        table.items[entry.hash_key][entry.range_key] = entry
        ids.append(ticket.id)
    return ids


def _forget(ticket_ids: list[str]) -> None:
    """Take the cloned tickets out again: the session's table stays small."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = _table()
    for ticket_id in ticket_ids:
        table.delete_item(DynamoType({"S": f"TICKET#{ticket_id}"}), DynamoType({"S": "TICKET"}))


def _page_cost(
    api: Api, key: str, path: str, aws_calls: Counter[str]
) -> tuple[dict[str, int], int, dict[str, Any]]:
    """The DynamoDB calls of one page on a warm container (the key cached by the
    request before, a cheap one: moto's index queries are slow on a big table), the
    index entries its Queries read (ScannedCount), and the page."""
    from chalicelib.services import auth
    from chalicelib.store.models import TicketItem

    auth.forget(auth.hash_key(key))  # cached afresh: it cannot expire before the page
    assert api.get("/tickets/tkt_00000000000000000000000000", key)[0] == 404  # key cached
    scanned = []

    def count(parsed: dict[str, Any], **_: Any) -> None:
        scanned.append(int(parsed.get("ScannedCount", 0)))

    events = TicketItem._get_connection().connection.client.meta.events
    events.register("after-call.dynamodb.Query", count)
    try:
        aws_calls.clear()
        status, page = api.get(path, key)
    finally:
        events.unregister("after-call.dynamodb.Query", count)
    assert status == 200, page
    return dict(aws_calls), sum(scanned), page


def test_a_page_costs_5_calls_with_1_open_ticket_and_with_1000_open_and_5000_closed(
    api: Api, agent_key: str, new_customer: Any, wed: RequestClock, aws_calls: Counter[str]
) -> None:
    """4 Queries (one per shard, 26 keys at most each) and 1 BatchGetItem, whatever
    the number of closed tickets, which the sparse index does not hold."""
    tenant = new_customer()
    now = wed.now
    first = open_at(api, agent_key, tenant.tenant_id, "blocker", now, "first")
    path = f"/queue?tenant_id={tenant.tenant_id}"
    calls, scanned, page = _page_cost(api, agent_key, path, aws_calls)
    assert calls == {"Query": 4, "BatchGetItem": 1}
    assert scanned == 1
    assert [i["ticket_id"] for i in page["items"]] == [first]

    closed = open_at(api, agent_key, tenant.tenant_id, "high", now, "closed")
    done(api, agent_key, closed, "close")
    cloned = _clone(first, 999, lambda n: now - timedelta(seconds=n + 1))
    cloned += _clone(closed, 5000)
    try:
        pages = {}
        for query in (path, "/queue"):  # one tenant's, and every customer's
            calls, scanned, pages[query] = _page_cost(api, agent_key, query, aws_calls)
            assert calls == {"Query": 4, "BatchGetItem": 1}, query
            assert scanned <= 4 * 26, query
            assert len(pages[query]["items"]) == 25, query
            assert pages[query]["next_cursor"] is not None, query
        # the tenant's page: the oldest of its 1,000 blockers lead (999 s of 1 h used)
        items = pages[path]["items"]
        assert [i["remaining_seconds"] for i in items] == [H - 999 + n for n in range(25)]
        assert {i["state"] for i in items} == {"on_track"}
    finally:
        _forget(cloned)


def test_a_ticket_whose_fields_hold_any_number_dynamodb_stores_is_queued(
    api: Api, customer: Customer, agent_key: str
) -> None:
    """10**40 is a number DynamoDB stores; the local AWS (moto) once failed to read
    the queue's keys-only entries of such a ticket (dev.embedded_aws.plain_projections)."""
    body = {**INCIDENT, "fields": {"zeros": 10**40, "small": 1e-130}}
    status, ticket = api.post("/tickets", customer.key, body)
    assert status == 201, ticket
    assert [i["ticket_id"] for i in queue(api, agent_key, customer.tenant_id)] == [ticket["id"]]
