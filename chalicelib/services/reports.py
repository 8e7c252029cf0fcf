"""Reports (docs/api.md): GET /reports/sla, the tickets a tenant reported in [from, to)
per priority, judged by their own targets as of the request time; and GET
/reports/charges, the same tickets' charges per tenant and currency (C4, DX3,
DX4).

Neither reads the tickets of the whole UTC days in the range: their counters
(`domain.report_counts`, `store.report_counts`) are one Query, whatever the
number of tickets; the SLA report judges anew the tickets due since they were
written (one Query of the sparse unsettled index, then their items). Only the parts of a day at
either end of a range that does not start or end at midnight UTC are read
ticket by ticket (the tenant's tickets_by_reported index, then their items), as
every range was before."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from chalicelib.domain import charges
from chalicelib.domain import report_counts as counters
from chalicelib.domain.instants import format_instant
from chalicelib.domain.policy import Policy
from chalicelib.domain.report_counts import judge
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import BadRequest, TenantNotFound, TicketUnreadable
from chalicelib.services import unit_of_work
from chalicelib.services.auth import Caller, tenant_for
from chalicelib.services.unit_of_work import SYSTEM_ACTOR, UnitOfWork
from chalicelib.store import policies
from chalicelib.store import report_counts as counter_store
from chalicelib.store import tenants as tenant_store
from chalicelib.store import tickets as store

__all__ = [
    "Tally",
    "charges_report",
    "check_range",
    "count_existing",
    "judge",
    "priorities_of",
    "sla_report",
]

MAX_RANGE = timedelta(days=400)


@dataclass
class _Row:
    tickets: int = 0
    met: int = 0
    breached: int = 0

    def item(self, priority: str) -> dict[str, Any]:
        judged = self.met + self.breached
        pct = round(100 * self.met / judged, 2) if judged else None
        return {
            "priority": priority,
            "tickets": self.tickets,
            "met": self.met,
            "breached": self.breached,
            "achievement_pct": pct,
        }


class Tally:
    """The rows of an SLA report (docs/api.md, GET /reports/sla): per priority,
    tickets, met and breached, in the order priorities were first expected or
    seen. What-if (`services.whatif`) counts its two reports with it too."""

    def __init__(self) -> None:
        self._rows: dict[str, _Row] = {}

    def expect(self, priorities: Iterable[str]) -> None:
        """Rows for these priorities even without a ticket (zeros)."""
        for priority in priorities:
            self._rows.setdefault(priority, _Row())

    def add(self, priority: str, states: Iterable[str]) -> None:
        """One ticket of that priority, judged by its targets' states (`judge`)."""
        self.count(priority, **counters.verdict_counts(judge(states)))

    def count(self, priority: str, tickets: int = 0, met: int = 0, breached: int = 0) -> None:
        """Sums of that priority (a day's counters; a ticket breached since its record).
        Sums of nothing (a day's counter whose tickets all moved to another priority)
        add no row: reading every ticket would not show that priority."""
        if not (tickets or met or breached):
            return
        row = self._rows.setdefault(priority, _Row())
        row.tickets += tickets
        row.met += met
        row.breached += breached

    def items(self) -> list[dict[str, Any]]:
        return [row.item(priority) for priority, row in self._rows.items()]


def _priorities(policy_id: str) -> list[str]:
    """The policy's priorities in the order its kinds list them (rows with zeros)."""
    return priorities_of(policies.find(policy_id))


def priorities_of(policy: Policy | None) -> list[str]:
    """A policy's priorities in the order its kinds list them."""
    if policy is None:
        return []
    return list(dict.fromkeys(p for kind in policy.kinds.values() for p in kind.priorities))


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise BadRequest("`to` must be after `from`", {"to": "must be after from"})
    if end - start > MAX_RANGE:
        raise BadRequest("the range is over 400 days", {"to": "at most 400 days after from"})


Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class _Split:
    """A range as the reports read it: the whole UTC days [first, end) from the
    counters (`days`, None when it holds none), the part of a day before and after
    them ticket by ticket."""

    before: Window | None
    days: tuple[date, date] | None = None
    after: Window | None = None

    def counted(self, reported_at: datetime) -> bool:
        """Whether a ticket reported then is in the counted days."""
        day = reported_at.astimezone(UTC).date()
        return self.days is not None and self.days[0] <= day < self.days[1]


def _split(start: datetime, end: datetime) -> _Split:
    """The whole UTC days of [start, end) and the part of a day at either end."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first = start.date() if start.time() == time(0) else start.date() + timedelta(days=1)
    last = end.date()
    if first >= last:
        return _Split((start, end))
    first_at = datetime.combine(first, time(0), UTC)
    last_at = datetime.combine(last, time(0), UTC)
    return _Split(
        (start, first_at) if start < first_at else None,
        (first, last),
        (last_at, end) if last_at < end else None,
    )


def _tickets(tenant_id: str, window: Window | None) -> Iterator[Ticket]:
    """The tickets reported in a part of a day (none without one)."""
    if window is not None:
        yield from store.reported_between(tenant_id, *window)


def _due_since_written(tenant_id: str, split: _Split, now: datetime) -> Iterator[Ticket]:
    """The tickets of the counted days a target of which may have passed its due
    instant since they were written: the unsettled index's entries due by now,
    each one's item read (consistent BatchGetItem, only when there are any)."""
    ids = list(counter_store.due_ids(tenant_id, now))
    found = store.get_many(ids) if ids else {}
    return (t for t in found.values() if t.counted and split.counted(t.reported_at))


def _sla_rows(tally: Tally, tenant_id: str, split: _Split, now: datetime) -> None:
    """A tenant's tickets of the range into `tally`, in the order they were reported."""
    for ticket in _tickets(tenant_id, split.before):
        tally.add(ticket.priority, (v["state"] for v in ticket.target_views(now)))
    if split.days is not None:
        for priority, sums in counter_store.days(tenant_id, counters.SLA, *split.days):
            tally.count(
                priority,
                int(sums.get("tickets", 0)),
                int(sums.get("met", 0)),
                int(sums.get("breached", 0)),
            )
        for ticket in _due_since_written(tenant_id, split, now):
            # counted on its record; judged as of now instead (a target passed its due)
            counted = counters.verdict_counts(counters.settled_verdict(ticket))
            now_ = counters.verdict_counts(judge(v["state"] for v in ticket.target_views(now)))
            tally.count(ticket.priority, **{k: now_[k] - counted[k] for k in counted})
    for ticket in _tickets(tenant_id, split.after):
        tally.add(ticket.priority, (v["state"] for v in ticket.target_views(now)))


def _charge_parts(tenant_id: str, split: _Split) -> Iterator[charges.Charge | charges.ReportRow]:
    """A tenant's charges of the range, in the order they were reported: each
    ticket's in the parts of a day, each counted day's sums per currency."""
    yield from (t.charge for t in _tickets(tenant_id, split.before) if t.charge)
    if split.days is not None:
        for currency, sums in counter_store.days(tenant_id, counters.CHARGES, *split.days):
            if sums.get("charges"):
                yield charges.ReportRow(
                    tenant_id,
                    currency,
                    int(sums.get("charged", 0)),
                    int(sums.get("waived", 0)),
                    int(sums.get("minutes", 0)),
                    charges.ZERO + sums.get("amount_due", 0),
                )
    yield from (t.charge for t in _tickets(tenant_id, split.after) if t.charge)


def _tenants(caller: Caller, tenant_id: str | None) -> tuple[bool, list[str]]:
    """Whether the report covers every customer (an agent or admin naming none),
    and the tenant ids it reads (a customer: its own; another's is a 403)."""
    every = tenant_id is None and caller.is_provider
    return every, list(tenant_store.customer_ids()) if every else [tenant_for(caller, tenant_id)]


def sla_report(
    caller: Caller, tenant_id: str | None, start: datetime, end: datetime, now: datetime
) -> dict[str, Any]:
    """Per priority: tickets, met, breached, achievement_pct = 100·met/(met+breached).
    One tenant (a customer's own, or the one an agent or admin names): one Query of
    its counters and one of its unsettled index, a BatchGetItem of the tickets due
    since written if any (plus, per end of the range not at midnight UTC, one Query
    of its tickets_by_reported index and a BatchGetItem of the tickets it lists, per
    100). An agent or admin naming none gets
    every customer tenant summed (one Query of the customers index, then those per
    tenant)."""
    check_range(start, end)
    every, tenants = _tenants(caller, tenant_id)
    split = _split(start, end)
    tally = Tally()
    for one in tenants:
        tenant = tenant_store.get_customer(one)
        if tenant is None:
            raise TenantNotFound(one)
        tally.expect(_priorities(tenant_store.doc_of(tenant)["policy"]))
        _sla_rows(tally, one, split, now)
    return {
        "from": format_instant(start),
        "to": format_instant(end),
        "tenant_id": None if every else tenants[0],
        "items": tally.items(),
    }


def _currency(policy: Policy | None, doc: dict[str, Any]) -> str | None:
    """A billing tenant's own currency (its `billing.currency`, else its policy's);
    None when its policy does not bill."""
    if policy is None or policy.billing is None or not policy.billing.bills:
        return None
    own = (doc.get("billing") or {}).get("currency")
    return str(own) if own else policy.billing.currency


def charges_report(
    caller: Caller, tenant_id: str | None, start: datetime, end: datetime
) -> dict[str, Any]:
    """Per tenant and currency, the charges of the tickets reported in [from, to):
    `tickets_charged` (approved, invoiced or paid), `tickets_waived` (DX4), `hours`
    (billable hours logged, C4) and `amount_due` (charged, not yet paid), as
    decimal strings. A tenant whose policy bills has a row in its currency even
    with no ticket; one whose policy does not bill has rows only for the charges
    its tickets kept. Calls: per tenant one GetItem and one Query of its counters
    (plus the ends of the range not at midnight UTC, as `sla_report` reads them);
    per distinct policy one GetItem; every customer: one Query of the customers
    index first."""
    every, tenants = _tenants(caller, tenant_id)  # a customer naming another: 403 first
    check_range(start, end)
    split = _split(start, end)
    found: dict[str, Policy | None] = {}
    items: list[dict[str, Any]] = []
    for one in tenants:
        tenant = tenant_store.get_customer(one)
        if tenant is None:
            raise TenantNotFound(one)
        doc = tenant_store.doc_of(tenant)
        policy_id = str(doc.get("policy"))
        if policy_id not in found:
            found[policy_id] = policies.find(policy_id)
        rows = charges.report_rows(one, _currency(found[policy_id], doc), _charge_parts(one, split))
        items += [row.item() for row in rows]
    return {
        "from": format_instant(start),
        "to": format_instant(end),
        "tenant_id": None if every else tenants[0],
        "items": items,
    }


def count_existing(now: datetime, tenant_id: str | None = None) -> dict[str, int]:
    """Put the tickets written before the counters existed into them (`python -m
    chalicelib.cli backfill-report-counts`, once after the deploy that adds them,
    docs/deploy.md), every customer's or one tenant's: each one committed again,
    unchanged, through the unit of work, whose commit adds a ticket the counters do
    not hold yet. Safe to run again, and meanwhile: a ticket counted since (by any
    change) is left alone. An unreadable item (`TicketUnreadable`, logged) is
    skipped: an operator mends it, then runs this again."""

    def attempt(uow: UnitOfWork, ticket_id: str) -> bool:
        ticket = uow.get(ticket_id)
        if ticket is None or ticket.counted:
            return False
        uow.commit()
        return True

    tenants = counted = skipped = 0
    for one in [tenant_id] if tenant_id is not None else tenant_store.customer_ids():
        tenants += 1
        for ticket_id in store.uncounted_ids(one):
            try:
                counted += unit_of_work.run(
                    partial(attempt, ticket_id=ticket_id), now, SYSTEM_ACTOR
                )
            except TicketUnreadable:
                skipped += 1
    return {"tenants": tenants, "tickets_counted": counted, "unreadable": skipped}
