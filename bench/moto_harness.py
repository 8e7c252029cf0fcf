"""What the checker benchmarks share: moto in-process, sized for bulk loads.

- `environment()`: the settings a bench run uses (no endpoint: moto's mock).
- `without_table_snapshots()`: moto deep-copies every table a TransactWriteItems
  touches (to roll back on failure), O(table) per call, which DynamoDB does not do;
  `dev.moto_costs` snapshots the touched items instead.
- `load_due()`: N open tickets straight into moto's backend (loading is not what is
  measured), of which `due` cross a threshold at the same instant.
- `AwsModel`: a botocore hook that counts AWS calls and items read, waits a modelled
  latency per call, serialises the calls into moto's backend (moto's DynamoDB is not
  thread-safe for transactions) and measures the CPU moto spends, so that a bench
  can tell the product's own CPU from AWS's.
- `WriteMeter`: the write units the product's writes would consume on DynamoDB,
  on the table and on each global secondary index, by DynamoDB's own rules (see
  its docstring), computed from the items written: moto's consumed capacity is a
  constant, not a measure.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"


def environment(**extra: str) -> None:
    """Settings for a bench run against moto's in-process mock."""
    os.environ.pop("AWS_ENDPOINT_URL", None)  # mock_aws intercepts nothing while it is set
    os.environ.update(
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        TABLE_NAME="slaguard-bench",
        IDEMPOTENCY_TABLE_NAME="slaguard-idempotency-bench",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="WARNING",
        **extra,
    )


def without_table_snapshots() -> None:
    """moto's per-transaction deep copy of the table (O(table) per call, which would
    make a 100,000-ticket table take hours) replaced by a snapshot of the items the
    call touches: the local stack's and the tests' mechanism (`dev.moto_costs`)."""
    from dev import moto_costs

    moto_costs.item_snapshot_transactions()


def bootstrap_tenant(tenant_id: str = "bench") -> None:
    """Inside `mock_aws`: the tables, the topic, the provider and one Aivo customer."""
    from chalicelib import aws
    from chalicelib.cli import bootstrap, create_tenant

    aws.reset_connections()
    bootstrap("provider", "Provider")
    create_tenant({"id": tenant_id, "name": "Bench SA", "policy": "aivo"})


def load_due(total: int, due: int, at: datetime, tenant_id: str = "bench") -> None:
    """`total` open Aivo blocker tickets (first response 1 h, 24x7). `due` of them
    were reported 45 minutes before `at`: their 75 % threshold is exactly `at`,
    one alert each, all in the same instant (a burst). The others are reported
    at `at` and are not due."""
    from moto.dynamodb.models import dynamodb_backends
    from ulid import ULID

    from chalicelib.commands import TicketBody
    from chalicelib.domain import sla
    from chalicelib.services import tickets
    from chalicelib.services.auth import Caller
    from chalicelib.settings import get_settings
    from chalicelib.store import tickets as store

    backend = dynamodb_backends[ACCOUNT][REGION]
    table = get_settings().table_name
    caller = Caller(key_id="key_bench", tenant_id="provider", role="agent", contact=None)
    body = TicketBody(
        title="Down",
        description="All customers",
        kind="incident",
        priority="blocker",
        tenant_id=tenant_id,
    )
    template = tickets.open_ticket(caller, body, at)
    base = store.get(template["id"])
    assert base is not None
    specs = [
        sla.TargetSpec(metric=t.metric, clock=t.clock, seconds=t.target_seconds)
        for t in base.sla.targets
    ]
    # Straight into moto's backend: going through the API would take an hour.
    for n in range(total):
        ticket_id = base.id if n == 0 else f"tkt_{ULID()}"
        reported = at - timedelta(minutes=45) if n < due else at
        ticket = replace(base, id=ticket_id, reported_at=reported, version=1, sla=replace(base.sla))
        ticket.sla.targets = sla.start_targets(specs, reported)
        item = store.to_item(ticket)
        item.version = 1
        backend.put_item(table, item.serialize())


def item_size(item: dict[str, Any]) -> int:
    """An item's size in bytes as DynamoDB counts it (attribute names and values;
    moto's reading of the rules), from its DynamoDB JSON."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    return sum(len(name.encode()) + DynamoType(value).size() for name, value in item.items())


def units(size: int) -> int:
    """Write units of one item write: 1 per KB started."""
    return max(1, math.ceil(size / 1024))


class WriteMeter:
    """Write units of the main table's writes, counted as DynamoDB bills them:

    - the table: 1 unit per KB of the item written, twice in a transaction;
    - each global secondary index whose key the old or the new item has: putting
      an entry costs the projected item's size (the whole item for projection ALL,
      the table's and index's keys for KEYS_ONLY), removing one 1 unit per KB of
      the old entry; an index key that changes is a removal and a put; an unchanged
      key costs a put only for projection ALL when the item changed.

    Only `Put` writes are metered (every write of the checker's burst is one)."""

    def __init__(self, definition: dict[str, Any]) -> None:
        self.table_keys = [k["AttributeName"] for k in definition["KeySchema"]]
        self.indexes = [
            (
                index["IndexName"],
                [k["AttributeName"] for k in index["KeySchema"]],
                index["Projection"]["ProjectionType"],
            )
            for index in definition["GlobalSecondaryIndexes"]
        ]
        self.units: Counter[str] = Counter()

    def _entry_size(self, item: dict[str, Any], keys: list[str], projection: str) -> int:
        if projection == "ALL":
            return item_size(item)
        return item_size({k: item[k] for k in {*self.table_keys, *keys}})

    def put(self, old: dict[str, Any] | None, new: dict[str, Any], transactional: bool) -> None:
        self.units["table"] += (2 if transactional else 1) * units(item_size(new))
        for name, keys, projection in self.indexes:
            was = old is not None and all(k in old for k in keys)
            now = all(k in new for k in keys)
            if was and now and old is not None and all(old[k] == new[k] for k in keys):
                if projection == "ALL" and old != new:
                    self.units[name] += units(self._entry_size(new, keys, projection))
                continue
            if was and old is not None:
                self.units[name] += units(self._entry_size(old, keys, projection))
            if now:
                self.units[name] += units(self._entry_size(new, keys, projection))


@dataclass
class AwsFigures:
    """What the hook saw: calls per operation, items read, moto's own CPU time,
    and the main table's write units (`WriteMeter`)."""

    calls: Counter[str] = field(default_factory=Counter)
    items_read: int = 0
    aws_cpu: float = 0.0  # seconds of CPU spent inside moto's backend
    write_units: Counter[str] = field(default_factory=Counter)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


class AwsModel:
    """A botocore `before-send` hook around moto's stubber: each AWS call waits
    `latency_ms` (outside any lock, so calls of concurrent threads wait in
    parallel, as they would against DynamoDB), then runs in moto's backend under
    one lock (moto's DynamoDB is not thread-safe: its transactions copy and
    restore tables unlocked), timing the CPU moto spends there."""

    def __init__(self, latency_ms: float) -> None:
        from chalicelib.settings import get_settings
        from chalicelib.store.schema import MAIN_TABLE

        self._table = get_settings().table_name
        self.latency = latency_ms / 1000
        self.figures = AwsFigures()
        self._lock = threading.Lock()
        self._meter = WriteMeter(MAIN_TABLE)
        self.figures.write_units = self._meter.units

    @contextmanager
    def installed(self) -> Iterator[AwsFigures]:
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__
        model = self

        def modelled(stub: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            if not stub.enabled:
                return None
            if model.latency:
                time.sleep(model.latency)  # the network and DynamoDB's own time, in parallel
            with model._lock:
                started = time.thread_time()
                try:
                    return original(stub, event_name, request, **kwargs)
                finally:
                    model.figures.aws_cpu += time.thread_time() - started

        BotocoreStubber.__call__ = modelled  # type: ignore[method-assign,assignment]
        try:
            with self._counting():
                yield self.figures
        finally:
            BotocoreStubber.__call__ = original  # type: ignore[method-assign]

    @contextmanager
    def _counting(self) -> Iterator[None]:
        import botocore.client

        original = botocore.client.BaseClient._make_api_call
        figures = self.figures
        lock = threading.Lock()

        def counted(client: Any, operation: str, params: Any) -> Any:
            with lock:
                figures.calls[operation] += 1
            puts = self._puts(operation, params)
            response = original(client, operation, params)
            with self._lock:
                for old, new, transactional in puts:
                    self._meter.put(old, new, transactional)
            read = 0
            if operation in ("Query", "Scan"):
                read = int(response.get("ScannedCount", 0))
            elif operation == "GetItem":
                read = 1 if "Item" in response else 0
            elif operation == "BatchGetItem":
                read = sum(len(v) for v in response.get("Responses", {}).values())
            with lock:
                figures.items_read += read
            return response

        botocore.client.BaseClient._make_api_call = counted
        try:
            yield
        finally:
            botocore.client.BaseClient._make_api_call = original

    def _puts(
        self, operation: str, params: dict[str, Any]
    ) -> list[tuple[dict[str, Any] | None, dict[str, Any], bool]]:
        """The main table's items a call puts, each with the item it replaces."""
        table = self._table
        if operation == "TransactWriteItems":
            items = [
                (w["Put"]["Item"], True)
                for w in params["TransactItems"]
                if "Put" in w and w["Put"]["TableName"] == table
            ]
        elif operation == "BatchWriteItem":
            items = [
                (r["PutRequest"]["Item"], False) for r in params["RequestItems"].get(table, [])
            ]
        else:
            return []
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[ACCOUNT][REGION]
        with self._lock:
            found = [
                backend.get_item(table, {k: item[k] for k in self._meter.table_keys})
                for item, _ in items
            ]
        return [
            (None if old is None else old.to_json()["Attributes"], item, transactional)
            for old, (item, transactional) in zip(found, items, strict=True)
        ]
