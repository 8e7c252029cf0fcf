"""Re-targeting open tickets after a change of what their targets depend on (E9):
a policy PUT, a tenant PATCH (policy, tier, contract, calendar), and the breach
checker finishing what those left. The aggregate does the re-planning
(`Ticket.refresh`: stale versions, E7 maths, "keeps its targets" when a ticket no
longer fits); this module finds the tickets and commits them.

E9 runs in bounded batches (README, Design choices, Policy changes): a policy PUT or a
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

from chalicelib.domain.instants import format_instant
from chalicelib.domain.policy import Policy
from chalicelib.domain.terms import SlaBasis
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import Conflict, RuleRefused, TicketUnreadable
from chalicelib.services import unit_of_work
from chalicelib.services.unit_of_work import SYSTEM_ACTOR, charge_events, event, retrying
from chalicelib.store import jobs, policies
from chalicelib.store import tenants as tenant_store
from chalicelib.store import tickets as ticket_store
from chalicelib.store.models import RetargetJobItem

# Open tickets a policy PUT or a tenant PATCH re-targets itself (the checker does the
# rest), and the seconds it may spend on them: well under API Gateway's 29 s, even
# when lost races make `retrying` wait.
BATCH_SIZE = 50
BATCH_SECONDS = 10.0
# Tenant fields a policy reads for targets (docs/api.md, Tenant): a change re-targets.
# (and its billing terms and first day of operation: the charges of its newest open
# tickets are re-planned too, C3, C4, DX3)
TARGET_TERMS = ("policy", "tier", "contract", "calendar", "billing", "operation_started_on")
EVENT_TYPE = "policy.retargeted"


class Lookups:
    """A per-run memo of what re-targeting reads: each policy and tenant is read at
    most once per checker run or request (a missing one is remembered as None),
    and each customer's SLA basis is worked out once per policy version."""

    def __init__(self) -> None:
        self._policies: dict[str, Policy | None] = {}
        self._tenants: dict[str, dict[str, Any] | None] = {}
        self._bases: dict[tuple[str, str, int], SlaBasis] = {}

    def policy(self, policy_id: str) -> Policy | None:
        """The current policy of that id (stored copy or shipped), or None."""
        if policy_id not in self._policies:
            self._policies[policy_id] = policies.find(policy_id)
        return self._policies[policy_id]

    def tenant(self, tenant_id: str) -> dict[str, Any] | None:
        """The customer tenant's document (docs/api.md, Tenant), or None."""
        if tenant_id not in self._tenants:
            item = tenant_store.get_customer(tenant_id)
            self._tenants[tenant_id] = tenant_store.doc_of(item) if item is not None else None
        return self._tenants[tenant_id]

    def remember_policy(self, policy: Policy) -> None:
        """Seed with a policy just written (a read could still see the old one)."""
        self._policies[policy.id] = policy

    def remember_tenant(self, tenant_id: str, doc: dict[str, Any]) -> None:
        """Seed with a tenant document just written."""
        self._tenants[tenant_id] = doc
        self._bases = {k: v for k, v in self._bases.items() if k[0] != tenant_id}

    def basis(self, tenant_id: str) -> SlaBasis | None:
        """The SLA basis in force for the tenant's tickets (its current policy),
        or None when the tenant or its policy is gone."""
        tenant = self.tenant(tenant_id)
        policy = self.policy(tenant["policy"]) if tenant and tenant.get("policy") else None
        if tenant is None or policy is None:
            return None
        key = (tenant_id, policy.id, policy.version)
        if key not in self._bases:
            self._bases[key] = SlaBasis.of(policy, tenant)
        return self._bases[key]


def basis_in_force(tenant_id: str, lookups: Lookups | None = None) -> SlaBasis:
    """What a re-plan of a ticket of this tenant reads (E7, E9), the one answer to
    "which policy is in force": its tenant's current policy and terms, not the
    policy the ticket was last planned on. RuleRefused (422) when the tenant or
    its policy is gone."""
    basis = (lookups or Lookups()).basis(tenant_id)
    if basis is None:
        raise RuleRefused(
            f"tenant {tenant_id} or its policy no longer exists: the ticket cannot be re-planned",
            code="policy_unavailable",
        )
    return basis


def refresh_if_stale(
    ticket: Ticket,
    now: datetime,
    lookups: Lookups,
    events: list[dict[str, Any]] | None = None,
) -> bool:
    """E9 before an alert is decided: when the ticket's targets were computed with
    another policy, an older version of it, another calendar or other tenant terms,
    re-target it in memory and return True; the caller commits the ticket, with
    the `policy.retargeted` history entry appended to `events` (pass the list you
    commit). Closed tickets and tickets whose tenant or policy is gone are left
    alone (False). Never raises a DomainError (see `Ticket.refresh`)."""
    return _refresh(ticket, now, lookups, events, SYSTEM_ACTOR, "stale", force=False)


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
    """Each checker run: re-target the next batch of every policy or tenant change
    a request did not finish (one Query for the jobs, then per job one index Query,
    one BatchGetItem for a policy's tickets, and a transaction per re-planned
    ticket). A job takes `budget` tickets a run (BATCH_SIZE). Returns tickets
    re-targeted."""
    budget = BATCH_SIZE if budget is None else budget
    done = 0
    for job in jobs.pending():
        if job.tenant_id is not None:
            done += _continue_tenant_job(job, now, lookups, budget)
        elif job.policy_id is not None:
            done += _continue_policy_job(job, job.policy_id, now, lookups, budget)
    return done


def _continue_policy_job(
    job: RetargetJobItem, policy_id: str, now: datetime, lookups: Lookups, budget: int
) -> int:
    ids, more = ticket_store.open_ids_by_policy(policy_id, budget, after=job.after)
    found = ticket_store.get_many(ids) if ids else {}
    done = failed = 0
    for ticket_id in ids:
        result = _commit_one(
            ticket_id, found.get(ticket_id), now, lookups, SYSTEM_ACTOR, force=False
        )
        done += result == "retargeted"
        failed += result == "failed"
    if more:
        jobs.save(policy_id, int(job.version), ids[-1], format_instant(now))
    elif failed:
        jobs.save(policy_id, int(job.version), None, format_instant(now))
    else:
        jobs.done(job)
    return done


def _continue_tenant_job(job: RetargetJobItem, now: datetime, lookups: Lookups, budget: int) -> int:
    """The next `budget` open tickets of a tenant change, older than the job's
    cursor, re-planned against the tenant as it is now (`force`: its billing and
    first day of operation are not in the terms version). A batch with a lost
    race is taken again by the next run."""
    tenant_id = str(job.tenant_id)
    found, after = ticket_store.open_for_tenant(tenant_id, budget, before=job.after)
    done = failed = 0
    for ticket in found:
        result = _commit_one(ticket.id, ticket, now, lookups, SYSTEM_ACTOR, force=True)
        done += result == "retargeted"
        failed += result == "failed"
    if failed:  # the job stays as it is: the next run takes this batch again
        return done
    if after is None:
        jobs.done(job)
    else:
        jobs.save_tenant(tenant_id, int(job.version), after, format_instant(now))
    return done


def after_tenant_change(
    tenant_id: str, before: dict[str, Any], after: dict[str, Any], now: datetime
) -> BatchProgress:
    """E7/E9 after a tenant PATCH that changed what its targets or charges depend
    on (policy, tier, contract, calendar, billing, first day of operation):
    re-plan its newest `BATCH_SIZE` open tickets here, and leave a job for the
    older ones (or the whole batch again, after a lost race) that the checker's
    runs finish, a batch a minute (`continue_jobs`). `remaining` is None when
    more may exist (how many is unknown: counting them would read every ticket
    of the tenant)."""
    if all(before.get(name) == after.get(name) for name in TARGET_TERMS):
        return BatchProgress(retargeted=0, remaining=0)
    lookups = Lookups()
    lookups.remember_tenant(tenant_id, after)
    deadline = time.monotonic() + BATCH_SECONDS
    found, cursor = ticket_store.open_for_tenant(tenant_id, BATCH_SIZE)
    done = failed = 0
    for ticket in found:
        result = _commit_one(
            ticket.id, ticket, now, lookups, SYSTEM_ACTOR, force=True, deadline=deadline
        )
        done += result == "retargeted"
        failed += result == "failed"
    if failed or cursor is not None:
        version = int(now.timestamp() * 1000)
        jobs.save_tenant(tenant_id, version, None if failed else cursor, format_instant(now))
    return BatchProgress(retargeted=done, remaining=None if cursor is not None else failed)


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
    read again and retried (`unit_of_work.retrying`), then counted as failed (the
    checker finishes it). Past the `deadline` (a request's time budget) it is
    not tried at all: failed too."""
    if deadline is not None and time.monotonic() > deadline:
        return "failed"
    cause = "tenant.updated" if force else "policy.updated"
    first = [ticket]

    def attempt() -> Result:
        read = first.pop() if first else None
        current = read if read is not None else ticket_store.get(ticket_id)
        if current is None:
            return "gone"
        events: list[dict[str, Any]] = []
        if not _refresh(current, now, lookups, events, actor, cause, force=force):
            return "current"
        unit_of_work.commit(current, events, now)
        return "retargeted"

    try:
        return retrying(attempt, deadline=deadline)
    except Conflict:
        return "failed"
    except TicketUnreadable:  # logged with its key by the store: skipped, never retried
        return "gone"


def _refresh(
    ticket: Ticket,
    now: datetime,
    lookups: Lookups,
    events: list[dict[str, Any]] | None,
    actor: dict[str, Any],
    cause: str,
    *,
    force: bool,
) -> bool:
    basis = lookups.basis(ticket.tenant_id)
    if basis is None:
        return False
    before = ticket.charge
    entry = ticket.refresh(basis, now, cause, force=force)  # never for a closed ticket
    if entry is None:
        return False
    if events is not None:
        events.append(event(EVENT_TYPE, actor, entry, now))
        events.extend(charge_events(before, ticket, now, actor))  # E9 for charges
    return True
