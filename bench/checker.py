"""Benchmark of the breach checker on moto in-process (issue 6); not a test.

Loads 1,000 open tickets of which 200 are due, then 100,000 open tickets of which
the same 200 are due, runs the checker once on each and prints: items read from
DynamoDB (Query ScannedCount + items fetched by Get/BatchGet), AWS calls per alert
by operation, and wall time. Goals: the 100,000 case reads no more items than the
1,000 case plus the shard count; at most 1.5 AWS calls per alert.

    python -m bench.checker [--big 100000]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

DUE = 200


@dataclass
class Figures:
    open_tickets: int
    evaluated: int
    alerts: int
    items_read: int
    calls: Counter[str]
    seconds: float


@contextmanager
def counting() -> Iterator[tuple[Counter[str], list[int]]]:
    import botocore.client

    calls: Counter[str] = Counter()
    items = [0]
    original = botocore.client.BaseClient._make_api_call

    def wrapped(self: Any, operation: str, params: Any) -> Any:
        calls[operation] += 1
        response = original(self, operation, params)
        if operation in ("Query", "Scan"):
            items[0] += int(response.get("ScannedCount", 0))
        elif operation == "GetItem":
            items[0] += 1 if "Item" in response else 0
        elif operation == "BatchGetItem":
            items[0] += sum(len(v) for v in response.get("Responses", {}).values())
        return response

    botocore.client.BaseClient._make_api_call = wrapped
    try:
        yield calls, items
    finally:
        botocore.client.BaseClient._make_api_call = original


def load(total: int, at: datetime) -> None:
    """`total` open Aivo blocker tickets; DUE of them reported 50 minutes before
    `at` (their 75 % first-response threshold has passed), the rest at `at`."""
    from moto.dynamodb.models import dynamodb_backends
    from ulid import ULID

    from chalicelib.commands import TicketBody
    from chalicelib.domain import sla
    from chalicelib.services import tickets
    from chalicelib.services.auth import Caller
    from chalicelib.settings import get_settings
    from chalicelib.store import tickets as store

    backend = dynamodb_backends["123456789012"]["us-east-1"]
    table = get_settings().table_name

    caller = Caller(key_id="key_bench", tenant_id="provider", role="agent", contact=None)
    body = TicketBody(
        title="Down",
        description="All customers",
        kind="incident",
        priority="blocker",
        tenant_id="bench",
    )
    template = tickets.open_ticket(caller, body, at)
    base = store.get(template["id"])
    assert base is not None
    specs = [
        sla.TargetSpec(metric=t.metric, clock=t.clock, seconds=t.target_seconds)
        for t in base.sla.targets
    ]
    # Straight into moto's backend: loading is not what is measured, and going
    # through the API would take an hour for 100,000 tickets.
    for n in range(total - 1):
        reported = at - timedelta(minutes=50) if n < DUE - 1 else at
        ticket = replace(
            base, id=f"tkt_{ULID()}", reported_at=reported, version=1, sla=replace(base.sla)
        )
        ticket.sla.targets = sla.start_targets(specs, reported)
        item = store.to_item(ticket)
        item.version = 1
        backend.put_item(table, item.serialize())
    # the template itself is reported at `at - 50 min` too, making DUE in all
    base.reported_at = at - timedelta(minutes=50)
    base.sla.targets = sla.start_targets(specs, base.reported_at)
    store.write(base, [])


def without_table_snapshots() -> None:
    """moto deep-copies every table a TransactWriteItems touches (to roll back on
    failure): O(table) per call, which real DynamoDB does not do and which would
    make the 100,000-ticket case take hours. No transaction fails in this bench
    (one checker, fresh tickets), so the snapshot is skipped."""
    import copy

    import moto.dynamodb.models as models

    class NoTableSnapshot:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if type(value).__name__ == "Table":
                return value
            return copy.deepcopy(value, memo)

    models.copy = NoTableSnapshot  # type: ignore[attr-defined,assignment]


def run_case(total: int) -> Figures:
    from moto import mock_aws

    with mock_aws():
        from chalicelib import aws
        from chalicelib.cli import bootstrap, create_tenant
        from chalicelib.services.checker import check

        aws.reset_connections()
        bootstrap("provider", "Provider")
        create_tenant({"id": "bench", "name": "Bench SA", "policy": "aivo"})
        at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        started = time.perf_counter()
        load(total, at)
        print(f"  loaded {total:,} tickets in {time.perf_counter() - started:.1f} s")
        with counting() as (calls, items):
            started = time.perf_counter()
            result = check(at)
            seconds = time.perf_counter() - started
        return Figures(total, result["evaluated"], result["alerts"], items[0], calls, seconds)


def report(f: Figures) -> None:
    per_alert = {op: round(n / max(f.alerts, 1), 3) for op, n in sorted(f.calls.items())}
    total = sum(f.calls.values())
    print(
        f"{f.open_tickets:>7,} open: evaluated {f.evaluated}, alerts {f.alerts}, "
        f"items read {f.items_read}, AWS calls {total} "
        f"({total / max(f.alerts, 1):.3f} per alert), wall {f.seconds * 1000:.0f} ms"
    )
    print(f"          calls per alert by operation: {per_alert}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        TABLE_NAME="slaguard-bench",
        IDEMPOTENCY_TABLE_NAME="slaguard-idempotency-bench",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    from chalicelib.settings import get_settings

    shards = get_settings().due_shards
    without_table_snapshots()
    small, big = run_case(args.small), run_case(args.big)
    report(small)
    report(big)
    extra = big.items_read - small.items_read
    print(
        f"items read, big - small: {extra} (goal <= shard count {shards}): "
        f"{'OK' if extra <= shards else 'MISSED'}"
    )
    worst = max(sum(f.calls.values()) / max(f.alerts, 1) for f in (small, big))
    print(
        f"AWS calls per alert, worst case: {worst:.3f} (goal <= 1.5): "
        f"{'OK' if worst <= 1.5 else 'MISSED'}"
    )
    print(
        f"wall time ratio big/small: {big.seconds / small.seconds:.1f}x "
        "(moto's index query is linear in the table; real DynamoDB's is not)"
    )


if __name__ == "__main__":
    main()
