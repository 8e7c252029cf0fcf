"""Use cases on tickets: open, read, list, history."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ulid import ULID

from chalicelib import alerts
from chalicelib.api.models import TicketBody
from chalicelib.domain import charges, sla
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
# The intake checks come before anything reads the reported instant (E3).
_ANY_INSTANT = datetime(2000, 1, 3, 12, tzinfo=UTC)
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
) -> list[OutboxItem]:
    """Write a ticket change with its history and the alerts it raised, all or
    nothing (Conflict when the ticket moved on meanwhile), then publish the
    alerts. Each alert is also a history entry of its own type."""
    items = [
        outbox.new_item(ticket.id, m["id"].split(":", 1)[1], m, format_instant(now), claim_until())
        for m in raised
    ]
    # An alert that a change event records (DX4: the `charge.waived` charge change
    # names its `alert_id`) is that event, placed where the alert goes; any other
    # alert is an event of its own type.
    recording = {e["data"].get("alert_id"): e for e in events if e["data"].get("alert_id")}
    alert_ids = {m["id"] for m in raised}
    history = [e for e in events if e["data"].get("alert_id") not in alert_ids]
    for m in raised:
        change = recording.get(m["id"])
        if change is not None:
            history.append(change)  # the write stamps ids in this order
        else:
            history.append(store.event(str(ULID()), now, m["type"], SYSTEM_ACTOR, _alert_data(m)))
    store.write(ticket, history, items, new=new)
    if publish and items:
        publish_items(items, now)
    return items


SYSTEM_ACTOR: dict[str, Any] = {"role": "system", "key_id": None, "partner_id": None}


def _alert_data(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k not in ("type", "tenant_id", "ticket_id")}


def charge_events(
    before: dict[str, Any] | None, ticket: Ticket, now: datetime, actor: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every charge change is a history event `charge.<status>` (the charge, and its
    previous status and amount), committed in the transaction of the change."""
    old, new = charges.from_stored(before), charges.from_stored(ticket.charge)
    type_ = charges.event_type(old, new)
    if type_ is None or new is None:
        return []
    return [store.event(str(ULID()), now, type_, actor, charges.event_data(old, new))]


def waiver(ticket: Ticket, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """DX4: when the target whose breach waives the ticket's fee reads breached at
    `now`, waive it (in memory): the `charge.waived` event and its alert, raised
    once per ticket (outbox key `charge.waived`). Nothing otherwise."""
    charge = charges.from_stored(ticket.charge)
    if charge is None or charge.waive_on is None:
        return [], []
    states = {v["metric"]: v["state"] for v in target_views(ticket, now)}
    waived = charges.waive(charge, states)
    if waived is None:
        return [], []
    ticket.charge = waived.to_dict()
    alert = alert_message(ticket, charges.WAIVED_ALERT, now, metric=charge.waive_on)
    data = {**charges.event_data(charge, waived), "alert_id": alert["id"]}
    event = store.event(str(ULID()), now, charges.WAIVED_ALERT, SYSTEM_ACTOR, data)
    return [event], [alert]


def view(ticket: Ticket, now: datetime) -> dict[str, Any]:
    return ticket.view(target_views(ticket, now))


def open_ticket(caller: Caller, body: TicketBody, now: datetime) -> dict[str, Any]:
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
    ticket_id = f"tkt_{ULID()}"
    contact = body.contact or caller.contact
    opening = charges.open_charge(  # C1-C4, DX1-DX5
        policy,
        terms,
        charges.BillingTerms.from_tenant_doc(doc),
        intake,
        plan,
        reported_at,
        contact=contact,
        ticket_id=ticket_id,
    )
    ticket = Ticket(
        id=ticket_id,
        tenant_id=tenant_id,
        title=body.title,
        description=body.description,
        kind=plan.kind,
        priority=plan.priority,
        channel=body.channel,
        status=opening.status or plan.status,
        reported_at=reported_at,
        created_at=now,
        updated_at=now,
        contact=contact,
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
        charge=opening.charge.to_dict() if opening.charge is not None else None,
    )
    set_targets(ticket, sla.start_targets(plan.targets, reported_at))
    created_data: dict[str, Any] = {"status": ticket.status}
    if opening.review:
        created_data["commercial_review"] = list(opening.review)  # DX5: why
    created = store.event(str(ULID()), now, "created", actor_of(caller), created_data)
    events = [created, *charge_events(None, ticket, now, actor_of(caller))]
    if opening.reply is not None:  # DX2: the automatic reply, a public system comment
        reply = {
            "body": opening.reply,
            "public": True,
            "met": [],
            "automatic": True,
            "locale": opening.locale,
        }
        events.append(store.event(str(ULID()), now, "comment", SYSTEM_ACTOR, reply))
    raised = [alert_message(ticket, alert, now) for alert in plan.alerts]  # K2
    raised += [  # DX5: keyed by the event, as a ticket may go back to the commercial team
        alert_message(ticket, alert, now, key=f"{alert}#{created['id']}")
        for alert in opening.alerts
    ]
    commit(ticket, events, now, raised=raised, new=True)
    return view(ticket, now)


def intake_errors(caller: Caller, raw: dict[str, Any]) -> dict[str, str]:
    """The policy's own checks of a POST /tickets body whose shape is invalid
    (`kind`, `priority`, `tier`, `description`, `fields.<name>`, ...), so that
    one 400 names every bad field. Best effort on what has the right type; none
    when the tenant or its policy cannot be read (the shape's errors say why)."""
    from chalicelib.domain.errors import DomainError
    from chalicelib.domain.policy import Intake, IntakeError, TenantTerms, plan_ticket

    def text(name: str) -> str | None:
        value = raw.get(name)
        return value if isinstance(value, str) else None

    tenant_id = text("tenant_id") if caller.is_provider else caller.tenant_id
    kind = text("kind")
    tenant = tenant_store.get_tenant(tenant_id) if tenant_id and kind else None
    if tenant is None or tenant.kind != "customer" or kind is None:
        return {}
    doc = tenant_doc(tenant.doc)
    policy = policies.find(str(doc.get("policy")))
    if policy is None:
        return {}
    fields, integration = raw.get("fields"), raw.get("integration")
    intake = Intake(
        kind=kind,
        priority=text("priority"),
        channel=text("channel") or "api",
        fields=fields if isinstance(fields, dict) else {},
        integration=integration if isinstance(integration, dict) else None,
        tier=text("tier"),
        description=text("description"),
    )
    try:
        plan_ticket(policy, TenantTerms.from_tenant_doc(doc), intake, _ANY_INSTANT)
    except IntakeError as e:
        found = dict(e.fields)
        if not isinstance(fields, dict):  # the shape already says `fields` is wrong
            found = {k: v for k, v in found.items() if not k.startswith("fields.")}
        return found
    except DomainError:  # a refused channel (403) is not a field of this 400
        return {}
    return {}


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
