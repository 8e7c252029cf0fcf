"""Re-targeting open tickets after a change of what their targets depend on (E9):
a policy PUT, a tenant PATCH (policy, tier, contract, calendar), and the breach
checker finishing what those left. The aggregate does the re-planning
(`Ticket.refresh`: stale versions, E7 maths, "keeps its targets" when a ticket no
longer fits); this module finds the tickets and commits them.

E9 runs in bounded batches (docs/writing-policies.md, E9): a policy PUT or a
tenant PATCH re-targets up to `BATCH_SIZE` open tickets itself and leaves a job for
the rest, which each breach-checker run continues a batch at a time
(`continue_jobs`); the checker also calls `refresh_if_stale` on every ticket before
it decides an alert, so a due ticket is current even before its job reaches it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException

from chalicelib import aws
from chalicelib.domain.instants import format_instant
from chalicelib.domain.policy import Policy
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import Conflict, TicketUnreadable
from chalicelib.services import unit_of_work
from chalicelib.services.lookups import Lookups
from chalicelib.services.unit_of_work import SYSTEM_ACTOR, UnitOfWork
from chalicelib.store import jobs
from chalicelib.store import tickets as ticket_store
from chalicelib.store.models import RetargetJobItem

# Open tickets a policy PUT or a tenant PATCH re-targets itself (the checker does the
# rest), and the seconds it may spend on them: well under API Gateway's 29 s, even
# when lost races make `retrying` wait.
BATCH_SIZE = 50
BATCH_SECONDS = 10.0
# What a scheduled run (25 s) spends at most on jobs, after it has queued its workers.
JOBS_SECONDS = 12.0
# Runs in a row a ticket may stop its job before the job passes over it.
MAX_STUCK = 3
# Tenant fields a policy reads for targets (docs/api.md, Tenant): a change re-targets.
# (and its billing terms and first day of operation: the charges of its newest open
# tickets are re-planned too, C3, C4, DX3)
TARGET_TERMS = ("policy", "tier", "contract", "calendar", "billing", "operation_started_on")
EVENT_TYPE = "policy.retargeted"

logger = Logger(service="slaguard")


def refresh_if_stale(ticket: Ticket, now: datetime, lookups: Lookups) -> bool:
    """E9 before an alert is decided: when the ticket's targets were computed with
    another policy, an older version of it, another calendar or other tenant terms,
    re-target it in memory (it records a `policy.retargeted` event) and return
    True; the caller commits it. Closed tickets and tickets whose tenant or policy
    is gone are left alone (False). Never raises a DomainError (`Ticket.refresh`)."""
    return _refresh(ticket, now, lookups, "stale", force=False)


# ------------------------------------------------------------------ the batches


@dataclass(frozen=True)
class BatchProgress:
    retargeted: int  # committed with a `policy.retargeted` entry by this request
    # Open tickets left for the checker (not reached, or lost races); None: unknown.
    remaining: int | None


def after_policy_change(policy: Policy, now: datetime, actor: dict[str, Any]) -> BatchProgress:
    """E9 after a policy PUT: re-target the first `BATCH_SIZE` open tickets under it
    (oldest first), and count the open ones left for the checker. Calls: one Query
    of the keys-only index, one BatchGetItem, one GetItem per distinct tenant, one
    transaction per ticket, and one Select=COUNT Query when more are left."""
    lookups = Lookups()
    lookups.remember_policy(policy)
    deadline = time.monotonic() + BATCH_SECONDS
    ids, more = ticket_store.open_ids_by_policy(policy.id, BATCH_SIZE)
    found = ticket_store.get_many(ids) if ids else {}
    done = failed = 0
    for ticket_id in ids:
        result = _commit_one(
            ticket_id, found.get(ticket_id), now, lookups, actor, force=False, deadline=deadline
        )
        done += result == "retargeted"
        failed += result == "failed"
    left = ticket_store.count_open_by_policy(policy.id, after=ids[-1]) if more else 0
    if left or failed:  # the checker finishes what remains (continue_jobs)
        jobs.save(
            policy.id, policy.version, ids[-1] if more and not failed else None, format_instant(now)
        )
    return BatchProgress(retargeted=done, remaining=failed + left)


def continue_jobs(now: datetime, lookups: Lookups, budget: int | None = None) -> int:
    """Each checker run, after it has fanned out what is due: re-target the next
    batch of every policy or tenant change a request did not finish (one Query for
    the jobs, then per job one index Query, one BatchGetItem for a policy's
    tickets, and a transaction per re-planned ticket), within `JOBS_SECONDS` in
    all. A job takes `budget` tickets a run (BATCH_SIZE) and stops at a ticket
    that fails (a lost race, or out of time): the next run goes on from there. A
    ticket that stops its job `MAX_STUCK` runs in a row is logged and passed over
    (its SLA targets are still refreshed before its next alert). A job AWS
    throttles waits for the next run. Returns tickets re-targeted."""
    budget = BATCH_SIZE if budget is None else budget
    deadline = time.monotonic() + JOBS_SECONDS
    done = 0
    for job in jobs.pending():
        if time.monotonic() >= deadline:
            break
        try:
            done += _continue(job, now, lookups, budget, deadline)
        except (PynamoDBException, ClientError) as e:
            if not aws.throttled(e):
                raise
            logger.warning("re-targeting job throttled; next run", job=job.sk)
    return done


def _continue(
    job: RetargetJobItem, now: datetime, lookups: Lookups, budget: int, deadline: float
) -> int:
    if job.tenant_id is not None:
        batch = _tenant_batch(job.tenant_id, job.after, budget, now, lookups, deadline)
    elif job.policy_id is not None:
        batch = _policy_batch(job.policy_id, job.after, budget, now, lookups, deadline)
    else:
        return 0
    if batch.finished:
        jobs.done(job)
        return batch.retargeted
    after, stuck = batch.after, 0
    if batch.stopped_at is not None and after == job.after:  # no progress this run
        stuck = int(job.stuck or 0) + 1
        if stuck >= MAX_STUCK:
            logger.error("ticket left out of re-targeting", ticket_id=batch.stopped_at, job=job.sk)
            after, stuck = batch.stopped_at, 0
    jobs.advance(job, after, stuck, format_instant(now))
    return batch.retargeted


@dataclass(frozen=True)
class Batch:
    retargeted: int
    after: str | None  # where the next batch starts: after this ticket (None: the first)
    finished: bool
    stopped_at: str | None = None  # the ticket that failed, if one did


def _batch(
    tickets: list[tuple[str, Ticket | None]],
    cursor: str | None,
    start: str | None,
    now: datetime,
    lookups: Lookups,
    deadline: float,
    *,
    force: bool,
) -> Batch:
    """Commit a page of tickets in order, stopping at the first that fails: then
    the next batch starts after the last one done (`start` when none was)."""
    done, reached = 0, start
    for ticket_id, ticket in tickets:
        result = _commit_one(
            ticket_id, ticket, now, lookups, SYSTEM_ACTOR, force=force, deadline=deadline
        )
        if result == "failed":
            return Batch(done, reached, finished=False, stopped_at=ticket_id)
        done += result == "retargeted"
        reached = ticket_id
    return Batch(done, cursor, finished=cursor is None)


def _policy_batch(
    policy_id: str, after: str | None, limit: int, now: datetime, lookups: Lookups, deadline: float
) -> Batch:
    """The open tickets under a policy after ticket `after`, oldest first."""
    ids, more = ticket_store.open_ids_by_policy(policy_id, limit, after=after)
    found = ticket_store.get_many(ids) if ids else {}
    page = [(ticket_id, found.get(ticket_id)) for ticket_id in ids]
    cursor = ids[-1] if more else None
    return _batch(page, cursor, after, now, lookups, deadline, force=False)


def _tenant_batch(
    tenant_id: str, before: str | None, limit: int, now: datetime, lookups: Lookups, deadline: float
) -> Batch:
    """A tenant's open tickets older than ticket `before`, newest first, re-planned
    against the tenant as it is now (`force`: its billing and first day of
    operation are not in the terms version)."""
    found, cursor = ticket_store.open_for_tenant(tenant_id, limit, before=before)
    page: list[tuple[str, Ticket | None]] = [(t.id, t) for t in found]
    return _batch(page, cursor, before, now, lookups, deadline, force=True)


def after_tenant_change(
    tenant_id: str, before: dict[str, Any], after: dict[str, Any], now: datetime
) -> BatchProgress:
    """E7/E9 after a tenant PATCH that changed what its targets or charges depend
    on (policy, tier, contract, calendar, billing, first day of operation): the
    job for all its open tickets is written first (a request cut short loses
    nothing), then this request re-plans its newest `BATCH_SIZE` itself and the
    checker's runs finish the rest, a batch a minute (`continue_jobs`).
    `remaining` is None when more may exist (how many is unknown: counting them
    would read every ticket of the tenant)."""
    if all(before.get(name) == after.get(name) for name in TARGET_TERMS):
        return BatchProgress(retargeted=0, remaining=0)
    stamp = format_instant(now)
    # the change's wall-clock instant orders two changes of one tenant (`jobs.done`)
    job = jobs.save_tenant(tenant_id, time.time_ns(), None, stamp)
    lookups = Lookups()
    lookups.remember_tenant(tenant_id, after)
    deadline = time.monotonic() + BATCH_SECONDS
    batch = _tenant_batch(tenant_id, None, BATCH_SIZE, now, lookups, deadline)
    if batch.finished:
        jobs.done(job)
    else:
        jobs.advance(job, batch.after, 0, stamp)
    return BatchProgress(retargeted=batch.retargeted, remaining=0 if batch.finished else None)


# ------------------------------------------------------------------ internals

Result = Literal["retargeted", "current", "gone", "failed"]


def _commit_one(
    ticket_id: str,
    ticket: Ticket | None,
    now: datetime,
    lookups: Lookups,
    actor: dict[str, Any],
    *,
    force: bool,
    deadline: float | None = None,
) -> Result:
    """Re-target one ticket and commit it with its history entry; a lost race is
    read again and retried (`unit_of_work.run`), then counted as failed (the
    checker finishes it). Past the `deadline` (a request's time budget) it is
    not tried at all: failed too."""
    if deadline is not None and time.monotonic() > deadline:
        return "failed"
    cause = "tenant.updated" if force else "policy.updated"
    first = [ticket]

    def attempt(uow: UnitOfWork) -> Result:
        read = first.pop() if first else None
        current = read if read is not None else uow.get(ticket_id)
        if current is None:
            return "gone"
        uow.track(current)
        if not _refresh(current, now, uow.lookups, cause, force=force):
            return "current"
        uow.commit()
        return "retargeted"

    try:
        return unit_of_work.run(attempt, now, actor, lookups=lookups, deadline=deadline)
    except Conflict:
        return "failed"
    except TicketUnreadable:  # logged with its key by the store: skipped, never retried
        return "gone"


def _refresh(ticket: Ticket, now: datetime, lookups: Lookups, cause: str, *, force: bool) -> bool:
    basis = lookups.basis(ticket.tenant_id)
    if basis is None:
        return False
    return ticket.refresh(basis, now, cause, force=force) is not None  # never a closed one
