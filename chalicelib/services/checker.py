"""The breach checker (E8, E9; docs/alerts.md, How the breach checker works).

Every minute, at the EventBridge event's `time`:
1. publish what earlier runs or requests left unsent (the outbox's sparse index);
2. read the tickets the due index says are due (one Query per shard, then
   consistent BatchGets: the index is a hint, the item is the truth);
3. per ticket: re-target it if its policy or calendar changed (E9), take every
   threshold crossed by `at` through the domain, and write the alerts to the
   outbox with the ticket's next threshold in ONE transaction conditioned on the
   ticket's version — the exactly-once point: a concurrent or repeated run loses
   that race (or finds nothing left to alert) and raises nothing;
4. publish the new alerts with PublishBatch and mark them sent;
5. then continue the re-targeting a policy or tenant change left unfinished (E9),
   and the notices of an approved proposal's subscribers (A8).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException

from chalicelib import aws, work_queue
from chalicelib.domain.instants import format_instant, parse_instant, to_utc
from chalicelib.domain.policy import Policy
from chalicelib.domain.terms import SlaBasis
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import Conflict, TicketUnreadable
from chalicelib.services import proposals, retarget, unit_of_work
from chalicelib.services.lookups import Lookups
from chalicelib.services.outbox import publish_items, retry_unsent
from chalicelib.services.unit_of_work import SYSTEM_ACTOR, UnitOfWork
from chalicelib.settings import get_settings
from chalicelib.store import due
from chalicelib.store import tickets as ticket_store
from chalicelib.store.models import OutboxItem, TicketItem, plain
from chalicelib.store.outbox import OUTBOX_SHARDS

NAMESPACE = "slaguard"

logger = Logger(service="slaguard")  # shares app.py's formatter: its correlation id


def evaluate(ticket: Ticket, at: datetime, lookups: Lookups) -> list[OutboxItem]:
    """Decide and record one due ticket's alerts: E9 first (`refresh` when its
    versions are stale), then every threshold crossed by `at` (E8, and DX4 with
    it); [] when another run or request got there first (its version moved) and
    nothing is left to alert. A lost race reads the ticket again
    (`unit_of_work.run`); a ticket that keeps changing is left for the next run."""
    first = [ticket]

    def attempt(uow: UnitOfWork) -> list[OutboxItem]:
        current = uow.get(ticket.id) if not first else first.pop()
        if current is None:
            return []
        uow.track(current)
        due = current.next_due()
        if due is None or due > at:
            return []  # a stale index entry: the item is the truth
        retarget.refresh_if_stale(current, at, uow.lookups)  # E9 first
        current.cross_thresholds(at)
        if not current.events:
            return []
        return uow.commit().alerts

    try:
        return unit_of_work.run(attempt, at, SYSTEM_ACTOR, lookups=lookups, publish=False)
    except Conflict:
        logger.warning("ticket kept changing; left for the next run", ticket_id=ticket.id)
        return []
    except TicketUnreadable:  # logged with its key by the store; the others go on
        return []


# ----------------------------------------------------------------- the fan-out
#
# The scheduled run (`check`) splits the due index's shards into
# `settings.checker_workers` ranges. With a queue configured, each range is one SQS
# message and Lambda runs one `checker_worker` per message, in parallel; with none
# (local stack, tests, `check --at` on a laptop), the run calls the same `work`
# for each range itself, one after another. Either way a worker reads only its
# shards' due entries, evaluates its tickets on a thread pool (each ticket is one
# TransactWriteItems: the exactly-once point stays per ticket), publishes in
# chunks as it goes, and stops taking tickets `STOP_MARGIN_SECONDS` before its
# deadline: what it leaves is still in the due index, so the next run takes it.

STOP_MARGIN_SECONDS = 8.0  # time to finish the transactions in flight and publish them
PUBLISH_CHUNK = 50  # alerts per publish: 5 PublishBatch + 2 BatchWriteItem
BATCH_GET = 100  # BatchGetItem's maximum


@dataclass(frozen=True)
class Task:
    """One worker's share of a run: the instant, its due-index shards, and the
    outbox shards whose unsent alerts it retries."""

    at: str
    shards: tuple[int, ...]
    outbox_shards: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "shards": list(self.shards), "outbox": list(self.outbox_shards)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Task:
        return cls(data["at"], tuple(data["shards"]), tuple(data["outbox"]))


def plan(at: datetime, shards: int, workers: int) -> list[Task]:
    """`workers` contiguous ranges of the `shards` due-index shards; the outbox
    shards dealt round-robin (a worker beyond their number gets none)."""
    instant = format_instant(at)
    return [
        Task(
            instant,
            tuple(range(k * shards // workers, (k + 1) * shards // workers)),
            tuple(s for s in range(OUTBOX_SHARDS) if s % workers == k),
        )
        for k in range(workers)
    ]


class Deadline:
    """When a worker stops taking tickets: `STOP_MARGIN_SECONDS` (at most a quarter
    of its time) before the end of its Lambda's own clock when it has one
    (`get_remaining_time_in_millis`), else of a budget from now (in process)."""

    def __init__(self, context: Any, budget_seconds: float) -> None:
        self._remaining_ms: Callable[[], float] | None = getattr(
            context, "get_remaining_time_in_millis", None
        )
        self._end = time.monotonic() + budget_seconds
        self._margin = min(STOP_MARGIN_SECONDS, self.left() / 4)

    def left(self) -> float:
        """Seconds until the end."""
        if self._remaining_ms is not None:
            return float(self._remaining_ms()) / 1000
        return self._end - time.monotonic()

    def near(self) -> bool:
        return self.left() < self._margin


class _SharedLookups(Lookups):
    """The per-run memo shared by a worker's threads: each policy and tenant is
    still read once, not once per thread."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()

    def policy(self, policy_id: str) -> Policy | None:
        with self._lock:
            return super().policy(policy_id)

    def tenant(self, tenant_id: str) -> dict[str, Any] | None:
        with self._lock:
            return super().tenant(tenant_id)

    def basis(self, tenant_id: str) -> SlaBasis | None:
        with self._lock:
            return super().basis(tenant_id)


def _evaluate_or_leave(ticket: Ticket, at: datetime, lookups: Lookups) -> list[OutboxItem]:
    """`evaluate`, except that a ticket AWS throttles (after botocore's retries; a
    burst can outrun on-demand capacity) is left due for the next run instead of
    failing the whole worker."""
    try:
        return evaluate(ticket, at, lookups)
    except (PynamoDBException, ClientError) as e:
        if not aws.throttled(e):
            raise
        logger.warning("throttled; left for the next run", ticket_id=ticket.id)
        return []


def work(task: Task, deadline: Deadline) -> Counter[str]:
    """One worker: retry its outbox shards, then evaluate what is due in its
    due-index shards until done or `STOP_MARGIN_SECONDS` before the deadline."""
    at = parse_instant(task.at)
    settings = get_settings()
    threads = settings.checker_threads
    lookups = _SharedLookups()
    warm_connections()  # botocore clients are built once, here, not by racing threads
    counts: Counter[str] = Counter()
    written: list[OutboxItem] = []
    with ThreadPoolExecutor(threads, thread_name_prefix="checker") as pool:
        counts["retried"], backlog = retry_unsent(at, task.outbox_shards, pool.map)
        inflight: set[Future[list[OutboxItem]]] = set()
        publishing: list[Future[int]] = []
        unpublished: list[OutboxItem] = []

        def collect(done: set[Future[list[OutboxItem]]], final: bool = False) -> None:
            for future in done:
                items = future.result()
                written.extend(items)
                unpublished.extend(items)
            while len(unpublished) >= PUBLISH_CHUNK or (final and unpublished):
                chunk = unpublished[:PUBLISH_CHUNK]
                del unpublished[:PUBLISH_CHUNK]
                publishing.append(pool.submit(publish_items, chunk, at))

        ids = due.due_ticket_ids(task.shards, int(at.timestamp()))
        while batch := list(itertools.islice(ids, BATCH_GET)):
            if deadline.near():
                counts["stopped"] = 1  # the rest stays due: the next run takes it
                logger.warning("deadline near; left for the next run", shards=task.shards)
                break
            for ticket in ticket_store.get_many(batch).values():
                inflight.add(pool.submit(_evaluate_or_leave, ticket, at, lookups))
                counts["evaluated"] += 1
            while len(inflight) > 2 * threads:  # bounded: the next page waits for room
                done, inflight = wait(inflight, return_when=FIRST_COMPLETED)
                collect(done)
        collect(wait(inflight).done, final=True)
        counts["published"] = sum(f.result() for f in publishing)
    counts["alerts"] = len(written)
    for item in written:
        logger.debug("alert raised", alert_id=item.alert_id)
    _record(written, counts["evaluated"], backlog)
    return counts


def check(at: datetime) -> dict[str, int]:
    """One scheduled run at instant `at` (docs/api.md, Operations: `check --at`):
    fan the due index out to the workers, then continue unfinished re-targeting
    (E9). In process, the figures are the workers' (tickets evaluated, alerts
    raised, workers that stopped at the deadline); queued, they are in each
    worker's own log and metrics."""
    at = to_utc(at)
    settings = get_settings()
    tasks = plan(at, settings.due_shards, settings.checker_workers)
    totals: Counter[str] = Counter()
    if settings.checker_queue_url is not None:
        work_queue.send(settings.checker_queue_url, [t.to_json() for t in tasks])
        queued = len(tasks)
    else:
        queued = 0
        # In process, one budget for all workers (the cloud stack always queues;
        # the test client's 3 s Lambda clock is no Lambda's).
        deadline = Deadline(None, settings.checker_budget_seconds)
        for task in tasks:
            totals += work(task, deadline)
    # E9: what a policy PUT or a tenant PATCH left, once what is due is on its way
    # (a due ticket is re-targeted before its alert anyway: refresh_if_stale)
    retargeted = retarget.continue_jobs(at, Lookups())
    notices = proposals.continue_notices(at)  # A8: an approval's subscribers left to notify
    logger.info(
        "checker run",
        extra={
            "workers": len(tasks),
            "queued": queued,
            "retargeted": retargeted,
            "notices": notices,
            **totals,
        },
    )
    return {
        "workers": len(tasks),
        "queued": queued,
        "evaluated": totals["evaluated"],
        "alerts": totals["alerts"],
        "stopped": totals["stopped"],
    }


def _record(items: list[OutboxItem], evaluated: int, backlog: int) -> None:
    """Powertools EMF metrics of one worker: alerts per type, alert lag, tickets
    evaluated, outbox backlog. Its own metric set (EphemeralMetrics): `Metrics`
    shares one per process, so two runs at once (the local stack's checker thread
    overlapping a slow run) would flush each other's."""
    metrics = EphemeralMetrics(namespace=NAMESPACE, service="breach_checker")
    metrics.add_metric(name="OutboxBacklog", unit=MetricUnit.Count, value=backlog)
    wall = time.time()
    by_type = Counter(plain(i.message)["type"] for i in items)
    if is_metrics_disabled():  # single_metric prints even then (Powertools 3.37)
        by_type.clear()
    for type_, count in by_type.items():
        with single_metric(
            name="AlertsPublished", unit=MetricUnit.Count, value=count, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="type", value=type_)
    for item in items:
        lag = wall - parse_instant(plain(item.message)["occurred_at"]).timestamp()
        metrics.add_metric(name="AlertLagSeconds", unit=MetricUnit.Seconds, value=max(lag, 0))
    metrics.add_metric(name="TicketsEvaluated", unit=MetricUnit.Count, value=evaluated)
    metrics.flush_metrics()


def warm_connections() -> None:
    """Build the SNS client and the tables' connections before threads share them."""
    aws.client("sns")
    for model in (TicketItem, OutboxItem):
        model._get_connection().connection.client  # noqa: B018 - built on first access


def run_scheduled(event: dict[str, Any], lambda_context: Any = None) -> dict[str, int]:
    """The EventBridge entry: the event's `time` is the evaluation instant."""
    at = parse_instant(event["time"])
    result = check(at)
    logger.info("breach checker run", extra={"at": format_instant(at), **result})
    return result


def run_worker(bodies: list[str], lambda_context: Any = None) -> dict[str, int]:
    """The SQS entry: each message body is one task of a scheduled run."""
    deadline = Deadline(lambda_context, get_settings().checker_budget_seconds)
    totals: Counter[str] = Counter()
    for body in bodies:
        totals += work(Task.from_json(work_queue.parse(body)), deadline)
    logger.info("checker worker", extra=dict(totals))
    return dict(totals)
