"""SLA report (API.md, GET /reports/sla): the tickets a tenant reported in
[from, to), per priority, judged by their own targets as of the request time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.instants import format_instant
from chalicelib.errors import BadRequest, TenantNotFound
from chalicelib.services.auth import Caller
from chalicelib.services.tickets import tenant_for
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
    policy = policies.find(policy_id)
    if policy is None:
        return []
    return list(dict.fromkeys(p for kind in policy.kinds.values() for p in kind.priorities))


def sla_report(
    caller: Caller, tenant_id: str | None, start: datetime, end: datetime, now: datetime
) -> dict[str, Any]:
    """Per priority: tickets, met, breached, achievement_pct = 100·met/(met+breached).
    One tenant (a customer's own, or the one an agent or admin names): one Query of
    its by_reported index. An agent or admin naming none gets every customer tenant
    summed (one Query of the customers index, then one per tenant)."""
    if end <= start:
        raise BadRequest("`to` must be after `from`", {"to": "must be after from"})
    if end - start > MAX_RANGE:
        raise BadRequest("the range is over 400 days", {"to": "at most 400 days after from"})
    every = tenant_id is None and caller.is_provider
    tenants = list(tenant_store.customer_ids()) if every else [tenant_for(caller, tenant_id)]
    rows: dict[str, _Row] = {}
    for one in tenants:
        tenant = tenant_store.get_customer(one)
        if tenant is None:
            raise TenantNotFound(one)
        for priority in _priorities(tenant_store.doc_of(tenant)["policy"]):
            rows.setdefault(priority, _Row())
        for ticket in store.reported_between(one, start, end):
            row = rows.setdefault(ticket.priority, _Row())
            row.tickets += 1
            verdict = judge(v["state"] for v in ticket.target_views(now))
            if verdict == "met":
                row.met += 1
            elif verdict == "breached":
                row.breached += 1
    return {
        "from": format_instant(start),
        "to": format_instant(end),
        "tenant_id": None if every else tenants[0],
        "items": [row.item(priority) for priority, row in rows.items()],
    }
