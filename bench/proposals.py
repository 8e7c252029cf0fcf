"""Benchmark of an approved proposal's notices (A8; issue 22) on moto in-process;
not a test.

Loads N subscriptions to one proposal (default 10,000; loading is not measured),
approves it as an admin's request does (which notifies its first batch), then calls
the breach checker's continuation (`services.proposals.continue_notices`, what each
scheduled run calls) until the proposal's job is done, at the real batch sizes.
Prints: the checker runs it took (goal: within ceil((N - 99) / 1,980) runs), the
notices written and published (each subscription exactly once), AWS calls per
subscriber by operation, and DynamoDB write units per subscriber on the table and
on each index (the notices' puts and their marking sent; the job's own update,
1 per batch of 99 and transactional, is 0.02 more on the table).

    python -m bench.proposals [--subscribers 10000]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from datetime import UTC, datetime

from bench import moto_harness

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def load_subscriptions(proposal_id: str, total: int) -> None:
    """`total` subscriptions of 50 tenants, counted on the proposal."""
    from chalicelib.store.models import ProposalItem, SubscriptionItem

    pk = ProposalItem.key(proposal_id)
    with SubscriptionItem.batch_write() as batch:
        for n in range(total - 1):  # the author's is the first
            tenant = f"t{n % 50:02}"
            batch.save(
                SubscriptionItem(
                    pk,
                    f"SUB#{tenant}#c{n}@x.example",
                    proposal_id=proposal_id,
                    tenant_id=tenant,
                    contact=f"c{n}@x.example",
                    created_at="2026-11-23T12:00:00Z",
                    subscribed_by={},
                )
            )
    ProposalItem(pk, "PROPOSAL").update(actions=[ProposalItem.subscribers.add(total - 1)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10_000)
    args = parser.parse_args()
    moto_harness.environment()
    moto_harness.without_table_snapshots()  # no transaction here fails: nothing to roll back
    from moto import mock_aws

    with mock_aws():
        from chalicelib.commands import DecisionBody, ProposalBody
        from chalicelib.services import proposals
        from chalicelib.services.auth import Caller
        from chalicelib.store import jobs

        # A run's batches, not its seconds, bound it here: moto takes about 1 s of CPU
        # a batch where DynamoDB and SNS take ~0.3 s of latency (NOTICE_SECONDS = 8).
        proposals.NOTICE_SECONDS = 3600.0
        moto_harness.bootstrap_tenant()
        customer = Caller("key_c", "bench", "customer", "ana@bench.example")
        admin = Caller("key_a", "provider", "admin", "admin@provider.example")
        made = proposals.create_proposal(
            customer, ProposalBody(title="Export chats", description="As CSV"), AT
        )
        load_subscriptions(made["id"], args.subscribers)
        model = moto_harness.AwsModel(latency_ms=0)
        started = time.perf_counter()
        with model.installed() as aws:
            decided = proposals.decide(admin, made["id"], DecisionBody(status="approved"), AT)
            request_calls = dict(aws.calls)
            notified, runs = proposals.NOTICE_BATCH, 0
            while jobs.pending(jobs.NOTIFY):
                runs += 1
                notified += proposals.continue_notices(AT)
        seconds = time.perf_counter() - started
        unsent = sum(1 for shard in range(4) for _ in _unsent(shard))
    n = args.subscribers
    bound = math.ceil(
        (n - proposals.NOTICE_BATCH) / (proposals.RUN_BATCHES * proposals.NOTICE_BATCH)
    )
    calls = Counter(aws.calls)
    print(
        f"{n:,} subscribers ({decided['subscribers']:,} counted): the request notified "
        f"{proposals.NOTICE_BATCH} ({sum(request_calls.values())} AWS calls: {request_calls}), "
        f"the checker the rest in {runs} runs (bound {bound}); notices written {notified:,}, "
        f"unsent {unsent}"
    )
    total = sum(calls.values())
    per = {op: round(c / n, 4) for op, c in sorted(calls.items())}
    print(f"AWS calls per subscriber: {total / n:.4f} {per}")
    units = {name: round(u / n, 2) for name, u in sorted(aws.write_units.items())}
    print(f"write units per subscriber (puts): {sum(aws.write_units.values()) / n:.2f} {units}")
    print(f"wall {seconds:.1f} s here (moto's CPU; DynamoDB's and SNS's latency not modelled)")


def _unsent(shard: int) -> list[object]:
    from chalicelib.store import outbox

    return list(outbox.unsent(shard))


if __name__ == "__main__":
    main()
