"""Re-targeting (E7, E9): compute a ticket's plan again, from its current
priority/kind/tier or from a changed policy or calendar, and reconcile its
targets with it against the time already elapsed (the domain does the maths).

E9 runs in bounded batches (ARCHITECTURE.md, Policy changes): a policy PUT or a
tenant PATCH re-targets up to `BATCH_SIZE` open tickets itself; the breach checker
calls `refresh_if_stale` on every ticket before it decides an alert, which
finishes the tickets the request did not reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ulid import ULID

from chalicelib.domain import charges, sla
from chalicelib.domain.errors import DomainError
from chalicelib.domain.instants import format_instant
from chalicelib.domain.lifecycle import LOGGED_MINUTES
from chalicelib.domain.policy import Intake, TenantTerms, calendar_for, clock_for, plan_ticket
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import Conflict
from chalicelib.services import tickets
from chalicelib.services.tickets import (
    SYSTEM_ACTOR,
    calendar_version,
    charge_events,
    set_targets,
    targets_of,
    terms_version,
)
from chalicelib.store import jobs
from chalicelib.store import tickets as ticket_store

if TYPE_CHECKING:
    from chalicelib.domain.policy import Policy

# Open tickets a policy PUT or a tenant PATCH re-targets itself (the checker does the rest).
BATCH_SIZE = 50
# A ticket that changed while being re-targeted is read again this many times.
RETRIES = 2
# Tenant fields a policy reads for targets and charges (API.md, Tenant): a change
# re-targets (and re-plans the charges of, C3, C4, DX3) the tenant's newest open tickets.
TARGET_TERMS = ("policy", "tier", "contract", "calendar", "billing", "operation_started_on")
EVENT_TYPE = "policy.retargeted"


def current_calendar(policy: Policy, tenant_doc: dict[str, Any]) -> dict[str, Any]:
    """The effective calendar (policy's, overridden by the tenant's) as stored JSON."""
    spec = calendar_for(policy, TenantTerms.from_tenant_doc(tenant_doc))
    calendar: dict[str, Any] = spec.model_dump(mode="json")
    return calendar


def is_stale(ticket: Ticket, policy: Policy, tenant_doc: dict[str, Any]) -> bool:
    """E9: were this ticket's targets computed with another policy, an older
    version of it, another calendar, or other tenant terms (tier, contract)?"""
    return (
        ticket.sla.policy != policy.id
        or ticket.sla.policy_version != policy.version
        or ticket.sla.calendar_version != calendar_version(current_calendar(policy, tenant_doc))
        or ticket.sla.terms_version != terms_version(tenant_doc)
    )


def replan(
    ticket: Ticket,
    policy: Policy,
    tenant_doc: dict[str, Any],
    now: datetime,
    *,
    priority: str | None = None,
    kind: str | None = None,
    tier: str | None = None,
) -> None:
    """Re-plan the ticket in memory (the caller commits it): new priority, kind or
    tier (E7) and/or the current policy and calendar (E9). Raises IntakeError
    when the new values are not the policy's (a 400 for the API), ChannelRefused
    when the tenant's terms no longer cover the ticket's channel; the ticket is
    left unchanged then."""
    terms = TenantTerms.from_tenant_doc(tenant_doc)
    intake = Intake(
        kind=kind or ticket.kind,
        priority=priority or ticket.priority,
        channel=ticket.channel,
        fields=ticket.fields,
        integration=ticket.integration,
        tier=tier,
        description=ticket.description,
    )
    plan = plan_ticket(policy, terms, intake, ticket.reported_at)
    # E9 for charges: a quoted or free charge takes the policy's current rules (a new
    # fee, free actions, nesting period); one approved, paid or waived stays.
    opening = charges.open_charge(
        policy,
        terms,
        charges.BillingTerms.from_tenant_doc(tenant_doc),
        intake,
        plan,
        ticket.reported_at,
        contact=ticket.contact,
        ticket_id=ticket.id,
    )
    charge = charges.replanned(
        charges.from_stored(ticket.charge),
        opening.charge,
        _logged(ticket.fields.get(LOGGED_MINUTES)),
    )
    spec = calendar_for(policy, terms)
    calendar = spec.model_dump(mode="json")
    ticket.kind, ticket.priority, ticket.tier = plan.kind, plan.priority, plan.tier
    ticket.charge = charge.to_dict() if charge is not None else None
    ticket.sla.policy = policy.id
    ticket.sla.policy_version = policy.version
    ticket.sla.calendar = calendar
    ticket.sla.calendar_version = calendar_version(calendar)
    ticket.sla.terms_version = terms_version(tenant_doc)
    ticket.sla.first_response_met_by = plan.first_response_met_by
    targets = sla.retarget_all(
        targets_of(ticket),
        plan.targets,
        lambda clock: clock_for(clock, spec),
        ticket.reported_at,
        now,
    )
    set_targets(ticket, targets)


def _logged(value: Any) -> int:
    """The minutes agents logged (fields.logged_minutes, C4); anything else is none."""
    return max(value, 0) if isinstance(value, int) and not isinstance(value, bool) else 0


# ------------------------------------------------------------------ the checker's side


class Lookups:
    """A per-run memo of what re-targeting reads: each policy and tenant is read at
    most once per checker run or request (a missing one is remembered as None)."""

    def __init__(self) -> None:
        self._policies: dict[str, Policy | None] = {}
        self._tenants: dict[str, dict[str, Any] | None] = {}
        self._calendars: dict[tuple[str, str, int], str | None] = {}

    def policy(self, policy_id: str) -> Policy | None:
        """The current policy of that id (stored copy or shipped), or None."""
        if policy_id not in self._policies:
            from chalicelib.services import policies

            self._policies[policy_id] = policies.find(policy_id)
        return self._policies[policy_id]

    def tenant(self, tenant_id: str) -> dict[str, Any] | None:
        """The customer tenant's document (API.md, Tenant), or None."""
        if tenant_id not in self._tenants:
            from chalicelib.services.tenants import CUSTOMER, tenant_doc
            from chalicelib.store import tenants as tenant_store

            item = tenant_store.get_tenant(tenant_id)
            ok = item is not None and item.kind == CUSTOMER
            self._tenants[tenant_id] = tenant_doc(item.doc) if item is not None and ok else None
        return self._tenants[tenant_id]

    def remember_policy(self, policy: Policy) -> None:
        """Seed with a policy just written (a read could still see the old one)."""
        self._policies[policy.id] = policy

    def remember_tenant(self, tenant_id: str, doc: dict[str, Any]) -> None:
        """Seed with a tenant document just written."""
        self._tenants[tenant_id] = doc
        self._calendars = {k: v for k, v in self._calendars.items() if k[0] != tenant_id}

    def calendar_version(self, tenant_id: str, policy: Policy) -> str | None:
        """The version of the tenant's effective calendar under `policy`, or None
        when the two no longer make a valid calendar."""
        key = (tenant_id, policy.id, policy.version)
        if key not in self._calendars:
            doc = self.tenant(tenant_id) or {}
            try:
                self._calendars[key] = calendar_version(current_calendar(policy, doc))
            except DomainError:
                self._calendars[key] = None
        return self._calendars[key]


def refresh_if_stale(
    ticket: Ticket,
    now: datetime,
    lookups: Lookups,
    events: list[dict[str, Any]] | None = None,
) -> bool:
    """E9 before an alert is decided: when the ticket's targets were computed with
    another policy (the tenant's policy changed), an older version of its policy,
    or another calendar, re-target it in memory and return True; the caller
    commits the ticket, with the `policy.retargeted` history entry appended to
    `events` (pass the list you commit). Closed tickets and tickets whose tenant
    or policy is gone are left alone (False). A ticket that no longer fits the
    policy keeps its targets (see `_retarget`); never raises a DomainError."""
    return _refresh(ticket, now, lookups, events, SYSTEM_ACTOR, "stale", force=False)


# ------------------------------------------------------------------ the batches


@dataclass(frozen=True)
class Outcome:
    retargeted: int  # committed with a `policy.retargeted` entry by this request
    # Open tickets left for the checker (not reached, or lost races); None: unknown.
    remaining: int | None


def retarget_policy(policy: Policy, now: datetime, actor: dict[str, Any]) -> Outcome:
    """E9 after a policy PUT: re-target the first `BATCH_SIZE` open tickets under it
    (oldest first), and count the open ones left for the checker. Calls: one Query
    of the keys-only index, one BatchGetItem, one GetItem per distinct tenant, one
    transaction per ticket, and one Select=COUNT Query when more are left."""
    lookups = Lookups()
    lookups.remember_policy(policy)
    ids, more = ticket_store.open_ids_by_policy(policy.id, BATCH_SIZE)
    found = ticket_store.get_many(ids) if ids else {}
    done = failed = 0
    for ticket_id in ids:
        result = _commit_one(ticket_id, found.get(ticket_id), now, lookups, actor, force=False)
        done += result == "retargeted"
        failed += result == "failed"
    left = ticket_store.count_open_by_policy(policy.id, after=ids[-1]) if more else 0
    if left or failed:  # the checker finishes what remains (continue_jobs)
        jobs.save(
            policy.id, policy.version, ids[-1] if more and not failed else None, format_instant(now)
        )
    return Outcome(retargeted=done, remaining=failed + left)


def continue_jobs(now: datetime, lookups: Lookups, budget: int = BATCH_SIZE) -> int:
    """Each checker run: re-target the next batch of every policy change a PUT did
    not finish (one Query for the jobs, then per job one index Query, one
    BatchGetItem and a transaction per stale ticket). Returns tickets re-targeted."""
    done = 0
    for job in jobs.pending():
        ids, more = ticket_store.open_ids_by_policy(job.policy_id, budget, after=job.after)
        found = ticket_store.get_many(ids) if ids else {}
        failed = 0
        for ticket_id in ids:
            result = _commit_one(
                ticket_id, found.get(ticket_id), now, lookups, SYSTEM_ACTOR, force=False
            )
            done += result == "retargeted"
            failed += result == "failed"
        if more:
            jobs.save(job.policy_id, int(job.version), ids[-1], format_instant(now))
        elif failed:
            jobs.save(job.policy_id, int(job.version), None, format_instant(now))
        else:
            jobs.done(job)
    return done


def retarget_tenant(
    tenant_id: str, before: dict[str, Any], after: dict[str, Any], now: datetime
) -> Outcome:
    """E7/E9 after a tenant PATCH that changed what its targets depend on (policy,
    tier, contract, calendar): re-plan its newest `BATCH_SIZE` open tickets. Older
    ones are left to the checker; `remaining` is None when more may exist (how
    many is unknown: counting them would read every ticket of the tenant).
    The tickets not reached carry the old terms version (tier, contract) or
    calendar version, so the checker re-targets each before its next alert."""
    if all(before.get(name) == after.get(name) for name in TARGET_TERMS):
        return Outcome(retargeted=0, remaining=0)
    lookups = Lookups()
    lookups.remember_tenant(tenant_id, after)
    found, more = ticket_store.open_for_tenant(tenant_id, BATCH_SIZE)
    done = failed = 0
    for ticket in found:
        result = _commit_one(ticket.id, ticket, now, lookups, SYSTEM_ACTOR, force=True)
        done += result == "retargeted"
        failed += result == "failed"
    return Outcome(retargeted=done, remaining=None if more else failed)


# ------------------------------------------------------------------ internals


def _commit_one(
    ticket_id: str,
    ticket: Ticket | None,
    now: datetime,
    lookups: Lookups,
    actor: dict[str, Any],
    *,
    force: bool,
) -> Literal["retargeted", "current", "gone", "failed"]:
    """Re-target one ticket and commit it with its history entry; a lost race
    (Conflict) reads it again, `RETRIES` times."""
    cause = "tenant.updated" if force else "policy.updated"
    for _ in range(RETRIES + 1):
        if ticket is None:
            ticket = ticket_store.get(ticket_id)
            if ticket is None:
                return "gone"
        events: list[dict[str, Any]] = []
        if not _refresh(ticket, now, lookups, events, actor, cause, force=force):
            return "current"
        try:
            tickets.commit(ticket, events, now)
        except Conflict:
            ticket = None
            continue
        return "retargeted"
    return "failed"


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
    if ticket.status == "closed":
        return False
    tenant = lookups.tenant(ticket.tenant_id)
    policy = lookups.policy(tenant["policy"]) if tenant and tenant.get("policy") else None
    if tenant is None or policy is None:
        return False
    current = lookups.calendar_version(ticket.tenant_id, policy)
    stale = (
        ticket.sla.policy != policy.id
        or ticket.sla.policy_version != policy.version
        or (current is not None and ticket.sla.calendar_version != current)
        or ticket.sla.terms_version != terms_version(tenant)
    )
    if not (stale or force):
        return False
    before = ticket.charge
    entry = _retarget(ticket, policy, tenant, now, cause)
    if events is not None:
        events.append(ticket_store.event(str(ULID()), now, EVENT_TYPE, actor, entry))
        events.extend(charge_events(before, ticket, now, actor))
    return True


def _retarget(
    ticket: Ticket, policy: Policy, tenant: dict[str, Any], now: datetime, cause: str
) -> dict[str, Any]:
    """Re-plan the ticket under `policy` and the tenant's terms; the data of its
    history entry. A ticket that no longer fits (its kind or priority left the
    policy, its channel left the contract) keeps its targets, measured on the
    calendar now in force, and the entry says why: never an error."""
    data: dict[str, Any] = {
        "cause": cause,
        "old_policy": ticket.sla.policy,
        "old_policy_version": ticket.sla.policy_version,
        "old_calendar_version": ticket.sla.calendar_version,
    }
    try:
        replan(ticket, policy, tenant, now)
    except DomainError as e:
        _keep_targets(ticket, policy, tenant, now)
        data.update(kept_targets=True, reason=str(e), fields=e.fields)
    ticket.updated_at = now
    data.update(
        policy=ticket.sla.policy,
        new_policy_version=ticket.sla.policy_version,
        new_calendar_version=ticket.sla.calendar_version,
    )
    return data


def _keep_targets(ticket: Ticket, policy: Policy, tenant: dict[str, Any], now: datetime) -> None:
    """The ticket's targets stay (metric, clock, duration, ladder), re-measured on
    the calendar now in force; its versions become the current ones so it is not
    tried again on every checker run."""
    ticket.sla.policy = policy.id
    ticket.sla.policy_version = policy.version
    ticket.sla.terms_version = terms_version(tenant)
    try:
        spec = calendar_for(policy, TenantTerms.from_tenant_doc(tenant))
    except DomainError:
        return  # no valid calendar now: the one it had stays
    calendar = spec.model_dump(mode="json")
    ticket.sla.calendar = calendar
    ticket.sla.calendar_version = calendar_version(calendar)
    kept = [
        sla.retarget(
            target,
            sla.TargetSpec(target.metric, target.clock, target.target_seconds, target.ladder),
            clock_for(target.clock, spec),
            now,
        )
        for target in targets_of(ticket)
    ]
    set_targets(ticket, kept)
