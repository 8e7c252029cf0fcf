"""The breach checker (E8, E9; ARCHITECTURE.md, due index and outbox).

Every minute, at the EventBridge event's `time`:
1. publish what earlier runs or requests left unsent (the outbox's sparse index);
2. read the tickets the due index says are due (one Query per shard, then
   consistent BatchGets: the index is a hint, the item is the truth);
   (and continue the re-targeting a policy change left unfinished, E9);
3. per ticket: re-target it if its policy or calendar changed (E9), take every
   threshold crossed by `at` through the domain, and write the alerts to the
   outbox with the ticket's next threshold in ONE transaction conditioned on the
   ticket's version — the exactly-once point: a concurrent or repeated run loses
   that race (or finds nothing left to alert) and raises nothing;
4. publish the new alerts with PublishBatch and mark them sent.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib.domain.instants import format_instant, parse_instant, to_utc
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import Conflict, TicketUnreadable
from chalicelib.services import retarget
from chalicelib.services.outbox import publish_items, retry_unsent
from chalicelib.services.unit_of_work import alert_message, commit, retrying, waiver
from chalicelib.settings import get_settings
from chalicelib.store import due
from chalicelib.store import tickets as ticket_store
from chalicelib.store.models import OutboxItem, plain

NAMESPACE = "slaguard"

logger = Logger(service="slaguard")  # shares app.py's formatter: its correlation id


def _alerts(ticket: Ticket, at: datetime) -> list[dict[str, Any]]:
    """The alert messages of every threshold crossed by `at` (E8), each marked
    alerted on the ticket (in memory), lowest first per target."""
    return [
        alert_message(
            ticket,
            crossing.threshold.type,
            crossing.at,
            key=f"{crossing.metric}#{crossing.threshold.pct}",
            metric=crossing.metric,
            level=crossing.threshold.level,
            threshold_pct=crossing.threshold.pct,
            due_at=crossing.due_at,
        )
        for crossing in ticket.cross_thresholds(at)
    ]


def evaluate(ticket: Ticket, at: datetime, lookups: retarget.Lookups) -> list[OutboxItem]:
    """Decide and record one due ticket's alerts; [] when another run or request
    got there first (its version moved) and nothing is left to alert. A lost race
    reads the ticket again (`unit_of_work.retrying`); a ticket that keeps changing
    is left for the next run."""
    first = [ticket]

    def attempt() -> list[OutboxItem]:
        current = first.pop() if first else ticket_store.get(ticket.id)
        if current is None:
            return []
        due = current.next_due()
        if due is None or due > at:
            return []  # a stale index entry: the item is the truth
        events: list[dict[str, Any]] = []
        changed = retarget.refresh_if_stale(current, at, lookups, events)  # E9 first
        raised = _alerts(current, at)
        waived, waived_alerts = waiver(current, at)  # DX4: nobody took it in time
        events += waived
        raised += waived_alerts
        if not raised and not changed:
            return []
        return commit(current, events, at, raised=raised, publish=False)

    try:
        return retrying(attempt)
    except Conflict:
        logger.warning("ticket kept changing; left for the next run", ticket_id=ticket.id)
        return []
    except TicketUnreadable:  # logged with its key by the store; the others go on
        return []


def check(at: datetime) -> dict[str, int]:
    """One run at instant `at`: how many due tickets were evaluated and how many
    alerts were raised (API.md, Operations: `check --at`)."""
    at = to_utc(at)
    metrics = Metrics(namespace=NAMESPACE, service="breach_checker")
    retried = retry_unsent(at)
    lookups = retarget.Lookups()
    retargeted = retarget.continue_jobs(at, lookups)  # E9: what a policy PUT left
    items: list[OutboxItem] = []
    evaluated = 0
    ids = list(due.due_ticket_ids(get_settings().due_shards, int(at.timestamp())))
    for ticket in ticket_store.get_many(ids).values():
        evaluated += 1
        written = evaluate(ticket, at, lookups)
        if written:
            logger.info("alerts raised", ticket_id=ticket.id, alerts=[i.alert_id for i in written])
        items += written
    published = publish_items(items, at)
    _record(metrics, items, evaluated)
    logger.info("published", new=published, retried=retried, retargeted=retargeted)
    return {"evaluated": evaluated, "alerts": len(items)}


def _record(metrics: Metrics, items: list[OutboxItem], evaluated: int) -> None:
    """Powertools EMF metrics: alerts per type, alert lag, tickets evaluated."""
    wall = time.time()
    by_type = Counter(plain(i.message)["type"] for i in items)
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


def run_scheduled(event: dict[str, Any], lambda_context: Any = None) -> dict[str, int]:
    """The EventBridge entry: the event's `time` is the evaluation instant."""
    at = parse_instant(event["time"])
    result = check(at)
    logger.info(
        "breach checker run",
        at=format_instant(at),
        evaluated=result["evaluated"],
        alerts=result["alerts"],
    )
    return result
