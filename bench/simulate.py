"""Benchmark of what-if (issue 23) on moto in-process; not a test.

Writes a dozen ticket histories through the real services (open, assignments,
pauses, replies, a priority change, resolution, reopen, close), clones them
straight into moto's backend up to `--tickets` tickets of one tenant (loading is
not what is measured), then measures:

1. the replay alone: `--replayed` tickets (copies of those) each replayed twice
   (stored policy, draft) and compared, in memory (`whatif.compare`): CPU;
2. the whole request (`whatif.simulate`) over the stored tickets: the COUNT
   Query, the tickets' Query and BatchGetItem, one history Query per ticket (16 threads), behind a
   modelled DynamoDB latency per call (`--latency-ms`), with moto's own CPU
   measured apart (moto's queries are linear in the table, so the request is
   measured on 200 tickets and the product's CPU per ticket is what scales).

    python -m bench.simulate [--tickets 200] [--replayed 2000] [--latency-ms 8]
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import moto_harness

START = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # a Monday, 09:00 in Buenos Aires
# (minutes after opening, action, params) per template; each template opens a
# ticket of one priority and runs a prefix of this script.
SCRIPT: list[tuple[int, str, dict[str, Any]]] = [
    (20, "assign", {"agent": "ana"}),
    (45, "comment", {}),
    (60, "wait_on_customer", {}),
    (240, "resume", {}),
    (250, "set_priority", {"priority": "medium"}),
    (600, "resolve", {}),
    (700, "reopen", {}),
    (1500, "resolve", {"resolution_cause": "external"}),
    (1600, "close", {}),
]


def _write_templates() -> list[str]:
    from chalicelib.commands import ActionBody, CommentBody, TicketBody
    from chalicelib.services import lifecycle, tickets
    from chalicelib.services.auth import Caller
    from chalicelib.store import tickets as store

    agent = Caller(key_id="key_bench", tenant_id="provider", role="agent", contact=None)
    customer = Caller(key_id="key_cust", tenant_id="bench", role="customer", contact=None)
    ids: list[str] = []
    for n in range(12):
        opened_at = START + timedelta(hours=n)
        body = TicketBody(
            title="Down",
            description="The bot does not answer",
            kind="incident",
            priority=("blocker", "high", "medium", "low")[n % 4],
            tenant_id="bench",
        )
        ticket = tickets.open_ticket(agent, body, opened_at)
        for minutes, action, params in SCRIPT[: n % (len(SCRIPT) + 1)]:
            at = opened_at + timedelta(minutes=minutes)
            who = customer if action in ("resume", "reopen", "close") else agent
            if action == "comment":
                lifecycle.add_comment(agent, ticket["id"], CommentBody(body="On it"), at)
                continue
            asked = ActionBody.model_validate({"action": action, **params})
            lifecycle.apply_action(who, ticket["id"], asked, at)
        ids.append(ticket["id"])
    assert all(store.get(i) is not None for i in ids)
    return ids


def _clone(templates: list[str], total: int) -> None:
    """`total` tickets: the templates and copies of them, straight into moto."""
    from moto.dynamodb.models import dynamodb_backends
    from ulid import ULID

    from chalicelib.settings import get_settings
    from chalicelib.store import tickets as store

    backend = dynamodb_backends[moto_harness.ACCOUNT][moto_harness.REGION]
    table = get_settings().table_name
    sources = []
    for ticket_id in templates:
        ticket = store.get(ticket_id)
        assert ticket is not None
        sources.append((ticket, store.history(ticket_id)))
    for n in range(total - len(templates)):
        ticket, history = sources[n % len(sources)]
        clone = replace(ticket, id=f"tkt_{ULID()}", sla=copy.deepcopy(ticket.sla))
        item = store.to_item(clone)
        item.version = 1
        backend.put_item(table, item.serialize())
        for entry in history:
            backend.put_item(table, store.event_item(clone.id, entry).serialize())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200, help="stored, for the request")
    parser.add_argument("--replayed", type=int, default=2_000, help="replayed in memory")
    parser.add_argument("--latency-ms", type=float, default=8.0)
    args = parser.parse_args()
    moto_harness.environment()
    moto_harness.without_table_snapshots()
    from moto import mock_aws

    with mock_aws():
        from chalicelib.services import policies as policy_service
        from chalicelib.services import whatif
        from chalicelib.store import policies

        moto_harness.bootstrap_tenant()
        started = time.perf_counter()
        _clone(_write_templates(), args.tickets)
        print(f"loaded {args.tickets:,} tickets in {time.perf_counter() - started:.1f} s")
        stored = policies.find("aivo")
        assert stored is not None
        draft_doc = stored.model_dump(mode="json")
        high = next(r for r in draft_doc["target_rules"] if r["id"] == "A2.high")
        high["targets"][1]["hours"] = 16  # resolution of high incidents: 8 -> 16 business h
        window = (START - timedelta(days=1), START + timedelta(days=30))
        now = START + timedelta(days=3)

        # 1. the replay alone, in memory, over --replayed tickets (copies of the ones read)
        tenants = {"bench": {"policy": "aivo"}}
        read = list(whatif.cases("aivo", tenants, *window))
        cases = [
            whatif.Case(
                replace(c.ticket, id=f"{c.ticket.id}-{n}", sla=copy.deepcopy(c.ticket.sla)),
                c.history,
                c.tenant_doc,
            )
            for n in range(-(-args.replayed // len(read)))
            for c in read
        ][: args.replayed]
        draft = policy_service.validate_document("aivo", draft_doc)
        started = time.process_time()
        answer = whatif.compare(cases, stored, draft, now)
        cpu = time.process_time() - started
        print(
            f"replay alone: {answer['tickets']:,} tickets, {cpu:.2f} s CPU, "
            f"{cpu / answer['tickets'] * 1000:.2f} ms per ticket (both ways and compared); "
            f"changed {answer['changed_total']}, unreproduced {answer['unreproduced_total']}"
        )

        # 2. the whole request behind a modelled latency
        with moto_harness.AwsModel(latency_ms=args.latency_ms).installed() as aws:
            started, cpu_started = time.perf_counter(), time.process_time()
            full = whatif.simulate("aivo", draft_doc, *window, "bench", now)
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
        calls = dict(sorted(aws.calls.items()))
        print(
            f"simulate request: {full['tickets']:,} tickets, wall {wall:.2f} s with "
            f"{args.latency_ms:g} ms per AWS call; process CPU {cpu:.2f} s of which moto "
            f"{aws.aws_cpu:.2f} s; the product's {cpu - aws.aws_cpu:.2f} s, "
            f"{(cpu - aws.aws_cpu) / full['tickets'] * 1000:.1f} ms per ticket; calls {calls}"
        )


if __name__ == "__main__":
    main()
