"""Reports (docs/api.md): GET /reports/sla, the tickets a tenant reported in [from, to)
per priority, judged by their own targets as of the request time; and GET
/reports/charges, the same tickets' charges per tenant and currency (C4, DX3,
DX4). Both read one Query of the tenant's by_reported index, never a Scan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import charges
from chalicelib.domain.instants import format_instant
from chalicelib.domain.policy import Policy
from chalicelib.errors import BadRequest, TenantNotFound
from chalicelib.services.auth import Caller, tenant_for
from chalicelib.store import policies
from chalicelib.store import tenants as tenant_store
from chalicelib.store import tickets as store

MAX_RANGE = timedelta(days=400)  # one request reads every ticket of the range


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
        row = self._rows.setdefault(priority, _Row())
        row.tickets += 1
        verdict = judge(states)
        if verdict == "met":
            row.met += 1
        elif verdict == "breached":
            row.breached += 1

    def items(self) -> list[dict[str, Any]]:
        return [row.item(priority) for priority, row in self._rows.items()]


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
    its by_reported index. An agent or admin naming none gets every customer tenant
    summed (one Query of the customers index, then one per tenant)."""
    check_range(start, end)
    every, tenants = _tenants(caller, tenant_id)
    tally = Tally()
    for one in tenants:
        tenant = tenant_store.get_customer(one)
        if tenant is None:
            raise TenantNotFound(one)
        tally.expect(_priorities(tenant_store.doc_of(tenant)["policy"]))
        for ticket in store.reported_between(one, start, end):
            tally.add(ticket.priority, (v["state"] for v in ticket.target_views(now)))
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
    its tickets kept. Calls: per tenant one GetItem and one Query of its
    by_reported index (a page per MB of tickets); per distinct policy one GetItem;
    every customer: one Query of the customers index first."""
    every, tenants = _tenants(caller, tenant_id)  # a customer naming another: 403 first
    check_range(start, end)
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
        tickets = store.reported_between(one, start, end)
        rows = charges.report_rows(
            one, _currency(found[policy_id], doc), (t.charge for t in tickets if t.charge)
        )
        items += [row.item() for row in rows]
    return {
        "from": format_instant(start),
        "to": format_instant(end),
        "tenant_id": None if every else tenants[0],
        "items": items,
    }
