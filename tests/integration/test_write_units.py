"""Write units a ticket's changes cost, by table and index (issue 24), metered by
DynamoDB's billing rules (bench.moto_harness.WriteMeter) on the items the routes
and the breach checker write: the ticket lists' indexes project only what the
lists filter on, so an alert that changes none of it writes nothing there, and
`tickets_by_reported` only the keys, which no change after the open moves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.helpers import (
    Api,
    Customer,
    done,
    fresh_t0,
    open_blocker,
    run_checker_until_done,
)


def metered(ticket_id: str | None, change: Callable[[], Any]) -> dict[str, int]:
    """The write units of `change`'s writes of the ticket's partition (None: of
    every item it puts)."""
    from bench.moto_harness import AwsModel

    model = AwsModel(0, partition=None if ticket_id is None else f"TICKET#{ticket_id}")
    with model.installed() as aws:
        change()
    return dict(Counter(aws.write_units))


def test_an_alert_writes_the_lists_indexes_nothing_and_a_breach_one_unit_each(
    api: Api, agent_key: str, customer: Customer
) -> None:
    """A warning: 7 on the table (the ticket, its event and the outbox item in one
    transaction, 2 units per KB, each under 1 KB; the item marked sent), the due
    entry moved, the outbox entry put and removed; no list index, nothing in
    `tickets_by_reported` (keys only): 11 in all. A breach adds 1 on each list
    index: its `breached_key` appears (the breached list's entry, and the filter
    attribute the others project). 21 units an alert before issue 24 (every list
    index was ALL), 15 with the lists' own indexes, 13 with `tickets_by_reported`
    (`by_reported`, ALL, rewrote the whole item: 2), 11 with the ticket's SLA
    rules shared (1,337 -> 901 bytes for the bench's ticket: 1 unit, not 2, twice
    in the transaction)."""
    t0 = fresh_t0()
    ticket_id = open_blocker(api, agent_key, customer.tenant_id, t0)  # first response 1 h

    warning = metered(ticket_id, lambda: run_checker_until_done(api, t0 + timedelta(minutes=45)))
    assert warning == {"table": 7, "due": 2, "outbox_unsent": 2}
    assert sum(warning.values()) == 11

    breach = metered(ticket_id, lambda: run_checker_until_done(api, t0 + timedelta(minutes=60)))
    lists = ("tickets_by_tenant", "tickets_by_status", "tickets_by_priority", "tickets_breached")
    assert breach == {"table": 7, "due": 2, "outbox_unsent": 2, **dict.fromkeys(lists, 1)}


def test_an_open_puts_small_entries_a_comment_no_index_and_a_resolve_what_it_moves(
    api: Api, agent_key: str, customer: Customer
) -> None:
    """Opening a ticket puts an entry in each index it belongs to, 1 unit each (none
    holds the whole item; `tickets_by_reported` its keys: 2 for `by_reported`
    before). A comment changes nothing an index holds: the ticket and its event
    (2 units per KB, in a transaction: this assigned ticket, a run of its met
    first response recorded, is just over 1 KB); 14 before the lists' own
    indexes, 8 before `tickets_by_reported`. Resolving moves the ticket's
    `tickets_by_status` entry (a removal and a put) and rewrites its projected
    `status` in `tickets_by_tenant`; its priority entry stays as it was; it leaves
    `unsettled`; no target runs any more, so the ticket is back under 1 KB: 11 in
    all, 19, 15 and 13 before (the reports' day counters it also
    moves are in their own partition: tests/integration/test_report_counters.py)."""
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)  # not breached
    found: list[str] = []
    opened = metered(
        None, lambda: found.append(open_blocker(api, agent_key, customer.tenant_id, reported))
    )
    indexes = ("tickets_by_tenant", "tickets_by_status", "tickets_by_priority")
    assert opened == {
        # the ticket and its `created` event, each under 1 KB (its day counters:
        # Updates; the shared SLA rules, once per process: test_ticket_store)
        "table": 4,
        **dict.fromkeys(indexes, 1),
        "tickets_by_reported": 1,
        "open_by_policy": 1,
        "due": 1,
        "queue": 1,
        "queue_by_tenant": 1,
        "unsettled": 1,
    }
    (ticket_id,) = found
    done(api, agent_key, ticket_id, "assign", agent="ana@provider.example")

    def comment() -> None:
        status, answer = api.post(
            f"/tickets/{ticket_id}/comments", agent_key, {"body": "Looking into it"}
        )
        assert status == 201, answer

    assert metered(ticket_id, comment) == {"table": 6}

    resolved = metered(ticket_id, lambda: done(api, agent_key, ticket_id, "resolve"))
    assert resolved == {
        "table": 4,  # resolved, the ticket is under 1 KB: 1 unit, twice
        "tickets_by_status": 2,
        "tickets_by_tenant": 1,
        "due": 1,  # its last threshold removed
        "queue": 1,  # out of the queue: no target runs
        "queue_by_tenant": 1,
        "unsettled": 1,  # settled: out of the reports' running tickets
    }
