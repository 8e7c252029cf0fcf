"""The ticket lists on their own keys-only indexes (issue 24): the index says which
tickets and in what order, the items (one BatchGetItem a page) are the truth; and
a stack upgrading to them (docs/deploy.md): the lists read the indexes of
projection ALL while `TICKET_LISTS=legacy`, a cursor goes on across the switch,
and an item written before still reads and leaves those indexes at its next write."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.integration.helpers import INCIDENT, Api, Customer, aws_spy, raw_ticket_item


def open_ticket(api: Api, key: str) -> str:
    status, ticket = api.post("/tickets", key, INCIDENT)
    assert status == 201, ticket
    return str(ticket["id"])


def pages(api: Api, key: str, path: str) -> list[list[str]]:
    """The ids of every page of a list, page by page."""
    found: list[list[str]] = []
    cursor = None
    while len(found) < 20:
        status, page = api.get(path + (f"&cursor={cursor}" if cursor else ""), key)
        assert status == 200, page
        found.append([t["id"] for t in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("the cursors never end")


def indexes_read(api: Api, key: str, path: str) -> set[str]:
    """The indexes the Queries of one GET read."""
    read: set[str] = set()

    def spying(operation: str, params: Any) -> None:
        if operation == "Query":
            read.add(params.get("IndexName", "-"))

    with aws_spy(spying):
        status, page = api.get(path, key)
    assert status == 200, page
    return read


def put_raw(item: dict[str, Any]) -> None:
    from chalicelib import aws
    from chalicelib.settings import get_settings

    aws.client("dynamodb").put_item(TableName=get_settings().table_name, Item=item)


def test_a_page_leaves_out_an_entry_whose_ticket_is_gone_or_no_longer_matches(
    api: Api, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index lags the items it was written from: an entry whose ticket is gone,
    or no longer matches the list's filter, is left out of its page, which then
    holds fewer than `limit`; the cursor still goes on after the entries read."""
    from chalicelib.store import tickets as store

    newest_first = [open_ticket(api, customer.key) for _ in range(5)][::-1]
    gone, moved = newest_first[1], newest_first[3]
    read = store.get_many

    def lagging(ids: list[str], consistent: bool = True) -> dict[str, Any]:
        assert not consistent  # as the index: half the read units of a consistent read
        found = read(ids, consistent)
        found.pop(gone, None)  # deleted since its entry was read
        if moved in found:  # opened since: the status index still says new
            found[moved] = replace(found[moved], status="open")
        return found

    monkeypatch.setattr(store, "get_many", lagging)
    assert pages(api, customer.key, "/tickets?limit=2&status=new") == [
        [newest_first[0]],
        [newest_first[2]],
        [newest_first[4]],
    ]
    unfiltered = pages(api, customer.key, "/tickets?limit=2")
    assert unfiltered == [[newest_first[0]], [newest_first[2], moved], [newest_first[4]]]


def test_legacy_lists_read_the_indexes_of_projection_all_and_a_cursor_survives_the_switch(
    api: Api, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a stack builds the lists' own indexes, tickets are still written with
    `gsi1sk` and listed from the `by_*` indexes; once switched to `own`, a cursor
    a legacy page gave goes on where it was, and the next write of a ticket drops
    `gsi1sk` (its entries in the ALL indexes go)."""
    monkeypatch.setenv("TICKET_LISTS", "legacy")
    newest_first = [open_ticket(api, customer.key) for _ in range(3)][::-1]
    assert all(raw_ticket_item(t)["gsi1sk"] == {"S": t} for t in newest_first)
    assert pages(api, customer.key, "/tickets?limit=10&status=new&priority=high") == [newest_first]
    status, first = api.get("/tickets?limit=2", customer.key)
    assert status == 200, first
    assert [t["id"] for t in first["items"]] == newest_first[:2]

    monkeypatch.setenv("TICKET_LISTS", "own")
    status, rest = api.get(f"/tickets?limit=2&cursor={first['next_cursor']}", customer.key)
    assert status == 200, rest
    assert ([t["id"] for t in rest["items"]], rest["next_cursor"]) == ([newest_first[2]], None)
    status, answer = api.post(f"/tickets/{newest_first[0]}/comments", customer.key, {"body": "?"})
    assert status == 201, answer
    assert "gsi1sk" not in raw_ticket_item(newest_first[0])
    assert pages(api, customer.key, "/tickets?limit=10&status=new") == [newest_first]
    for query, index in (("", "tickets_by_tenant"), ("?priority=high", "tickets_by_priority")):
        assert indexes_read(api, customer.key, f"/tickets{query}") == {index}


def test_an_item_written_before_reads_the_same_and_its_next_write_is_the_short_form(
    api: Api, customer: Customer
) -> None:
    """A ticket item of the previous shape (its SLA rules inline, each target's SLA
    state in full, its ladder a list of maps, null instants and empty lists;
    `gsi1sk`) reads as it did, is listed, and its next write stores the short form
    without `gsi1sk`: the ref of its shared rules (the ladder as one text there)."""
    from boto3.dynamodb.types import TypeSerializer

    from chalicelib.store import tickets as store

    ticket_id = open_ticket(api, customer.key)
    status, shown = api.get(f"/tickets/{ticket_id}", customer.key)
    assert status == 200, shown
    ticket = store.get(ticket_id)
    assert ticket is not None
    old = raw_ticket_item(ticket_id)
    sla = ticket.sla
    old["sla"] = TypeSerializer().serialize(
        {
            "policy": sla.policy,
            "policy_version": sla.policy_version,
            "calendar": sla.calendar.model_dump(mode="json"),
            "calendar_version": sla.calendar_version,
            "first_response_met_by": sla.first_response_met_by,
            "targets": [target.to_dict() for target in sla.targets],
            "terms_version": sla.terms_version,
        }
    )
    old["gsi1sk"] = {"S": ticket_id}
    put_raw(old)

    assert api.get(f"/tickets/{ticket_id}", customer.key) == (200, shown)
    assert pages(api, customer.key, "/tickets?limit=5") == [[ticket_id]]
    status, answer = api.post(f"/tickets/{ticket_id}/comments", customer.key, {"body": "?"})
    assert status == 201, answer
    new = raw_ticket_item(ticket_id)
    assert "gsi1sk" not in new
    (first, *_) = new["sla"]["M"]["targets"]["L"]
    rules = store._rules(new["sla"]["M"]["rules"]["S"])
    assert rules["targets"][0]["ladder"] == (
        "75 sla.warning 1,100 sla.breached 1,150 sla.escalated 2,200 sla.escalated 3"
    )
    assert {"due_at", "met_at", "breached_at", "runs", "alerted", "ladder"}.isdisjoint(first["M"])
    after = store.get(ticket_id)
    assert after is not None
    assert after.sla == ticket.sla  # a customer's comment changes no target
