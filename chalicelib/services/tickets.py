"""Use cases on tickets: open, read, list, history."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ulid import ULID

from chalicelib import alerts
from chalicelib.api.models import TicketBody
from chalicelib.domain import sla
from chalicelib.domain.calendar import Clock
from chalicelib.domain.instants import format_instant
from chalicelib.domain.ticket import SlaState, Ticket
from chalicelib.errors import BadRequest, Forbidden, TicketNotFound
from chalicelib.services import policies
from chalicelib.services.auth import Caller
from chalicelib.services.outbox import claim_until, publish_items
from chalicelib.services.tenants import tenant_doc
from chalicelib.store import outbox
from chalicelib.store import tenants as tenant_store
from chalicelib.store import tickets as store
from chalicelib.store.models import OutboxItem

MAX_BACKDATE = timedelta(days=400)
TENANTS_PER_PAGE = 20  # tenants an every-customer list visits in one request


def actor_of(caller: Caller) -> dict[str, Any]:
    return {"role": caller.role, "key_id": caller.key_id, "partner_id": None}


def tenant_for(caller: Caller, named: str | None) -> str:
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


def terms_version(tenant_doc: dict[str, Any]) -> str:
    """A content hash of the tenant terms a plan reads besides the calendar (tier,
    contract: K1, A3, DX1): a change of them makes open tickets stale (E7/E9)."""
    return calendar_version(
        {"tier": tenant_doc.get("tier"), "contract": tenant_doc.get("contract")}
    )


def calendar_version(calendar: dict[str, Any]) -> str:
    """A content hash: any change of hours, timezone or holidays is a new version (E9)."""
    raw = json.dumps(calendar, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def clock_of(ticket: Ticket) -> Callable[[str], Clock]:
    """The ticket's clocks: `24x7`, or `business` on the calendar it was targeted with."""
    from chalicelib.domain.calendar import CalendarSpec
    from chalicelib.domain.policy import clock_for

    spec = CalendarSpec.model_validate(ticket.sla.calendar)
    return lambda kind: clock_for(kind, spec)


def targets_of(ticket: Ticket) -> list[sla.Target]:
    return [sla.Target.from_dict(data) for data in ticket.sla.targets]


def set_targets(ticket: Ticket, targets: list[sla.Target]) -> None:
    """Store new targets and move the ticket in the due index to its next threshold."""
    ticket.sla.targets = [t.to_dict() for t in targets]
    due = sla.earliest_threshold(targets, clock_of(ticket))
    ticket.due_at = int(due.timestamp()) if due is not None else None


def target_views(ticket: Ticket, now: datetime) -> list[dict[str, Any]]:
    clocks = clock_of(ticket)
    return [sla.view(t, clocks(t.clock), now) for t in targets_of(ticket)]


def alert_message(
    ticket: Ticket,
    type_: str,
    occurred_at: datetime,
    *,
    key: str | None = None,
    metric: str | None = None,
    level: int | None = None,
    threshold_pct: int | None = None,
    due_at: datetime | None = None,
) -> dict[str, Any]:
    return alerts.message(
        key=key or type_,
        type_=type_,
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.id,
        priority=ticket.priority,
        occurred_at=format_instant(occurred_at),
        metric=metric,
        level=level,
        threshold_pct=threshold_pct,
        due_at=format_instant(due_at) if due_at is not None else None,
    )


def commit(
    ticket: Ticket,
    events: list[dict[str, Any]],
    now: datetime,
    *,
    raised: Sequence[dict[str, Any]] = (),
    new: bool = False,
    publish: bool = True,
    extra: Sequence[store.TxItem] = (),
) -> list[OutboxItem]:
    """Write a ticket change with its history, the alerts it raised and `extra`
    items of other stores (a webhook's link and delivery), all or nothing
    (Conflict when the ticket moved on meanwhile), then publish the alerts. Each
    alert is also a history entry of its own type."""
    items = [
        outbox.new_item(ticket.id, m["id"].split(":", 1)[1], m, format_instant(now), claim_until())
        for m in raised
    ]
    history = events + [
        store.event(str(ULID()), now, m["type"], SYSTEM_ACTOR, _alert_data(m)) for m in raised
    ]
    store.write(ticket, history, items, new=new, extra=extra)
    if publish and items:
        publish_items(items, now)
    return items


SYSTEM_ACTOR: dict[str, Any] = {"role": "system", "key_id": None, "partner_id": None}


def _alert_data(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k not in ("type", "tenant_id", "ticket_id")}


def view(ticket: Ticket, now: datetime) -> dict[str, Any]:
    return ticket.view(target_views(ticket, now))


def open_ticket(
    caller: Caller,
    body: TicketBody,
    now: datetime,
    *,
    actor: dict[str, Any] | None = None,
    extra: Callable[[Ticket], Sequence[store.TxItem]] | None = None,
) -> dict[str, Any]:
    """POST /tickets. A webhook opens tickets too: `actor` is then the partner and
    `extra(ticket)` the items written in the same transaction (its link)."""
    from chalicelib.domain.policy import Intake, TenantTerms, calendar_for, plan_ticket

    tenant_id = tenant_for(caller, body.tenant_id)
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
    doc = tenant_doc(tenant.doc)
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
            terms_version=terms_version(doc),
            first_response_met_by=plan.first_response_met_by,
        ),
    )
    set_targets(ticket, sla.start_targets(plan.targets, reported_at))
    who = actor if actor is not None else actor_of(caller)
    created = store.event(str(ULID()), now, "created", who, {"status": ticket.status})
    raised = [alert_message(ticket, alert, now) for alert in plan.alerts]  # K2
    commit(ticket, [created], now, raised=raised, new=True, extra=extra(ticket) if extra else ())
    return view(ticket, now)


def visible_ticket(caller: Caller, ticket_id: str) -> Ticket:
    """The ticket, if this caller may see it; another tenant's answers 404 (as missing)."""
    if not ticket_id.startswith("tkt_") or len(ticket_id) > 40:
        raise TicketNotFound(ticket_id)
    ticket = store.get(ticket_id)
    if ticket is None or (not caller.is_provider and ticket.tenant_id != caller.tenant_id):
        raise TicketNotFound(ticket_id)
    return ticket


def get_ticket(caller: Caller, ticket_id: str, now: datetime) -> dict[str, Any]:
    return view(visible_ticket(caller, ticket_id), now)


def list_tickets(
    caller: Caller,
    tenant_id: str | None,
    limit: int,
    cursor: str | None,
    now: datetime,
    *,
    status: str | None = None,
    priority: str | None = None,
    breached: bool | None = None,
) -> dict[str, Any]:
    """A page of the tenant's tickets; `breached` reads the marker kept at every
    write (`domain.lifecycle.breach_recorded`), so a target that just reached its
    due instant is listed once the breach checker has written it."""
    filters: dict[str, Any] = {"status": status, "priority": priority, "breached": breached}
    if tenant_id is not None or not caller.is_provider:
        tenant = tenant_for(caller, tenant_id)
        tickets, next_cursor = store.list_for_tenant(tenant, limit, cursor, **filters)
        return {"items": [view(t, now) for t in tickets], "next_cursor": next_cursor}
    # An agent or admin naming no tenant: every customer, tenant after tenant (ids in
    # order), each tenant's newest first; the cursor says where to go on.
    start, inner = _every_cursor_decode(cursor)
    found: list[Ticket] = []
    for visited, tenant in enumerate(tenant_store.customer_ids(starting_at=start)):
        if visited == TENANTS_PER_PAGE:  # bounded work per request: go on next page
            return _every_page(found, now, {"at": tenant, "c": None})
        page, inner_next = store.list_for_tenant(
            tenant, limit - len(found), inner if tenant == start else None, **filters
        )
        found += page
        if inner_next is not None:
            return _every_page(found, now, {"at": tenant, "c": inner_next})
        if len(found) == limit:
            return _every_page(found, now, {"at": tenant + "\x00", "c": None})
    return _every_page(found, now, None)


def _every_page(
    found: list[Ticket], now: datetime, cursor: dict[str, Any] | None
) -> dict[str, Any]:
    from chalicelib.store.pages import encode_cursor

    return {"items": [view(t, now) for t in found], "next_cursor": encode_cursor(cursor)}


def _every_cursor_decode(cursor: str | None) -> tuple[str | None, str | None]:
    """(the tenant to start at, the cursor within it) of an every-tenant cursor."""
    from chalicelib.store.pages import invalid_cursor, open_cursor

    if cursor is None:
        return None, None
    bad = invalid_cursor()
    data = open_cursor(cursor)
    if not isinstance(data, dict) or set(data) != {"at", "c"}:
        raise bad
    at, inner = data["at"], data["c"]
    if not isinstance(at, str) or not 0 < len(at) <= 64:
        raise bad
    if inner is not None and (not isinstance(inner, str) or len(inner) > 2000):
        raise bad
    return at, inner


def list_events(caller: Caller, ticket_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    visible_ticket(caller, ticket_id)
    events, next_cursor = store.list_events(
        ticket_id, limit, cursor, public_only=not caller.is_provider
    )
    return {"items": events, "next_cursor": next_cursor}
