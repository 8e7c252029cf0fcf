"""What one ticket adds to its tenant's report counters (docs/performance.md, Reports).

The reports (`services.reports`) count a day's tickets from counters kept per UTC
day of `reported_at`, instead of reading every ticket: per priority the tickets,
met and breached, judged on what the ticket's item records (`settled_verdict`);
per currency the charges, as `charges.ReportRow` adds one up. A change of a
ticket adds `delta(counts(before), counts(after))` to them in its own commit.

What the stored item alone does not say is a breach no run has recorded yet: a
running target whose due instant has passed. `unsettled_due` is the instant from
which a ticket not judged breached would be (the earliest due instant of its
running targets without a recorded breach); an index holds only such tickets by
that instant, and a report judges those past it anew, as of the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from chalicelib.domain import charges, sla
from chalicelib.domain.ticket import Ticket

SLA = "SLA"  # per (day, priority): tickets, met, breached
CHARGES = "CHARGES"  # per (day, currency): charges, charged, waived, minutes, amount_due

Amount = int | Decimal
Key = tuple[str, str, str]  # (SLA | CHARGES, day YYYY-MM-DD, priority | currency)
Counts = dict[Key, dict[str, Amount]]


def judge(states: Iterable[str]) -> str | None:
    """A ticket is `breached` if any target is breached, `met` if all its targets
    are met (cancelled ones no longer apply), else neither (still running, or no
    target at all, A7)."""
    live = [s for s in states if s != "cancelled"]
    if "breached" in live:
        return "breached"
    if live and all(s == "met" for s in live):
        return "met"
    return None


def settled_verdict(ticket: Ticket) -> str | None:
    """The ticket's verdict on the breaches recorded so far (no clock read)."""
    return judge(sla.shown_state(t, t.breached_at) for t in ticket.sla.targets)


def verdict_counts(verdict: str | None) -> dict[str, int]:
    """One ticket's `tickets`, `met` and `breached` for its verdict (`judge`)."""
    return {"tickets": 1, "met": int(verdict == "met"), "breached": int(verdict == "breached")}


def day_of(instant: datetime) -> str:
    """The counters' day of an instant: its UTC date."""
    return instant.astimezone(UTC).date().isoformat()


def counts(ticket: Ticket) -> Counts:
    """What this ticket, as it is now, adds to the counters of its reported day."""
    day = day_of(ticket.reported_at)
    found: Counts = {(SLA, day, ticket.priority): dict(verdict_counts(settled_verdict(ticket)))}
    charge = ticket.charge
    if charge is not None:
        row = charges.ReportRow(ticket.tenant_id, charge.currency)
        row.add(charge)
        found[(CHARGES, day, charge.currency)] = {
            "charges": 1,
            "charged": row.tickets_charged,
            "waived": row.tickets_waived,
            "minutes": row.minutes,
            "amount_due": row.amount_due,
        }
    return found


def delta(before: Counts, after: Counts) -> Counts:
    """What to add to the counters for a change from `before` to `after`: only the
    keys and fields that move."""
    moved: Counts = {}
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key, {}), after.get(key, {})
        fields = {f: new.get(f, 0) - old.get(f, 0) for f in dict.fromkeys([*old, *new])}
        fields = {f: v for f, v in fields.items() if v != 0}
        if fields:
            moved[key] = fields
    return moved


def unsettled_due(ticket: Ticket) -> datetime | None:
    """When this ticket, not judged breached on its record, becomes breached at
    the latest if nothing changes: the earliest due instant of its running targets
    without a recorded breach. None when it is judged breached already or no such
    target runs."""
    if settled_verdict(ticket) == "breached":
        return None
    dues = [
        due
        for t in ticket.sla.targets
        if t.state == "running"
        and t.breached_at is None
        and (due := sla.due_instant(t, ticket.clock(t.clock))) is not None
    ]
    return min(dues, default=None)
