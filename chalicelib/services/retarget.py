"""Re-targeting (E7, E9): compute a ticket's plan again, from its current
priority/kind/tier or from a changed policy or calendar, and reconcile its
targets with it against the time already elapsed (the domain does the maths)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain import sla
from chalicelib.domain.policy import Intake, TenantTerms, calendar_for, clock_for, plan_ticket
from chalicelib.domain.ticket import Ticket
from chalicelib.services.tickets import calendar_version, set_targets, targets_of

if TYPE_CHECKING:
    from chalicelib.domain.policy import Policy


def current_calendar(policy: Policy, tenant_doc: dict[str, Any]) -> dict[str, Any]:
    """The effective calendar (policy's, overridden by the tenant's) as stored JSON."""
    spec = calendar_for(policy, TenantTerms.from_tenant_doc(tenant_doc))
    calendar: dict[str, Any] = spec.model_dump(mode="json")
    return calendar


def is_stale(ticket: Ticket, policy: Policy, tenant_doc: dict[str, Any]) -> bool:
    """E9: were this ticket's targets computed with an older policy or calendar?"""
    return ticket.sla.policy_version != policy.version or ticket.sla.calendar_version != (
        calendar_version(current_calendar(policy, tenant_doc))
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
    when the new values are not the policy's (a 400 for the API)."""
    terms = TenantTerms.from_tenant_doc(tenant_doc)
    plan = plan_ticket(
        policy,
        terms,
        Intake(
            kind=kind or ticket.kind,
            priority=priority or ticket.priority,
            channel=ticket.channel,
            fields=ticket.fields,
            integration=ticket.integration,
            tier=tier,
            description=ticket.description,
        ),
        ticket.reported_at,
    )
    spec = calendar_for(policy, terms)
    calendar = spec.model_dump(mode="json")
    ticket.kind, ticket.priority, ticket.tier = plan.kind, plan.priority, plan.tier
    ticket.sla.policy_version = policy.version
    ticket.sla.calendar = calendar
    ticket.sla.calendar_version = calendar_version(calendar)
    ticket.sla.first_response_met_by = plan.first_response_met_by
    targets = sla.retarget_all(
        targets_of(ticket),
        plan.targets,
        lambda clock: clock_for(clock, spec),
        ticket.reported_at,
        now,
    )
    set_targets(ticket, targets)
