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
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench import moto_harness

DUE = 200


@dataclass
class Figures:
    open_tickets: int
    evaluated: int
    alerts: int
    items_read: int
    calls: Counter[str]
    seconds: float


def run_case(total: int) -> Figures:
    from moto import mock_aws

    with mock_aws():
        from chalicelib.services.checker import check

        moto_harness.bootstrap_tenant()
        at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        started = time.perf_counter()
        moto_harness.load_due(total, DUE, at)
        print(f"  loaded {total:,} tickets in {time.perf_counter() - started:.1f} s")
        with moto_harness.AwsModel(latency_ms=0).installed() as aws:
            started = time.perf_counter()
            result = check(at)
            seconds = time.perf_counter() - started
        return Figures(
            total, result["evaluated"], result["alerts"], aws.items_read, aws.calls, seconds
        )


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
    moto_harness.environment()
    from chalicelib.settings import get_settings

    shards = get_settings().due_shards
    moto_harness.without_table_snapshots()
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
