"""What-if (docs/api.md, "What-if: a draft policy against real tickets"): the
tickets under a policy reported in a window, each replayed from its own history
through the aggregate (`chalicelib.domain.replay`) under the stored policy and
under a draft; the SLA report both ways (counted by the report's own `Tally`) and
the targets that change. Nothing is stored, published or re-targeted.

Reads: the policy (GetItem), the customers under it (a Query of the customers
index and a GetItem per customer, or the one named), a Select=COUNT Query of each
one's tickets_by_reported index (keys only: the 2,000 bound is checked before any
ticket is read, `_within_bound`), then the tickets (a Query of that index per MB,
a BatchGetItem per 100 tickets) and one Query per ticket for its history,
`HISTORY_THREADS` at a time.

Also `reality_check`: replay under the stored policy against what is stored, the
proof that every rule of a ticket lives in the aggregate.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain import replay
from chalicelib.domain.instants import format_instant
from chalicelib.domain.policy import Policy
from chalicelib.domain.terms import SlaBasis
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import RuleRefused, TenantNotFound, TicketNotFound
from chalicelib.services.policies import POLICY_ID, PolicyNotFound, validate_document
from chalicelib.services.reports import Tally, check_range, priorities_of
from chalicelib.store import policies as policy_store
from chalicelib.store import tenants as tenant_store
from chalicelib.store import tickets as ticket_store

MAX_TICKETS = 2_000
MAX_CHANGED = 100
HISTORY_THREADS = 16
# What a request may spend replaying (the function times out at 25 s, API Gateway
# at 29 s): 2,000 tickets take about 10 s of one vCPU (docs/writing-policies.md,
# Cost; the API function has 1,769 MB, one vCPU). A simulation that would run past
# it stops with a 422 that says so, never a gateway timeout.
REPLAY_SECONDS = 20.0


class SimulationTooLong(RuleRefused):
    def __init__(self, done: int, count: int) -> None:
        super().__init__(
            f"the simulation replayed {done} of {count} tickets in {REPLAY_SECONDS:g} s and "
            "stopped: narrow the range or name a tenant",
            {"to": f"{count} tickets take longer than a request may run"},
            code="simulation_too_long",
        )


class TooManyTickets(RuleRefused):
    def __init__(self, count: int) -> None:
        super().__init__(
            f"{count} tickets are under the policy in that range; a simulation replays "
            f"at most {MAX_TICKETS}: narrow the range or name a tenant",
            {"to": f"{count} tickets in the range, at most {MAX_TICKETS}"},
            code="too_many_tickets",
        )


@dataclass(frozen=True)
class Case:
    """One ticket to replay: the stored ticket, its history, its tenant's terms."""

    ticket: Ticket
    history: list[dict[str, Any]]
    tenant_doc: dict[str, Any]


def _stored_policy(policy_id: str) -> Policy:
    policy = (
        policy_store.find(policy_id, consistent=True) if POLICY_ID.fullmatch(policy_id) else None
    )
    if policy is None:
        raise PolicyNotFound(policy_id)
    return policy


def _tenants(policy_id: str, tenant_id: str | None) -> dict[str, dict[str, Any]]:
    """The customers under the policy (or the one named, which must be), by id."""
    ids = [tenant_id] if tenant_id is not None else list(tenant_store.customer_ids())
    found: dict[str, dict[str, Any]] = {}
    for one in ids:
        item = tenant_store.get_customer(one)
        if item is None:
            if tenant_id is not None:
                raise TenantNotFound(one)
            continue
        doc = tenant_store.doc_of(item)
        if doc.get("policy") == policy_id:
            found[one] = doc
        elif tenant_id is not None:
            raise RuleRefused(
                f"tenant {one} is under policy {doc.get('policy')}, not {policy_id}",
                {"tenant_id": f"not under policy {policy_id}"},
                code="tenant_not_under_policy",
            )
    return found


def cases(
    policy_id: str, tenants: dict[str, dict[str, Any]], start: datetime, end: datetime
) -> list[Case]:
    """The tickets under the policy reported in [start, end), with their histories."""
    tickets = [
        t
        for one in tenants
        for t in ticket_store.reported_between(one, start, end)
        if t.sla.policy == policy_id
    ]
    histories = ticket_store.histories([t.id for t in tickets], HISTORY_THREADS)
    return [Case(t, histories[t.id], tenants[t.tenant_id]) for t in tickets]


def _within_bound(
    policy_id: str, tenants: dict[str, dict[str, Any]], start: datetime, end: datetime
) -> None:
    """TooManyTickets, naming how many, when more than MAX_TICKETS tickets under the
    policy were reported in [start, end). Counted on the index alone (keys: no
    ticket read) when its entries, every ticket of those customers, are few enough;
    only past that are the tickets' items read to count those under the policy (a
    customer moved to it keeps its earlier tickets under the policy they had)."""
    entries = sum(ticket_store.count_reported_between(one, start, end) for one in tenants)
    if entries <= MAX_TICKETS:
        return
    count = sum(ticket_store.count_under_policy(one, start, end, policy_id) for one in tenants)
    if count > MAX_TICKETS:
        raise TooManyTickets(count)


def _states(ticket: Ticket | None, now: datetime) -> list[str]:
    return [v["state"] for v in replay.target_views(ticket, now).values()]


def compare(
    cases: Iterable[Case],
    stored: Policy,
    draft: Policy,
    now: datetime,
    *,
    deadline: float | None = None,
    expected: int = 0,
) -> dict[str, Any]:
    """The what-if answer for these cases (pure but for the clock passed in): the
    report of the stored tickets (`current`, as GET /reports/sla counts them), the
    report of their replays under `draft`, and the targets that differ. A ticket
    whose replay under the stored policy is not what is stored (`unreproduced`,
    with why) is compared replay against replay, so only the draft's effect shows.
    Past `deadline` (a `time.monotonic()` instant) it stops: SimulationTooLong."""
    current, drafted = Tally(), Tally()
    current.expect(priorities_of(stored))
    drafted.expect(priorities_of(draft))
    changed: list[dict[str, Any]] = []
    unreproduced: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    bases: dict[str, tuple[SlaBasis, SlaBasis]] = {}
    count = 0
    for case in cases:
        if deadline is not None and time.monotonic() > deadline:
            raise SimulationTooLong(count, max(expected, count))
        count += 1
        ticket = case.ticket
        if ticket.tenant_id not in bases:
            bases[ticket.tenant_id] = (
                SlaBasis.of(stored, case.tenant_doc),
                SlaBasis.of(draft, case.tenant_doc),
            )
        base, other = bases[ticket.tenant_id]
        again = replay.replay(ticket, case.history, base, now)
        under_draft = replay.replay(ticket, case.history, other, now)
        current.add(ticket.priority, _states(ticket, now))
        after = under_draft.ticket
        drafted.add(after.priority if after is not None else ticket.priority, _states(after, now))
        if under_draft.refused is not None:
            refused.append({"ticket_id": ticket.id, "reason": under_draft.refused})
        reference: Ticket | None = ticket
        differences = replay.differences(ticket, again, now)
        if differences:
            reasons = again.gaps or differences[:3]
            unreproduced.append({"ticket_id": ticket.id, "reasons": reasons})
            reference = again.ticket
        changed += replay.target_changes(ticket.id, reference, after, now)
    return {
        "tickets": count,
        "current": {"items": current.items()},
        "draft": {"items": drafted.items()},
        "changed": changed[:MAX_CHANGED],
        "changed_total": len(changed),
        "unreproduced": unreproduced[:MAX_CHANGED],
        "unreproduced_total": len(unreproduced),
        "refused": refused[:MAX_CHANGED],
    }


def simulate(
    policy_id: str,
    doc: dict[str, Any],
    start: datetime,
    end: datetime,
    tenant_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    """POST /admin/policies/{policy_id}/simulate: the draft `doc` checked as a PUT
    checks it (400 naming each bad field, under `policy.`), at most 400 days and
    2,000 tickets (422 naming the count), replayed both ways. Stores nothing."""
    stored = _stored_policy(policy_id)
    draft = validate_document(policy_id, doc, prefix="policy.")
    draft = draft.model_copy(update={"version": stored.version + 1})
    check_range(start, end)
    tenants = _tenants(policy_id, tenant_id)
    _within_bound(policy_id, tenants, start, end)
    deadline = time.monotonic() + REPLAY_SECONDS
    found = cases(policy_id, tenants, start, end)
    answer = compare(found, stored, draft, now, deadline=deadline, expected=len(found))
    return {
        "policy": policy_id,
        "policy_version": stored.version,
        "from": format_instant(start),
        "to": format_instant(end),
        "tenant_id": tenant_id,
        **answer,
    }


def reality_check(
    policy_id: str, start: datetime, end: datetime, now: datetime, tenant_id: str | None = None
) -> dict[str, list[str]]:
    """Replay equals reality: per ticket under the policy reported in [start, end)
    whose replay under the stored policy is not what is stored, what differs (and
    what the history lacks for it, `replay.GAP_*`). Empty: every rule held in
    the aggregate."""
    stored = _stored_policy(policy_id)
    tenants = _tenants(policy_id, tenant_id)
    found: dict[str, list[str]] = {}
    for case in cases(policy_id, tenants, start, end):
        differences = _check(case, stored, now)
        if differences:
            found[case.ticket.id] = differences
    return found


def check_ticket(ticket_id: str, now: datetime) -> list[str]:
    """Replay equals reality for one ticket (`reality_check`): what differs."""
    ticket = ticket_store.get(ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    tenant = tenant_store.get_customer(ticket.tenant_id)
    if tenant is None:
        raise TenantNotFound(ticket.tenant_id)
    case = Case(ticket, ticket_store.history(ticket_id), tenant_store.doc_of(tenant))
    return _check(case, _stored_policy(ticket.sla.policy), now)


def _check(case: Case, stored: Policy, now: datetime) -> list[str]:
    again = replay.replay(case.ticket, case.history, SlaBasis.of(stored, case.tenant_doc), now)
    differences = replay.differences(case.ticket, again, now)
    return again.gaps + differences if differences else []
