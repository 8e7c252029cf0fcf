"""The store maps the Ticket aggregate to its item and derives the index
attributes from it when it is saved: the due index (`due_shard`, `due_at` = the
aggregate's `next_due()`), the `breached` marker, the open-by-policy key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.domain.ticket import Ticket
from chalicelib.store import raw as raw_store
from chalicelib.store import tickets as store
from chalicelib.store.models import EventItem, TicketItem
from chalicelib.store.raw import reading
from tests.integration.helpers import (
    EVERY_KIND,
    INCIDENT,
    Api,
    Customer,
    aws_spy,
    done,
    raw_ticket_item,
)


def raw_item(ticket_id: str) -> TicketItem:
    return TicketItem.get(TicketItem.key(ticket_id), store.TICKET_SK, consistent_read=True)


def test_the_due_index_follows_the_aggregates_next_threshold(
    api: Api, customer: Customer, agent_key: str
) -> None:
    status, opened = api.post("/tickets", customer.key, {**INCIDENT, "priority": "blocker"})
    assert status == 201, opened
    ticket = store.get(opened["id"])
    assert ticket is not None
    due = ticket.next_due()
    assert due is not None
    item = raw_item(ticket.id)
    assert (item.due_shard, item.due_at) == (store.due_shard(ticket.id), int(due.timestamp()))
    assert item.policy_key == f"POLICY#{ticket.sla.policy}"
    assert item.breached_key is None

    done(api, agent_key, ticket.id, "assign", agent="ana@provider.example")
    done(api, agent_key, ticket.id, "resolve")
    item = raw_item(ticket.id)
    assert (item.due_shard, item.due_at) == (None, None)  # nothing left to alert
    done(api, agent_key, ticket.id, "close")
    assert raw_item(ticket.id).policy_key is None  # closed: E9 no longer reaches it


def test_a_ticket_reads_back_as_the_aggregate_it_was(api: Api, customer: Customer) -> None:
    body: dict[str, Any] = {**INCIDENT, "fields": {"note": "x", "n": 2}}
    status, opened = api.post("/tickets", customer.key, body)
    assert status == 201, opened
    ticket = store.get(opened["id"])
    assert ticket is not None
    again = store.from_raw(store.to_item(ticket).serialize())
    assert again == ticket
    assert [t.metric for t in ticket.sla.targets] == ["first_response", "resolution"]
    assert ticket.sla.calendar.timezone == "America/Argentina/Buenos_Aires"


def test_the_raw_item_is_what_pynamodbs_model_of_it_writes(api: Api, customer: Customer) -> None:
    """The store writes and reads the ticket's item as DynamoDB JSON without a
    PynamoDB model (`to_raw`, `from_raw`): the model, given that item, serializes
    it to the very same item, values of every kind in its maps included."""
    status, opened = api.post("/tickets", customer.key, INCIDENT)
    assert status == 201, opened
    ticket = store.get(opened["id"])
    assert ticket is not None
    ticket.fields = dict(EVERY_KIND)
    raw = store.to_raw(ticket)
    assert TicketItem.from_raw_data(raw).serialize() == raw
    assert store.from_raw(raw) == ticket
    entry = {
        "id": "01JX0000000000000000000000",
        "at": "2026-12-06T20:00:00Z",
        "type": "comment",
        "actor": {"role": "agent", "key_id": "key_1", "partner_id": None},
        "data": {"body": "", "public": True, "n": 2.5, "list": [None, "x"]},
    }
    event = store.event_raw(ticket.id, entry)
    assert EventItem.from_raw_data(event).serialize() == event


def test_a_ticket_missing_a_required_attribute_is_not_written(api: Api, customer: Customer) -> None:
    status, opened = api.post("/tickets", customer.key, INCIDENT)
    assert status == 201, opened
    ticket = store.get(opened["id"])
    assert ticket is not None
    ticket.title = None  # type: ignore[assignment]
    with pytest.raises(ValueError, match="title"):
        store.to_raw(ticket)


def test_ticket_reads_hand_over_the_items_as_botocore_would_parse_them() -> None:
    """GetItem and BatchGetItem of the tickets' client skip botocore's parser for
    the items (`store.raw.items_unparsed`): what they hand over is what the parser
    gives, for every type of value the store writes."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    table = get_settings().table_name
    key = {"pk": {"S": "TICKET#tkt_unparsed"}, "sk": {"S": store.TICKET_SK}}
    item = {
        **key,
        "title": {"S": 'ünïcode \u2028 "quoted"'},
        "n": {"N": "-12.50"},
        "big": {"N": "100000000000000000000"},
        "flag": {"BOOL": False},
        "none": {"NULL": True},
        "tags": {"SS": ["a", "b"]},
        "nums": {"NS": ["1", "2.5"]},
        "sla": {"M": {"targets": {"L": [{"M": {"at": {"S": "x"}, "ok": {"BOOL": True}}}]}}},
        "empty": {"M": {}},
    }
    plain_client = aws.client("dynamodb")
    plain_client.put_item(TableName=table, Item=item)
    parsed = plain_client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    connection = reading()
    raw = connection.get_item(key["pk"]["S"], store.TICKET_SK, consistent_read=True)["Item"]
    batch = connection.batch_get_item([key], consistent_read=True)
    assert raw == parsed
    assert batch["Responses"][table] == [parsed]
    assert batch["UnprocessedKeys"] == {}
    missing = connection.get_item("TICKET#tkt_none", store.TICKET_SK, consistent_read=True)
    assert "Item" not in missing


def test_tickets_share_their_sla_rules_item_and_keep_only_a_ref(
    api: Api, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a ticket's targets were planned under (policy, terms, calendar, each
    target's clock, length and ladder) is one item per distinct content, which the
    tickets planned alike share; a ticket keeps the ref and its targets' state: the
    bench's ticket went from 1,337 to 901 bytes, under the 1 KB of a write unit."""
    from chalicelib.store import sla_rules

    ids = []
    for _ in range(2):
        status, opened = api.post("/tickets", customer.key, {**INCIDENT, "priority": "blocker"})
        assert status == 201, opened
        ids.append(opened["id"])
    first, second = (raw_ticket_item(i) for i in ids)
    ref = first["sla"]["M"]["rules"]["S"]
    assert second["sla"]["M"]["rules"]["S"] == ref
    assert set(first["sla"]["M"]) == {"policy", "rules", "targets"}  # no calendar, no ladder
    assert [set(t["M"]) & {"clock", "target_seconds", "ladder"} for t in _targets(first)] == [
        set(),
        set(),
    ]
    rules = _rules_item(ref)
    assert rules["calendar"]["timezone"] == "America/Argentina/Buenos_Aires"
    assert [(t["metric"], t["target_seconds"]) for t in rules["targets"]] == [
        ("first_response", 3600),  # A2: a blocker's first response within 1 h
        ("resolution", 21600),
    ]
    assert rules["policy"] == "aivo"

    # A process that never saw these rules reads them once (a consistent GetItem
    # for one ticket, a BatchGetItem for a batch), then remembers them.
    calls: list[str] = []
    expected = store.get(ids[0])
    reads: list[tuple[Callable[[], Ticket | None], list[str]]] = [
        (lambda: store.get(ids[0]), ["GetItem", "GetItem"]),
        (lambda: store.get_many(ids)[ids[0]], ["BatchGetItem", "BatchGetItem"]),
    ]
    for read, wanted in reads:
        monkeypatch.setattr(sla_rules, "_docs", {})
        with aws_spy(lambda operation, _: calls.append(operation)):
            assert read() == expected
            assert read() == expected
        assert calls == [*wanted, wanted[0]], calls
        calls.clear()


def test_the_rules_item_is_written_once_per_process(api: Api, customer: Customer) -> None:
    from chalicelib.store import sla_rules

    calls: list[tuple[str, Any]] = []
    body = {**INCIDENT, "title": "Once"}
    with aws_spy(lambda operation, params: calls.append((operation, params))):
        for _ in range(3):
            assert api.post("/tickets", customer.key, body)[0] == 201
    puts = [
        p for op, p in calls if op == "PutItem" and p["Item"]["pk"]["S"].startswith("SLARULES#")
    ]
    assert len(puts) <= 1  # none when an earlier test wrote the same rules
    assert sla_rules.missing([p["Item"]["pk"]["S"].removeprefix("SLARULES#") for p in puts]) == []


def test_a_ticket_with_its_rules_inline_reads_the_same(api: Api, customer: Customer) -> None:
    """A ticket item written before the rules were shared carries them in its own
    `sla`: it reads as the same aggregate. A ref whose targets do not match the
    ticket's is not our shape: TicketUnreadable, logged with its key."""
    status, opened = api.post("/tickets", customer.key, INCIDENT)
    assert status == 201, opened
    raw = raw_ticket_item(opened["id"])
    ticket = store.from_raw(raw)
    rules = _rules_item(raw["sla"]["M"]["rules"]["S"])
    states = [raw_store.plain(t) for t in _targets(raw)]
    inline = {
        **rules,
        "targets": [{**r, **s} for r, s in zip(rules["targets"], states, strict=True)],
    }
    legacy = {**raw, "sla": raw_store.dynamo(inline)}
    assert store.from_raw(legacy) == ticket

    crossed = {**raw, "sla": {"M": {**raw["sla"]["M"], "targets": {"L": _targets(raw)[::-1]}}}}
    with pytest.raises(store.UNREADABLE):
        store.from_raw(crossed)


def _targets(raw: dict[str, Any]) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = raw["sla"]["M"]["targets"]["L"]
    return targets


def _rules_item(ref: str) -> dict[str, Any]:
    from chalicelib import aws
    from chalicelib.settings import get_settings
    from chalicelib.store import sla_rules

    item = aws.client("dynamodb").get_item(
        TableName=get_settings().table_name, Key=sla_rules.key(ref), ConsistentRead=True
    )["Item"]
    rules: dict[str, Any] = raw_store.plain(item["rules"])
    return rules


def test_every_model_shares_one_client_and_only_the_ticket_reads_skip_its_parser() -> None:
    """One botocore client for every model (`aws.share_pynamodb_clients`); the hook
    that hands items over unparsed acts only within the ticket reads (a binary
    value tells them apart: the parser decodes it, the raw JSON keeps its base64)."""
    from chalicelib.store.models import PolicyItem, TenantItem

    clients = {
        model._get_connection().connection.client
        for model in (TicketItem, EventItem, TenantItem, PolicyItem)
    }
    assert len(clients) == 1
    key = {"pk": {"S": "TICKET#tkt_binary"}, "sk": {"S": store.TICKET_SK}}
    connection = TicketItem._get_connection()
    client = connection.connection.client
    client.put_item(TableName=connection.table_name, Item={**key, "b": {"B": b"\x00\xff"}})

    raw = reading().get_item(key["pk"]["S"], store.TICKET_SK, consistent_read=True)
    parsed = connection.get_item(key["pk"]["S"], store.TICKET_SK, consistent_read=True)

    assert raw["Item"]["b"] == {"B": "AP8="}
    assert parsed["Item"]["b"] == {"B": b"\x00\xff"}


def test_a_rules_item_is_written_once_per_client_and_table() -> None:
    """Every model shares one client and the table's name is read at each call:
    rules stored in one table are not taken as stored in another."""
    from chalicelib.store import sla_rules

    class Client:
        def __init__(self) -> None:
            self.puts: list[str] = []

        def put_item(self, TableName: str, Item: dict[str, Any]) -> None:
            self.puts.append(TableName)

    client, ref = Client(), sla_rules.ref_of({"rules": "of this test"})
    for table in ("one", "one", "two", "one", "two"):
        sla_rules.ensure_stored(client, table, ref)
    sla_rules.remember("fedcba9876543210", {}, stored_by=client, table="one")
    sla_rules.ensure_stored(client, "one", "fedcba9876543210")
    sla_rules.ensure_stored(client, "two", "fedcba9876543210")
    assert client.puts == ["one", "two", "two"]
