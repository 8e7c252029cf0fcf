"""The reports' day counters (issue 24; docs/performance.md, Reports from day
counters): a report over whole UTC days answers what reading every ticket of the
range answers (the reports before the counters: `by_reading` here), through
settling, reopening, priority changes after settling, charges and breaches the
checker has or has not recorded yet; its calls do not grow with the tickets; and
each change writes only the counters it moves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.helpers import (
    INCIDENT,
    Api,
    Customer,
    RequestClock,
    aws_spy,
    done,
    iso,
    run_checker_until_done,
)

DAY = datetime(2026, 11, 20, tzinfo=UTC)  # the request clock's day (RequestClock)
START, END = DAY - timedelta(days=2), DAY + timedelta(days=3)  # whole UTC days
RANGE = f"from={iso(START)}&to={iso(END)}"
QUERY = {"title": "Question", "description": "How do I export?", "kind": "query"}


def by_reading(
    tenant_id: str,
    now: datetime,
    currency: str | None = None,
    start: datetime = START,
    end: datetime = END,
) -> dict[str, Any]:
    """Both reports as they were computed before the counters: every ticket of the
    range read and judged as of `now`."""
    from chalicelib.domain import charges
    from chalicelib.services.reports import Tally
    from chalicelib.store import tickets as store

    tally = Tally()
    tickets = list(store.reported_between(tenant_id, start, end))
    for t in tickets:
        tally.add(t.priority, (v["state"] for v in t.target_views(now)))
    rows = charges.report_rows(tenant_id, currency, (t.charge for t in tickets if t.charge))
    return {"sla": rows_of(tally.items()), "charges": [row.item() for row in rows]}


def rows_of(items: list[dict[str, Any]]) -> dict[str, tuple[int, int, int]]:
    """Priority -> (tickets, met, breached), rows with a ticket only."""
    return {i["priority"]: (i["tickets"], i["met"], i["breached"]) for i in items if i["tickets"]}


def reports(api: Api, key: str, tenant_id: str, where: str = RANGE) -> dict[str, Any]:
    status, sla = api.get(f"/reports/sla?{where}&tenant_id={tenant_id}", key)
    assert status == 200, sla
    status, charged = api.get(f"/reports/charges?{where}&tenant_id={tenant_id}", key)
    assert status == 200, charged
    return {"sla": rows_of(sla["items"]), "charges": charged["items"]}


def opened(api: Api, key: str, body: dict[str, Any]) -> str:
    status, ticket = api.post("/tickets", key, body)
    assert status == 201, ticket
    return str(ticket["id"])


def test_counters_answer_what_reading_every_ticket_answers(
    api: Api, customer: Customer, agent_key: str, clock: RequestClock
) -> None:
    """Aivo: blocker first response 1 h, resolution 6 h, 24x7 (A2)."""
    tenant = customer.tenant_id

    def check(at: datetime) -> dict[str, Any]:
        clock.set(iso(at))
        answer = reports(api, agent_key, tenant)
        assert answer == by_reading(tenant, at)
        # a range whose ends are not at midnight: those parts of a day read ticket by
        # ticket, the whole day between from the counters
        start, end = DAY - timedelta(minutes=40), DAY + timedelta(days=1, hours=10)
        where = f"from={iso(start)}&to={iso(end)}"
        assert reports(api, agent_key, tenant, where) == by_reading(tenant, at, None, start, end)
        return answer

    def blocker(at: datetime, **fields: Any) -> str:
        body = {**INCIDENT, "tenant_id": tenant, "priority": "blocker", "reported_at": iso(at)}
        return opened(api, agent_key, {**body, **fields})

    t0 = DAY + timedelta(hours=10)
    clock.set(iso(t0))
    met = blocker(t0 - timedelta(minutes=30))
    overdue = blocker(t0 - timedelta(hours=2))  # first response due an hour ago, unrecorded
    blocker(t0)  # running, due in an hour
    blocker(DAY - timedelta(minutes=30))  # the day before, overdue too
    moved = blocker(t0 - timedelta(minutes=20))  # met, then its priority changes
    reopened = blocker(t0 - timedelta(minutes=10))  # met, then reopened
    opened(api, agent_key, {**QUERY, "tenant_id": tenant, "reported_at": iso(t0)})  # low
    for tid in (met, moved, reopened):
        done(api, agent_key, tid, "assign", agent="ana")
        done(api, agent_key, tid, "resolve")
    first = check(t0)
    assert first["sla"]["blocker"] == (6, 3, 2)  # overdue and before: breached as of now

    clock.set(iso(t0 + timedelta(minutes=5)))
    done(api, agent_key, moved, "set_priority", priority="low")
    done(api, agent_key, reopened, "reopen")
    done(api, agent_key, overdue, "assign", agent="ana")  # answered late: breached on record
    check(t0 + timedelta(minutes=5))
    later = check(t0 + timedelta(hours=8))  # every running target past due
    assert later["sla"]["blocker"][2] == 4

    # The checker records the breaches: the same answers, from the counters now.
    run_checker_until_done(api, t0 + timedelta(hours=8))
    assert check(t0 + timedelta(hours=8)) == later
    assert check(t0 + timedelta(days=2)) == by_reading(tenant, t0 + timedelta(days=2))


def test_charge_counters_follow_approval_payment_and_waiver(
    api: Api, new_customer: Any, agent_key: str, admin_key: str, clock: RequestClock
) -> None:
    """Digital Express (DX3, DX4): quoted, approved, paid, waived by the checker."""
    clock.set(iso(DAY + timedelta(hours=13)))
    tenant = new_customer(policy="digital_express", contract={"active": False})
    body = {**QUERY, "channel": "email"}
    opened(api, tenant.key, body)  # quoted: a row's charge, neither charged nor waived
    approved, paid, waived = (opened(api, tenant.key, body) for _ in range(3))
    for tid in (approved, paid, waived):
        done(api, tenant.key, tid, "approve_charge")
    for tid in (paid, waived):
        done(api, admin_key, tid, "mark_paid")
    assert reports(api, agent_key, tenant.tenant_id) == by_reading(
        tenant.tenant_id, DAY + timedelta(hours=13), "USD"
    )
    run_checker_until_done(api, DAY + timedelta(hours=17))  # the paid ones breach: waived
    at = DAY + timedelta(hours=17, minutes=5)
    clock.set(iso(at))
    answer = reports(api, agent_key, tenant.tenant_id)
    assert answer == by_reading(tenant.tenant_id, at, "USD")
    assert [(r["tickets_charged"], r["tickets_waived"]) for r in answer["charges"]] == [(1, 2)]


@contextmanager
def transactions() -> Iterator[list[dict[str, Any]]]:
    """The TransactWriteItems requests sent meanwhile."""
    sent: list[dict[str, Any]] = []

    def recording(operation: str, params: Any) -> None:
        if operation == "TransactWriteItems":
            sent.append(params)

    with aws_spy(recording):
        yield sent


def counter_updates(sent: list[dict[str, Any]]) -> list[str]:
    """The sort keys of the counter items the transactions updated."""
    return [
        w["Update"]["Key"]["sk"]["S"].rsplit("#", 1)[0]
        for request in sent
        for w in request["TransactItems"]
        if "Update" in w and w["Update"]["Key"]["pk"]["S"].startswith("REPORTS#")
    ]


def test_each_change_writes_only_the_counters_it_moves(
    api: Api, customer: Customer, agent_key: str, clock: RequestClock
) -> None:
    """What the counters add per change (docs/performance.md): an update of one
    item under 1 KB (2 write units in a transaction) per counter that moves; and
    the write units of the keys-only `unsettled` index, as DynamoDB bills them
    (bench.moto_harness.WriteMeter): 1 to enter or leave, 2 to move."""
    from bench.moto_harness import WriteMeter, item_size
    from chalicelib import aws
    from chalicelib.settings import get_settings
    from chalicelib.store.schema import MAIN_TABLE, UNSETTLED_INDEX

    dynamodb, table = aws.client("dynamodb"), get_settings().table_name

    def raw(ticket_id: str) -> dict[str, Any] | None:
        key = {"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": "TICKET"}}
        item: dict[str, Any] | None = dynamodb.get_item(
            TableName=table, Key=key, ConsistentRead=True
        ).get("Item")
        return item

    clock.set(iso(DAY + timedelta(hours=9)))
    day = DAY.date().isoformat()
    changes: dict[str, Callable[[str], Any]] = {
        "open": lambda tid: None,
        "comment": lambda tid: api.post(f"/tickets/{tid}/comments", customer.key, {"body": "?"}),
        "assign": lambda tid: done(api, agent_key, tid, "assign", agent="ana"),
        "resolve": lambda tid: done(api, agent_key, tid, "resolve"),
        "set_priority": lambda tid: done(api, agent_key, tid, "set_priority", priority="low"),
        "reopen": lambda tid: done(api, agent_key, tid, "reopen"),
    }
    tid = ""
    written: dict[str, list[str]] = {}
    index_units: dict[str, int] = {}
    for name, change in changes.items():
        before = raw(tid) if tid else None
        with transactions() as sent:
            if name == "open":
                tid = opened(api, customer.key, {**INCIDENT, "priority": "blocker"})
            else:
                change(tid)
        written[name] = counter_updates(sent)
        meter = WriteMeter(MAIN_TABLE)
        after = raw(tid)
        assert after is not None
        meter.put(before, after, transactional=True)
        index_units[name] = meter.units[UNSETTLED_INDEX]
    assert written == {
        "open": [f"RSLA#{day}#blocker"],  # tickets + 1
        "comment": [],
        "assign": [],  # first response met: the resolution still runs
        "resolve": [f"RSLA#{day}#blocker"],  # met + 1
        "set_priority": [f"RSLA#{day}#blocker", f"RSLA#{day}#low"],  # a settled ticket moves
        "reopen": [f"RSLA#{day}#low"],  # met - 1
    }
    assert index_units == {
        "open": 1,  # enters at its first response's due instant
        "comment": 0,
        "assign": 2,  # moves on to the resolution's
        "resolve": 1,  # leaves: nothing runs
        "set_priority": 0,  # not in it
        "reopen": 1,  # enters again
    }
    items = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"REPORTS#{customer.tenant_id}"}},
    )["Items"]
    assert items
    assert all(item_size(item) < 1024 for item in items)


def test_report_calls_do_not_grow_with_the_tickets_in_range(
    api: Api, new_customer: Any, agent_key: str, aws_calls: Counter[str], clock: RequestClock
) -> None:
    """The same calls with 10 and with 2,000 tickets in range (reading them was
    one Query page per ~800: 3 pages at 2,000)."""
    clock.set(iso(DAY + timedelta(hours=12)))
    tenant = new_customer(policy="digital_express", contract={"active": False})
    routes = {
        name: f"/reports/{name}?{RANGE}&tenant_id={tenant.tenant_id}" for name in ("sla", "charges")
    }

    def measure() -> dict[str, dict[str, int]]:
        calls = {}
        for name, path in routes.items():
            api.get(path, agent_key)  # warm: the caller's key cached
            aws_calls.clear()
            status, body = api.get(path, agent_key)
            assert status == 200, body
            calls[name] = dict(aws_calls)
        return calls

    def open_tickets(n: int) -> None:
        for i in range(n):
            at = DAY + timedelta(hours=12, seconds=-i)
            body = {**QUERY, "channel": "email", "tenant_id": tenant.tenant_id}
            opened(api, agent_key, {**body, "reported_at": iso(at)})

    open_tickets(10)
    few = measure()
    open_tickets(1_990)
    assert measure() == few
    assert few == {"sla": {"GetItem": 2, "Query": 2}, "charges": {"GetItem": 2, "Query": 1}}
    _, body = api.get(routes["sla"], agent_key)
    assert sum(row["tickets"] for row in body["items"]) == 2_000


def test_the_backfill_counts_the_tickets_written_before_the_counters(
    api: Api,
    customer: Customer,
    agent_key: str,
    clock: RequestClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/deploy.md: `backfill-report-counts`, once after the deploy that adds
    the counters, then the reports answer for the older tickets too; again: nothing."""
    import json

    from chalicelib import aws
    from chalicelib.cli import main
    from chalicelib.settings import get_settings

    at = DAY + timedelta(hours=11)
    clock.set(iso(at))
    body = {**INCIDENT, "tenant_id": customer.tenant_id, "priority": "blocker"}
    ids = [
        opened(api, agent_key, {**body, "reported_at": iso(at - timedelta(hours=h))})
        for h in range(3)
    ]
    done(api, agent_key, ids[0], "assign", agent="ana")
    done(api, agent_key, ids[0], "resolve")
    # As a ticket written before the counters is: no `counted` and no unsettled
    # attributes, and no counters for it.
    dynamodb, table = aws.client("dynamodb"), get_settings().table_name
    for tid in ids:
        dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": f"TICKET#{tid}"}, "sk": {"S": "TICKET"}},
            UpdateExpression="REMOVE counted, unsettled_key, unsettled_at",
        )
    counters = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"REPORTS#{customer.tenant_id}"}},
    )["Items"]
    for item in counters:
        dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    assert reports(api, agent_key, customer.tenant_id)["sla"] == {}
    # and one an operator must mend first: a wrong-typed copy of the last one
    key = {"pk": {"S": f"TICKET#{ids[2]}"}, "sk": {"S": "TICKET"}}
    broken = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    copy_id = ids[2][:-1] + ("0" if ids[2][-1] != "0" else "1")
    broken |= {"pk": {"S": f"TICKET#{copy_id}"}, "ticket_id": {"S": copy_id}}
    broken |= {"gsi1sk": {"S": copy_id}, "title": {"N": "1"}}
    broken["reported_sk"] = {"S": broken["reported_sk"]["S"].replace(ids[2], copy_id)}
    dynamodb.put_item(TableName=table, Item=broken)

    capsys.readouterr()
    assert main(["backfill-report-counts", "--tenant-id", customer.tenant_id]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == {"tenants": 1, "tickets_counted": 3, "unreadable": 1}
    answer = reports(api, agent_key, customer.tenant_id)
    assert answer == by_reading(customer.tenant_id, at)
    assert answer["sla"] == {"blocker": (3, 1, 2)}  # 1 h and 2 h ago: first responses due
    assert main(["backfill-report-counts", "--tenant-id", customer.tenant_id]) == 0
    assert json.loads(capsys.readouterr().out)["tickets_counted"] == 0


def test_an_opening_cancelled_only_by_another_transaction_is_sent_again(
    api: Api, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Openings for one tenant and priority share a counter item: DynamoDB cancels
    a transaction that meets another on it (`TransactionConflict`, no condition
    failed), and the opening is written anyway; a failed condition still is a 409."""
    import botocore.client
    from botocore.exceptions import ClientError

    from chalicelib.services import unit_of_work

    monkeypatch.setattr(unit_of_work, "BACKOFF_SECONDS", 0.0)
    original = botocore.client.BaseClient._make_api_call
    cancel: dict[str, Any] = {"left": 2, "code": "TransactionConflict"}

    def colliding(self: Any, operation_name: str, api_params: Any) -> Any:
        if operation_name == "TransactWriteItems" and cancel["left"]:
            cancel["left"] -= 1
            reasons = [{"Code": "None"}] * (len(api_params["TransactItems"]) - 1)
            error = {
                "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                "CancellationReasons": [*reasons, {"Code": cancel["code"]}],
            }
            raise ClientError(error, operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", colliding)
    status, ticket = api.post("/tickets", customer.key, INCIDENT)
    assert status == 201, ticket
    assert cancel["left"] == 0
    cancel.update(left=1, code="ConditionalCheckFailed")
    status, body = api.post("/tickets", customer.key, INCIDENT)
    assert (status, body["error"]["code"]) == (409, "concurrent_update")


def test_a_stale_unsettled_entry_changes_no_answer(
    api: Api, customer: Customer, agent_key: str, clock: RequestClock
) -> None:
    """The index is a hint: an entry it still holds for a ticket since answered late
    (breached on record) or resolved in time (met) counts as its item says."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    t0 = DAY + timedelta(hours=8)
    clock.set(iso(t0))
    body = {**INCIDENT, "tenant_id": customer.tenant_id, "priority": "blocker"}
    late = opened(api, agent_key, {**body, "reported_at": iso(t0 - 2 * timedelta(hours=1))})
    met = opened(api, agent_key, {**body, "reported_at": iso(t0)})
    done(api, agent_key, late, "assign", agent="ana")
    done(api, agent_key, met, "assign", agent="ana")
    done(api, agent_key, met, "resolve")
    dynamodb, table = aws.client("dynamodb"), get_settings().table_name
    for tid in (late, met):  # as an index not yet caught up shows them
        dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": f"TICKET#{tid}"}, "sk": {"S": "TICKET"}},
            UpdateExpression="SET unsettled_key = :k, unsettled_at = :at",
            ExpressionAttributeValues={
                ":k": {"S": f"TENANT#{customer.tenant_id}"},
                ":at": {"N": str(int((t0 - timedelta(hours=1)).timestamp()))},
            },
        )
    later = t0 + timedelta(hours=1)
    clock.set(iso(later))
    answer = reports(api, agent_key, customer.tenant_id)
    assert answer == by_reading(customer.tenant_id, later)
    assert answer["sla"] == {"blocker": (2, 1, 1)}
