"""moto's DynamoDB made to cost what a call touches, not the whole table: the one
mechanism the embedded AWS of `make dev` (`dev.embedded_aws`), the integration tests
(`tests/integration/conftest.py`) and the benchmarks (`bench.moto_harness`) install.

- **Transactions.** moto's `TransactWriteItems` deep-copies every table the call
  names, to restore it if any part fails: CPU and memory per write grow with the
  table (on the local stack about 0.6 MB per write at 64 items, 8 MB at 800, and
  gigabytes within minutes of traffic). Here the table is not copied; the items the
  call names (their keys: a Put's item, the others' `Key`) are, before it runs, and
  they alone are put back when it fails. A transaction only writes the items it
  names, so that restores exactly what moto's copy restored.
- **Item order.** moto answers every Query on an index by sorting ALL the table's
  items, comparing their keys as `DynamoType` objects that convert both values at
  each comparison. The same sort on the keys' values, converted once per item,
  gives the same order at a fraction of the cost; so does a Query's own sort of
  the items it kept.
- **Queries.** moto's `Query` starts from ALL the table's items in key order
  (`all_items`: a sort of the whole table) and only then keeps the partition asked
  for, which it sorts again: on an index, 6 ms of CPU per Query at 1,000 items and
  35 ms at 10,000, so a local stack slowed down as it filled. Here it starts from
  the partition alone: the table's own (a dictionary lookup), or on an index the
  items whose index keys equal the Query's (one pass, no sort). moto's own checks,
  sort and paging then run on those, so the answer is the same; and the page it
  keeps is not deep-copied before it is projected and written out.
- **Item size.** moto checks an item's 400 KB limit as it builds the item, by
  summing the sizes of all the attributes set so far at each attribute it sets:
  O(attributes^2) per write (a ticket's 40 attributes, nested maps walked each
  time). Here the same limit is checked once, on the same sum.
- **Responses.** moto 5.2 writes every DynamoDB answer through its generic,
  model-driven serializer, which walks the output shape value by value: on the
  local stack under load, three quarters of the embedded AWS's CPU (py-spy). The
  answers of the item operations (get, put, update, delete, query, scan, batch and
  transact gets) are DynamoDB JSON already: they are written with `json.dumps`, keeping
  the output shape's top-level members only and base64 for binary values, which is
  what the serializer produces for them (`tests/integration/test_moto_costs.py`
  compares the two on every attribute type). Other operations keep the serializer.

Thread safety: like moto's own, the snapshot and its restore assume one DynamoDB
request at a time; the embedded AWS serializes DynamoDB requests
(`dev.embedded_aws.SerializedDynamoDB`) and so do the tests that race threads.
Memory stays bounded: a snapshot holds the touched items only, for one call.

`install()` is idempotent and thread-safe; importing this module changes nothing.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import threading
from collections.abc import Callable
from typing import Any

_done: set[str] = set()
_lock = threading.RLock()

# One touched item: (table, hash key, range key or None, the item as it was or None).
Saved = tuple[Any, Any, Any, Any]


def _once(patch: Callable[[], None]) -> Callable[[], None]:
    """The patch applies once per process, whoever asks first (thread-safe)."""

    @functools.wraps(patch)
    def apply() -> None:
        with _lock:
            if patch.__name__ not in _done:
                patch()
                _done.add(patch.__name__)

    return apply


PATCHES = (
    "item_snapshot_transactions",
    "presorted_item_order",
    "partition_first_queries",
    "item_size_checked_once",
    "plain_json_item_responses",
)
# The operations whose answers hold items (AttributeValue maps), counts and capacity.
ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "TransactGetItems",
    }
)


def install() -> None:
    """Every patch, once per process."""
    item_snapshot_transactions()
    presorted_item_order()
    partition_first_queries()
    item_size_checked_once()
    plain_json_item_responses()


def installed() -> bool:
    return set(PATCHES) <= _done


class _NoTableCopy:
    """Stands in for the `copy` module inside moto's DynamoDB backend: a table is
    not copied (its touched items are, by `item_snapshot_transactions`); anything
    else (an item moto copies itself) is deep-copied as before."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        if type(value).__name__ == "Table":
            return value
        return copy.deepcopy(value, memo)


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[Saved]:
    """The items a TransactWriteItems names, as they are now (deep copies: moto's
    Update changes an item in place). A malformed entry is skipped: moto refuses
    the call for it before writing anything."""
    saved: list[Saved] = []
    for entry in transact_items:
        if not isinstance(entry, dict) or len(entry) != 1:
            continue
        op = next(iter(entry.values()))
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        attributes = op.get("Key") or op.get("Item") or {}
        try:
            hash_key, range_key = backend.get_keys_value(table, attributes)
            before = table.get_item(hash_key, range_key)
        except Exception:  # noqa: BLE001, S112 - moto's own validation refuses the call
            continue
        saved.append((table, hash_key, range_key, copy.deepcopy(before)))
    return saved


def _restore(saved: list[Saved]) -> None:
    """Put each touched item back as it was (the first snapshot of a key wins)."""
    for table, hash_key, range_key, before in reversed(saved):
        if range_key is None:
            if before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
            continue
        group = table.items.get(hash_key)
        if before is not None:
            if group is None:
                group = table.items[hash_key] = {}
            group[range_key] = before
        elif group is not None:
            group.pop(range_key, None)
            if not group:
                del table.items[hash_key]


@_once
def item_snapshot_transactions() -> None:
    """A TransactWriteItems snapshots the items it names, not its tables."""
    import moto.dynamodb.models as ddb

    backend_class = ddb.DynamoDBBackend
    original: Callable[..., Any] = backend_class.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        saved = _touched(self, transact_items)
        try:
            return original(self, transact_items)
        except Exception:
            _restore(saved)
            raise

    ddb.copy = _NoTableCopy  # type: ignore[attr-defined,assignment]
    backend_class.transact_write_items = transact_write_items  # type: ignore[method-assign]


@_once
def presorted_item_order() -> None:
    """moto's `Table.all_items`, and its sort of a Query's items, on the keys'
    values, converted once per item."""
    from moto.dynamodb.models.table import Table

    def all_items(self: Any) -> list[Any]:
        items: list[Any] = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        return sorted(
            items,
            key=lambda x: (
                (x.hash_key.cast_value, x.range_key.cast_value)
                if x.range_key
                else x.hash_key.cast_value
            ),
        )

    def sorted_items(
        self: Any, hash_key_attrs: list[str], range_key_attrs: list[Any], items: list[Any]
    ) -> list[Any]:
        names = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        items.sort(key=lambda x: tuple(x.attrs[name].cast_value for name in names))
        return items

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.sorted_items = sorted_items  # type: ignore[method-assign]


@_once
def partition_first_queries() -> None:
    """moto's `Table.query` on the Query's partition only (see the module's doc)."""
    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.table import Table

    every_item = Table.all_items
    query = Table.query
    local = threading.local()  # the partition a query of this thread starts from

    def all_items(self: Any) -> list[Any]:
        start = getattr(local, "start", None)
        if start is not None and start[0] is self:
            return list(start[1])
        return every_item(self)

    def partition(self: Any, hash_key: Any, index_name: Any, conditions: Any) -> list[Any]:
        if not index_name:
            found = self.items.get(hash_key)
            if found is None:
                return []
            return list(found.values()) if self.range_key_attr else [found]
        # Compared as (type, value): DynamoType's own == converts both sides each time.
        wanted = [(name, value.type, value.value) for name, value in conditions]
        found = []
        for hash_set in list(self.items.values()):
            for item in hash_set.values() if self.range_key_attr else (hash_set,):
                attrs = item.attrs
                for name, kind, value in wanted:
                    have = attrs.get(name)
                    if have is None or have.value != value or have.type != kind:
                        break
                else:
                    found.append(item)
        return found

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        conditions = kwargs.get("hash_key_conditions")
        if index_name and not conditions:  # not the shape moto's backend calls with
            return query(self, hash_key, *args, **kwargs)
        local.start = (self, partition(self, hash_key, index_name, conditions))
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            local.start = None

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = partition_query  # type: ignore[method-assign]
    table_module.copy = _NoResultsCopy  # type: ignore[attr-defined,assignment]


@_once
def item_size_checked_once() -> None:
    """moto's `Item.__init__`, its attributes' total size checked once (see the
    module's doc): the same limit (moto's 405,000 bytes) on the same sum."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        built = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(built)
        size = 0
        for key, value in attrs.items():
            typed = DynamoType(value)
            size += bytesize(key) + typed.size()
            dict.__setitem__(built, key, typed)
        if size > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = built

    Item.__init__ = __init__  # type: ignore[method-assign]


ITEM_SIZE_LIMIT = 405_000  # moto's (LimitedSizeDict): between DynamoDB's 409 and 410 KB


class _NoResultsCopy:
    """Stands in for the `copy` module inside moto's `Table`: a Query's page of items
    is not deep-copied before it is projected, filtered and written out (each of those
    builds new items or only reads them, and the embedded AWS answers one DynamoDB
    request at a time); anything else is deep-copied as before."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.dynamo_type import Item

        if type(value) is list and all(type(item) is Item for item in value):
            return list(value)
        return copy.deepcopy(value, memo)


def _blob(value: Any) -> str:
    """A binary attribute value as DynamoDB JSON carries it (base64)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON: {type(value).__name__}")


def plain_item_response(operation: Any, result: dict[str, Any]) -> str:
    """The body of an item operation's answer: `result`'s members of the output
    shape (moto's results may carry more, e.g. a legacy ConsumedCapacityUnits)."""
    members = operation.output_shape.members if operation.output_shape is not None else {}
    kept = {k: v for k, v in result.items() if k in members and v is not None}
    return json.dumps(kept, default=_blob)


@_once
def plain_json_item_responses() -> None:
    """Item operations answer through `json.dumps`, the others through moto's serializer."""
    from moto.dynamodb.responses import DynamoResult

    original: Callable[..., Any] = DynamoResult.execute_result

    @functools.wraps(original)
    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        if operation.name not in ITEM_OPERATIONS or not isinstance(self.result, dict):
            return original(self, context)
        body = plain_item_response(operation, self.result)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]
