"""A tenant's tickets by reported instant (issue 24): the keys-only
`tickets_by_reported` index says which tickets and in what order, a BatchGetItem
of their items (eventually consistent, as the index) is the truth; and a stack
upgrading to it (docs/deploy.md): while `TICKET_LISTS=legacy` the same readers
read the whole items `by_reported` holds, with the same answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.store import schema
from tests.integration.helpers import (
    INCIDENT,
    Api,
    Customer,
    RequestClock,
    aws_spy,
    done,
    iso,
    raw_ticket_item,
)

DAY = datetime(2026, 11, 20, tzinfo=UTC)  # the request clock's day (RequestClock)
WITHIN = (DAY + timedelta(hours=9), DAY + timedelta(hours=17))  # no whole day: read by ticket


@pytest.fixture
def by_reported() -> Iterator[None]:
    """The test table with the retired `by_reported` index, as a stack being
    upgraded has it, while the test runs."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    dynamodb, table = aws.client("dynamodb"), get_settings().table_name
    index = schema.RETIRED_INDEXES[schema.BY_REPORTED_INDEX]
    keys = {k["AttributeName"] for k in index["KeySchema"]}
    dynamodb.update_table(
        TableName=table,
        AttributeDefinitions=[
            a for a in schema.MAIN_TABLE["AttributeDefinitions"] if a["AttributeName"] in keys
        ],
        GlobalSecondaryIndexUpdates=[{"Create": index}],
    )
    try:
        yield
    finally:
        dynamodb.update_table(
            TableName=table,
            GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index["IndexName"]}}],
        )


def opened(api: Api, agent_key: str, tenant_id: str, reported_at: datetime) -> str:
    body = {
        **INCIDENT,
        "tenant_id": tenant_id,
        "priority": "blocker",
        "reported_at": iso(reported_at),
    }
    status, ticket = api.post("/tickets", agent_key, body)
    assert status == 201, ticket
    return str(ticket["id"])


def read(api: Api, admin_key: str, agent_key: str, tenant_id: str) -> tuple[Any, Counter[str]]:
    """Both reports over WITHIN, a simulation of the tenant's policy unchanged and
    the store's readers by reported instant; and the AWS calls they made (a Query
    by its index)."""
    from chalicelib.store import tickets as store

    calls: Counter[str] = Counter()

    def seen(operation: str, params: Any) -> None:
        calls[f"{operation} {params.get('IndexName', '')}".strip()] += 1

    where = f"tenant_id={tenant_id}&from={iso(WITHIN[0])}&to={iso(WITHIN[1])}"
    status, policy = api.get("/admin/policies/aivo", admin_key)
    assert status == 200, policy
    draft = {"policy": policy, "from": iso(WITHIN[0]), "to": iso(WITHIN[1]), "tenant_id": tenant_id}
    answers: dict[str, Any] = {}
    with aws_spy(seen):
        for name, (status, body) in {
            "sla": api.get(f"/reports/sla?{where}", agent_key),
            "charges": api.get(f"/reports/charges?{where}", agent_key),
            "simulate": api.post("/admin/policies/aivo/simulate", admin_key, draft),
        }.items():
            assert status == 200, body
            answers[name] = body
        answers["reported"] = [t.id for t in store.reported_between(tenant_id, *WITHIN)]
        answers["counted"] = store.count_reported_between(tenant_id, *WITHIN)
        answers["under aivo"] = store.count_under_policy(tenant_id, *WITHIN, "aivo")
        answers["uncounted"] = list(store.uncounted_ids(tenant_id))
    return answers, calls


def test_the_readers_by_reported_instant_read_the_keys_then_the_items_and_legacy_the_same(
    api: Api,
    admin_key: str,
    agent_key: str,
    customer: Customer,
    clock: RequestClock,
    by_reported: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reports whose range is within a day, a simulation and the backfill's list:
    on `own` a Query of `tickets_by_reported` then a BatchGetItem of the tickets;
    on `legacy` (while a stack upgrade builds it) a Query of `by_reported` alone;
    the same answers."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    tenant = customer.tenant_id
    clock.set(iso(DAY + timedelta(hours=20)))
    ids = [opened(api, agent_key, tenant, WITHIN[0] + timedelta(hours=h)) for h in (3, 1, 2)]
    opened(api, agent_key, tenant, WITHIN[1])  # the end is not in the range
    done(api, agent_key, ids[0], "assign", agent="ana")  # late: breached
    dynamodb = aws.client("dynamodb")
    dynamodb.update_item(  # as a ticket written before the report counters
        TableName=get_settings().table_name,
        Key={"pk": {"S": f"TICKET#{ids[2]}"}, "sk": {"S": "TICKET"}},
        UpdateExpression="REMOVE #c",
        ExpressionAttributeNames={"#c": "counted"},
    )

    own, own_calls = read(api, admin_key, agent_key, tenant)
    assert own["reported"] == [ids[1], ids[2], ids[0]]  # in reported order
    assert (own["counted"], own["under aivo"], own["uncounted"]) == (3, 3, [ids[2]])
    assert own["simulate"]["tickets"] == 3
    assert own["sla"]["items"][0]["tickets"] == 3
    reported_reads = {c for c in own_calls if c.endswith("by_reported")}
    assert reported_reads == {"Query tickets_by_reported"}
    # reports 2, the simulation 1 (its COUNT: keys alone), the store's readers 3
    assert own_calls["BatchGetItem"] == 2 + 1 + 3

    monkeypatch.setenv("TICKET_LISTS", "legacy")
    legacy, legacy_calls = read(api, admin_key, agent_key, tenant)
    assert legacy == own
    assert {c for c in legacy_calls if c.endswith("by_reported")} == {"Query by_reported"}
    assert "BatchGetItem" not in legacy_calls


def test_an_entry_whose_ticket_is_gone_is_left_out(
    api: Api, agent_key: str, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index lags the items: an entry whose ticket is gone is left out; the
    others keep their order. The items are read as the index is: eventually
    consistent (half the read units of a consistent read)."""
    from chalicelib.store import tickets as store

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    ids = [opened(api, agent_key, customer.tenant_id, start + timedelta(hours=h)) for h in range(3)]
    assert "counted" in raw_ticket_item(ids[1])
    read = store._raw_tickets

    def lagging(
        ticket_ids: list[str], consistent: bool, attributes: list[str] | None = None
    ) -> dict[str, Any]:
        assert not consistent
        found = read(ticket_ids, consistent, attributes)
        found.pop(ids[1])  # deleted since its entry was read
        return found

    monkeypatch.setattr(store, "_raw_tickets", lagging)
    window = (start, start + timedelta(hours=3))
    assert [t.id for t in store.reported_between(customer.tenant_id, *window)] == [ids[0], ids[2]]
    assert list(store.uncounted_ids(customer.tenant_id)) == []
