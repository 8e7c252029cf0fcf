"""Why a target is due when it is (docs/api.md, "Why a target is due when it
is"): per target of a ticket, the rules that set it, its timezone, and the steps
from its start to its due instant (`sla.steps`), which add up to its duration.

Pure: the ticket, its history entries (for the statuses of its pauses and the
changes it went through) and the SLA basis in force are passed in.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain import sla
from chalicelib.domain.errors import DomainError
from chalicelib.domain.instants import parse_instant
from chalicelib.domain.intake import Intake
from chalicelib.domain.planning import Plan, plan_ticket
from chalicelib.domain.terms import SlaBasis
from chalicelib.domain.ticket import Ticket

Entry = Mapping[str, Any]


def statuses(history: Sequence[Entry]) -> list[tuple[datetime, str]]:
    """The ticket's status over time, from the entries that record it (`created`
    and each action's `status`), oldest first."""
    out: list[tuple[datetime, str]] = []
    for entry in sorted(history, key=lambda e: str(e.get("id") or "")):
        status = (entry.get("data") or {}).get("status")
        if isinstance(status, str):
            out.append((parse_instant(str(entry["at"])), status))
    return out


def _plan(ticket: Ticket, basis: SlaBasis | None) -> Plan | None:
    """The plan the ticket's current kind, priority and tier get under `basis`
    (None when there is none for its policy, or the policy refuses them now)."""
    if basis is None or basis.policy.id != ticket.sla.policy:
        return None
    intake = Intake(
        kind=ticket.kind,
        priority=ticket.priority,
        channel=ticket.channel,
        fields=ticket.fields,
        integration=ticket.integration,
        tier=ticket.tier if ticket.tier in basis.policy.tiers else None,
        description=ticket.description,
    )
    try:
        return plan_ticket(basis.policy, basis.terms, intake, ticket.reported_at)
    except DomainError:
        return None


def _engine_rules(
    target: sla.Target, steps: Sequence[sla.Step], history: Sequence[Entry]
) -> list[str]:
    """The engine rules (POLICIES.md E*) that shaped a target's due instant."""
    types = {str(e.get("type")) for e in history}
    rules = ["E1"]
    if target.clock == "business":
        rules.append("E2")
    rules += ["E3", "E4"]
    if target.state == "met":
        rules.append("E5")
    if any(s.why == "paused" for s in steps):
        rules.append("E6")
    if "action.set_priority" in types:
        rules.append("E7")
    if "policy.retargeted" in types:
        rules.append("E9")
    return rules


def explain(
    ticket: Ticket, history: Sequence[Entry], basis: SlaBasis | None, now: datetime
) -> dict[str, Any]:
    """The explain answer: per target its `rules` (POLICIES.md ids: the policy's
    rule that set it and the engine rules that shaped it), `policy_rules` (the
    ids in the policy document: `A2.high`), `timezone`, `due_at` and `steps`.
    A policy rule is named only when the plan under `basis` gives the stored
    target (same clock and duration): after a policy change not applied yet, the
    engine rules alone are named."""
    plan = _plan(ticket, basis)
    planned = {spec.metric: spec for spec in plan.targets} if plan is not None else {}
    set_by = dict(plan.rules) if plan is not None else {}
    timeline = statuses(history)
    instants = [at for at, _ in timeline]

    def status_at(at: datetime) -> str | None:
        index = bisect_right(instants, at)
        return timeline[index - 1][1] if index else None

    targets: list[dict[str, Any]] = []
    for target in ticket.sla.targets:
        clock = ticket.clock(target.clock)
        view = sla.view(target, clock, now)
        walked = sla.steps(target, clock, now, status_at)
        spec = planned.get(target.metric)
        policy_rules: list[str] = []
        if spec is not None and (spec.clock, spec.seconds) == (target.clock, target.target_seconds):
            policy_rules.append(set_by[target.metric])
            if plan is not None and plan.priority_rule is not None:
                policy_rules.append(plan.priority_rule)
        named = [
            r.split(".", 1)[0] for r in policy_rules if not r.startswith(("target_", "priority_"))
        ]
        targets.append(
            {
                "metric": target.metric,
                "clock": target.clock,
                "target_seconds": target.target_seconds,
                "state": view["state"],
                "rules": list(dict.fromkeys(named + _engine_rules(target, walked, history))),
                "policy_rules": policy_rules,
                "timezone": ticket.sla.calendar.timezone,
                "started_at": view["started_at"],
                "due_at": view["due_at"],
                "steps": [step.to_dict() for step in walked],
            }
        )
    return {
        "ticket_id": ticket.id,
        "policy": ticket.sla.policy,
        "policy_version": ticket.sla.policy_version,
        "targets": targets,
    }
