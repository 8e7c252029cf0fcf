"""Use cases on tickets: open, read, list, history."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from ulid import ULID

from chalicelib.api.models import TicketBody
from chalicelib.domain.ticket import SlaState, Ticket
from chalicelib.errors import BadRequest, Forbidden, TicketNotFound
from chalicelib.services import policies
from chalicelib.services.auth import Caller
from chalicelib.store import tenants as tenant_store
from chalicelib.store import tickets as store

MAX_BACKDATE = timedelta(days=400)


def _actor(caller: Caller) -> dict[str, Any]:
    return {"role": caller.role, "key_id": caller.key_id, "partner_id": None}


def _tenant_for(caller: Caller, named: str | None) -> str:
    """A customer acts on its own tenant; a provider key must name one."""
    if not caller.is_provider:
        if named is not None and named != caller.tenant_id:
            raise Forbidden("a customer key acts on its own tenant only")
        return caller.tenant_id
    if named is None:
        raise BadRequest(
            "agent and admin keys must name the tenant",
            {"tenant_id": "required for agent and admin keys"},
        )
    return named


def calendar_version(calendar: dict[str, Any]) -> str:
    """A content hash: any change of hours, timezone or holidays is a new version (E9)."""
    raw = json.dumps(calendar, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def target_views(ticket: Ticket, now: datetime) -> list[dict[str, Any]]:
    from chalicelib.domain import sla
    from chalicelib.domain.calendar import CalendarSpec
    from chalicelib.domain.policy import clock_for

    spec = CalendarSpec.model_validate(ticket.sla.calendar)
    views = []
    for data in ticket.sla.targets:
        target = sla.Target.from_dict(data)
        views.append(sla.view(target, clock_for(target.clock, spec), now))
    return views


def view(ticket: Ticket, now: datetime) -> dict[str, Any]:
    return ticket.view(target_views(ticket, now))


def open_ticket(caller: Caller, body: TicketBody, now: datetime) -> dict[str, Any]:
    from chalicelib.domain import sla
    from chalicelib.domain.policy import Intake, TenantTerms, calendar_for, plan_ticket

    tenant_id = _tenant_for(caller, body.tenant_id)
    if body.reported_at is not None and not caller.is_provider:
        raise Forbidden("only agents and admins may back-date a ticket (reported_at)")
    reported_at = now
    if body.reported_at is not None:
        reported_at = body.reported_at.astimezone(now.tzinfo).replace(microsecond=0)
        if reported_at > now:
            raise BadRequest("reported_at is in the future", {"reported_at": "in the future"})
        if now - reported_at > MAX_BACKDATE:
            raise BadRequest(
                "reported_at is more than 400 days back", {"reported_at": "over 400 days back"}
            )
    tenant = tenant_store.get_tenant(tenant_id)
    if tenant is None or tenant.kind != "customer":
        if caller.is_provider:
            raise BadRequest("no such tenant", {"tenant_id": f"unknown tenant {tenant_id!r}"})
        raise Forbidden("this key's tenant no longer exists")
    doc = tenants_doc(tenant.doc)
    policy = policies.find(doc["policy"])
    if policy is None:
        raise BadRequest("the tenant's policy does not exist", {"policy": doc["policy"]})
    terms = TenantTerms.from_tenant_doc(doc)
    intake = Intake(
        kind=body.kind,
        priority=body.priority,
        channel=body.channel,
        fields=body.fields,
        integration=body.integration.model_dump() if body.integration else None,
        tier=body.tier,
        description=body.description,
    )
    plan = plan_ticket(policy, terms, intake, reported_at)
    calendar = calendar_for(policy, terms)
    targets = sla.start_targets(plan.targets, reported_at)
    calendar_json = calendar.model_dump(mode="json")
    ticket = Ticket(
        id=f"tkt_{ULID()}",
        tenant_id=tenant_id,
        title=body.title,
        description=body.description,
        kind=plan.kind,
        priority=plan.priority,
        channel=body.channel,
        status=plan.status,
        reported_at=reported_at,
        created_at=now,
        updated_at=now,
        contact=body.contact or caller.contact,
        tier=plan.tier,
        fields=body.fields,
        integration=dict(intake.integration) if intake.integration else None,
        sla=SlaState(
            policy=policy.id,
            policy_version=policy.version,
            calendar=calendar_json,
            calendar_version=calendar_version(calendar_json),
            first_response_met_by=plan.first_response_met_by,
            targets=[t.to_dict() for t in targets],
        ),
    )
    created = store.event(str(ULID()), now, "created", _actor(caller), {"status": ticket.status})
    store.insert(ticket, [created])
    return view(ticket, now)


def tenants_doc(doc: Any) -> dict[str, Any]:
    from chalicelib.store.models import plain

    result: dict[str, Any] = plain(doc)
    return result


def _visible(caller: Caller, ticket_id: str) -> Ticket:
    """The ticket, if this caller may see it; another tenant's answers 404 (as missing)."""
    if not ticket_id.startswith("tkt_") or len(ticket_id) > 40:
        raise TicketNotFound(ticket_id)
    ticket = store.get(ticket_id)
    if ticket is None or (not caller.is_provider and ticket.tenant_id != caller.tenant_id):
        raise TicketNotFound(ticket_id)
    return ticket


def get_ticket(caller: Caller, ticket_id: str, now: datetime) -> dict[str, Any]:
    return view(_visible(caller, ticket_id), now)


def list_tickets(
    caller: Caller, tenant_id: str | None, limit: int, cursor: str | None, now: datetime
) -> dict[str, Any]:
    tenant = _tenant_for(caller, tenant_id)
    tickets, next_cursor = store.list_for_tenant(tenant, limit, cursor)
    return {"items": [view(t, now) for t in tickets], "next_cursor": next_cursor}


def list_events(caller: Caller, ticket_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    _visible(caller, ticket_id)
    events, next_cursor = store.list_events(ticket_id, limit, cursor)
    return {"items": events, "next_cursor": next_cursor}
