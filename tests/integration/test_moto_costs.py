"""`dev.moto_costs`, the mechanism the local stack and this suite share (issue 20):
a failed transaction still leaves every item it named as it was, and an item
operation's plain-JSON answer is what moto's own serializer writes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from dev import moto_costs


@pytest.fixture
def table(aws_mock: None) -> Iterator[tuple[Any, str]]:
    import boto3

    client = boto3.client("dynamodb")
    name = f"costs-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "gp", "AttributeType": "S"},
            {"AttributeName": "gs", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[  # items with both `gp` and `gs` only
            {
                "IndexName": "by_g",
                "KeySchema": [
                    {"AttributeName": "gp", "KeyType": "HASH"},
                    {"AttributeName": "gs", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client, name
    client.delete_table(TableName=name)


def _key(sk: str) -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"S": sk}}


def test_the_suite_and_the_local_stack_run_the_same_patches() -> None:
    assert moto_costs.installed()


def test_a_failed_transaction_leaves_every_item_it_named_as_it_was(
    table: tuple[Any, str],
) -> None:
    client, name = table
    client.put_item(TableName=name, Item={**_key("kept"), "n": {"N": "1"}})
    client.put_item(TableName=name, Item={**_key("gone"), "n": {"N": "1"}})
    client.put_item(TableName=name, Item={**_key("guard"), "n": {"N": "1"}})
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {**_key("new"), "n": {"N": "9"}}}},
                {
                    "Update": {
                        "TableName": name,
                        "Key": _key("kept"),
                        "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "9"}},
                    }
                },
                {"Delete": {"TableName": name, "Key": _key("gone")}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": _key("guard"),
                        "ConditionExpression": "n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
            ]
        )
    items = client.scan(TableName=name)["Items"]
    assert sorted((i["sk"]["S"], i["n"]["N"]) for i in items) == [
        ("gone", "1"),
        ("guard", "1"),
        ("kept", "1"),
    ]
    # and one that holds writes everything it names
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {**_key("new"), "n": {"N": "9"}}}},
            {"Delete": {"TableName": name, "Key": _key("gone")}},
        ]
    )
    items = client.scan(TableName=name)["Items"]
    assert sorted(i["sk"]["S"] for i in items) == ["guard", "kept", "new"]


def test_item_answers_in_plain_json_are_what_moto_serializes(
    table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    compared: list[str] = []
    fast = DynamoResult.execute_result

    def both(self: Any, context: Any) -> Any:
        status, headers, body = fast(self, context)
        if context.operation_model.name in moto_costs.ITEM_OPERATIONS:
            _, slow_headers, slow = ActionResult.execute_result(self, context)
            assert json.loads(body) == json.loads(slow), context.operation_model.name
            assert headers["Content-Type"] == slow_headers["Content-Type"]
            compared.append(context.operation_model.name)
        return status, headers, body

    monkeypatch.setattr(DynamoResult, "execute_result", both)
    client, name = table
    item = {
        **_key("1"),
        "s": {"S": "ñ \u2028 é"},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\xffbytes"},
        "t": {"BOOL": True},
        "z": {"NULL": True},
        "l": {"L": [{"S": "q"}, {"N": "2"}, {"M": {}}]},
        "m": {"M": {"k": {"S": "v"}, "e": {"M": {}}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"a", b"\xff"]},
    }
    client.put_item(TableName=name, Item=item, ReturnConsumedCapacity="TOTAL")
    client.put_item(TableName=name, Item=item, ReturnValues="ALL_OLD")
    client.get_item(TableName=name, Key=_key("1"))
    client.get_item(TableName=name, Key=_key("none"))
    query = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p"}}}
    client.query(TableName=name, Limit=1, **query)
    client.query(TableName=name, Select="COUNT", **query)
    client.scan(TableName=name)
    client.batch_get_item(RequestItems={name: {"Keys": [_key("1"), _key("none")]}})
    client.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": {**item, **_key("2")}}}]})
    client.update_item(
        TableName=name,
        Key=_key("1"),
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "3"}},
        ReturnValues="ALL_NEW",
    )
    client.delete_item(TableName=name, Key=_key("2"), ReturnValues="ALL_OLD")
    client.transact_write_items(TransactItems=[{"Put": {"TableName": name, "Item": item}}])
    client.transact_get_items(TransactItems=[{"Get": {"TableName": name, "Key": _key("1")}}])
    assert set(compared) == {
        "PutItem",
        "GetItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "UpdateItem",
        "DeleteItem",
        "TransactGetItems",
    }


def test_queries_start_from_their_partition_and_answer_what_dynamodb_would(
    table: tuple[Any, str],
) -> None:
    """A Query of the table or of an index, forward and backward, page by page, gives
    the partition's items in key order (a reference computed here), whatever else the
    table holds: items of other partitions, items without the index's keys."""
    client, name = table
    s, n = "S", "N"
    items = []
    for i in range(120):
        item = {"pk": {s: f"p{i % 4}"}, "sk": {s: f"{(i * 37) % 120:03d}"}}
        if i % 5:  # the others are not in the index
            item |= {"gp": {s: f"g{i % 3}"}, "gs": {n: str((i * 53) % 17 - 8)}}
        items.append(item)
        client.put_item(TableName=name, Item=item)

    def pages(forward: bool, **query: Any) -> list[tuple[str, str]]:
        got: list[tuple[str, str]] = []
        start: dict[str, Any] | None = None
        while True:
            more: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
            answer = client.query(
                TableName=name, Limit=7, ScanIndexForward=forward, **query, **more
            )
            got += [(i["pk"][s], i["sk"][s]) for i in answer["Items"]]
            start = answer.get("LastEvaluatedKey")
            if start is None:
                return got

    def keys(chosen: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [(i["pk"][s], i["sk"][s]) for i in chosen]

    in_p1 = sorted((i for i in items if i["pk"][s] == "p1"), key=lambda i: i["sk"][s])
    in_g2 = sorted(
        (i for i in items if i.get("gp", {}).get(s) == "g2"),
        key=lambda i: (int(i["gs"][n]), i["pk"][s], i["sk"][s]),
    )
    table_query = {
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {s: "p1"}},
    }
    index_query = {
        "IndexName": "by_g",
        "KeyConditionExpression": "gp = :g",
        "ExpressionAttributeValues": {":g": {s: "g2"}},
    }
    assert pages(True, **table_query) == keys(in_p1)
    assert pages(False, **table_query) == keys(in_p1)[::-1]
    assert pages(True, **index_query) == keys(in_g2)
    assert pages(False, **index_query) == keys(in_g2)[::-1]
    none = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {s: "p9"}}}
    assert client.query(TableName=name, **none)["Items"] == []


def test_an_item_over_the_size_limit_is_still_refused(table: tuple[Any, str]) -> None:
    """`item_size_checked_once`: the limit moto enforced attribute by attribute holds
    on the whole item: a write of 404 KB passes, one of 406 KB is refused."""
    client, name = table
    half = "x" * 202_000
    client.put_item(TableName=name, Item={**_key("fits"), "a": {"S": half}, "b": {"S": half}})
    with pytest.raises(client.exceptions.ClientError, match="Item size has exceeded"):
        client.put_item(
            TableName=name, Item={**_key("big"), "a": {"S": half}, "b": {"S": half + "y" * 2_000}}
        )
    assert "Item" not in client.get_item(TableName=name, Key=_key("big"))
