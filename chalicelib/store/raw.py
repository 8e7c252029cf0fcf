"""Items as DynamoDB JSON ("raw"), read and written without PynamoDB's models, on
the hot paths where a model's work showed in a request's CPU (docs/performance.md,
What a request costs): the reads skip botocore's response parser too
(`items_unparsed`). Values are what PynamoDB's models write and read (a number is
an int or a float, a map a plain dict); each store that maps an item this way has
a test that its model would write or read the same item."""

from __future__ import annotations

import contextlib
import contextvars
import json
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

from pynamodb.connection import TableConnection

from chalicelib.store.models import TicketItem

Raw = dict[str, Any]  # an item as DynamoDB returns it: {"name": {"S": "..."}, ...}


def dynamo(value: Any) -> Raw:
    """A plain value as DynamoDB JSON, as PynamoDB's raw maps serialize it."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is dict:
        return {"M": {name: dynamo(v) for name, v in value.items()}}
    if kind is list:
        return {"L": [dynamo(v) for v in value]}
    if kind is bool:
        return {"BOOL": value}
    if kind is int or kind is float:
        return {"N": json.dumps(value)}
    if value is None:
        return {"NULL": True}
    raise ValueError(f"unsupported value type {kind!r}")


def plain(value: Raw) -> Any:
    """A DynamoDB JSON value as plain Python, as PynamoDB's raw maps read it."""
    ((kind, data),) = value.items()
    if kind == "S" or kind == "BOOL":
        return data
    if kind == "N":
        return json.loads(data)
    if kind == "M":
        return {name: plain(v) for name, v in data.items()}
    if kind == "L":
        return [plain(v) for v in data]
    if kind == "NULL":
        return None
    raise TypeError(f"a {kind} value, not one we write")


def text(raw: Raw, name: str) -> Any:
    """A string attribute (None when absent)."""
    value = raw.get(name)
    return None if value is None else value["S"]


def number(raw: Raw, name: str) -> Any:
    """A number attribute as PynamoDB's NumberAttribute reads it (None when absent)."""
    value = raw.get(name)
    return None if value is None else json.loads(value["N"])


def mapped(raw: Raw, name: str) -> Any:
    """A map attribute as plain Python (None when absent)."""
    value = raw.get(name)
    return None if value is None else plain({"M": value["M"]})


def key(pk: str, sk: str) -> Raw:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


class RawReads:
    """The table's connection for GetItem and BatchGetItem whose items come back
    as their raw DynamoDB JSON (`items_unparsed`). Every model shares one botocore
    client (`aws.share_pynamodb_clients`), so the hook on it hands items over raw
    only within these calls (`unparsed`)."""

    def __init__(self, connection: TableConnection) -> None:
        self.connection = connection.connection
        self._table = connection

    def get_item(self, hash_key: str, range_key: str, *, consistent_read: bool) -> dict[str, Any]:
        with unparsed():
            return self._table.get_item(hash_key, range_key, consistent_read=consistent_read)

    def batch_get_item(
        self,
        keys: Sequence[Raw],
        *,
        consistent_read: bool,
        attributes_to_get: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        # Typed keys are what Model.batch_get passes too; PynamoDB's hint says str.
        with unparsed():
            return self._table.batch_get_item(
                keys,  # type: ignore[arg-type]
                consistent_read=consistent_read,
                attributes_to_get=attributes_to_get,
            )


def reading() -> RawReads:
    """The table's connection for raw reads (the tickets' model's: one botocore
    client), its GetItem and BatchGetItem handing their items over as raw
    DynamoDB JSON (`items_unparsed`)."""
    connection = TicketItem._get_connection()
    client = connection.connection.client
    if client not in _UNPARSED:
        for operation in ("GetItem", "BatchGetItem"):
            client.meta.events.register_first(
                f"before-parse.dynamodb.{operation}",
                items_unparsed,
                unique_id=f"slaguard-unparsed-{operation}",
            )
        _UNPARSED.add(client)
    return RawReads(connection)


_UNPARSED: weakref.WeakSet[Any] = weakref.WeakSet()  # the clients `reading` set up
# Set around a raw read (in the calling thread, where botocore runs the hook): any
# other read through the same client is parsed as usual.
_UNPARSED_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "unparsed_call", default=False
)


@contextlib.contextmanager
def unparsed() -> Iterator[None]:
    """Within: this thread's GetItem and BatchGetItem through `reading`'s client
    hand their items over raw."""
    token = _UNPARSED_CALL.set(True)
    try:
        yield
    finally:
        _UNPARSED_CALL.reset(token)


def items_unparsed(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore's `before-parse` hook: the items of a successful raw read (within
    `unparsed`) skip its parser, which walks every value's shape (half the
    checker's read of a ticket), and are the response's JSON as it came, already
    the form botocore parses them to for every type the store writes (no binary
    values: a B would stay base64 text, and `plain` does not read one)."""
    if response_dict["status_code"] != 200 or not _UNPARSED_CALL.get():
        return
    body = json.loads(response_dict["body"])
    taken = {key: body.pop(key) for key in ("Item", "Responses") if key in body}
    if taken:
        customized_response_dict.update(taken)
        response_dict["body"] = json.dumps(body).encode()


def get_item(
    pk: str, sk: str, *, consistent: bool = False, attributes: tuple[str, ...] = ()
) -> Raw | None:
    """One item by its key (only `attributes` of it when named), None when there
    is none: one GetItem, straight to the client (none of PynamoDB's per-call
    work: its capacity report, signals, kwargs building)."""
    params: dict[str, Any] = {
        "TableName": TicketItem.Meta.table_name,
        "Key": key(pk, sk),
        "ConsistentRead": consistent,
    }
    params.update(_projection(attributes))
    with unparsed():
        found: Raw | None = reading().connection.client.get_item(**params).get("Item")
    return found


def _projection(attributes: tuple[str, ...]) -> dict[str, Any]:
    """A read's parameters for only these attributes (none: the whole item); a
    dotted one is a path into a map (`sla.policy`)."""
    if not attributes:
        return {}
    names: dict[str, str] = {}
    paths = []
    for path in attributes:
        parts = []
        for name in path.split("."):
            placeholder = f"#a{len(names)}"
            names[placeholder] = name
            parts.append(placeholder)
        paths.append(".".join(parts))
    return {"ProjectionExpression": ", ".join(paths), "ExpressionAttributeNames": names}


def batch_get(
    keys: list[tuple[str, str]], *, consistent: bool = False, attributes: tuple[str, ...] = ()
) -> dict[tuple[str, str], Raw]:
    """The items of these keys (at most 100) that exist, by (pk, sk), with their
    keys and only `attributes` when named: one BatchGetItem, its unprocessed keys
    (throttling) asked again."""
    table = TicketItem.Meta.table_name
    client = reading().connection.client
    request: dict[str, Any] = {
        table: {
            "Keys": [key(pk, sk) for pk, sk in dict.fromkeys(keys)],
            "ConsistentRead": consistent,
            **_projection(("pk", "sk", *attributes) if attributes else ()),
        }
    }
    found: dict[tuple[str, str], Raw] = {}
    while request:
        with unparsed():
            answer = client.batch_get_item(RequestItems=request)
        for item in answer.get("Responses", {}).get(table, []):
            found[(item["pk"]["S"], item["sk"]["S"])] = item
        request = answer.get("UnprocessedKeys") or {}
    return found
