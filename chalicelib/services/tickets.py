"""Use cases on tickets: open, read, list, history. A ticket's SLA state changes
in the aggregate (`chalicelib.domain.ticket.Ticket`); these read and commit it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ulid import ULID

from chalicelib.commands import TicketBody
from chalicelib.domain import proposal
from chalicelib.domain.errors import IntakeError
from chalicelib.domain.intake import Intake, check_intake
from chalicelib.domain.terms import SlaBasis
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import BadRequest, Forbidden, TicketNotFound
from chalicelib.services import unit_of_work
from chalicelib.services.auth import Caller, tenant_for
from chalicelib.services.unit_of_work import UnitOfWork, actor_of
from chalicelib.store import policies
from chalicelib.store import tenants as tenant_store
from chalicelib.store import tickets as store
from chalicelib.store.pages import encode_cursor, invalid_cursor, open_cursor

MAX_BACKDATE = timedelta(days=400)
# Where the opener of a `feature_request` follows it (A8): the register's list,
# relative to the API's base URL like every path of docs/api.md.
PROPOSALS_URL = "/proposals"
TENANTS_PER_PAGE = 20  # tenants an every-customer list visits in one request


def open_ticket(caller: Caller, body: TicketBody, now: datetime) -> dict[str, Any]:
    """POST /tickets: a customer opens a ticket on its tenant, an agent or admin on
    the one it names, maybe back-dated (`reported_at`)."""
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
    tenant = tenant_store.customer_doc(tenant_id)
    if tenant is None:
        if caller.is_provider:
            raise BadRequest("no such tenant", {"tenant_id": f"unknown tenant {tenant_id!r}"})
        raise Forbidden("this key's tenant no longer exists")
    ticket = create_ticket(
        tenant_id,
        tenant,
        body,
        reported_at,
        now,
        actor_of(caller),
        contact=body.contact or caller.contact,
    )
    view = ticket.view(now)
    if ticket.kind == proposal.REQUEST_KIND:  # A7: tracked only; A8: the register
        view["proposals_url"] = PROPOSALS_URL
    return view


def create_ticket(
    tenant_id: str,
    tenant_doc: dict[str, Any],
    body: TicketBody,
    reported_at: datetime,
    now: datetime,
    actor: dict[str, Any],
    *,
    contact: str | None = None,
    extra: Callable[[Ticket], Sequence[store.TxItem]] | None = None,
    context: dict[str, Any] | None = None,
) -> Ticket:
    """Plan and store a new ticket of a customer (its Tenant JSON): what its opening
    recorded (`created`, its charge, the DX2 automatic reply, the K2/DX5 alerts) in
    one transaction (with `extra(ticket)`, the items another store writes with it: a
    webhook's link). `body.channel` says how it came (`webhook` for a partner's);
    `reported_at` starts its clocks (E3)."""

    uow = unit_of_work.start(now, actor, context=context)  # new: no race to retry
    ticket = open_new(uow, tenant_id, tenant_doc, body, reported_at, contact=contact)
    if extra is not None:
        uow.also(*extra(ticket))
    uow.commit()
    return ticket


def open_new(
    uow: UnitOfWork,
    tenant_id: str,
    tenant_doc: dict[str, Any],
    body: TicketBody,
    reported_at: datetime,
    *,
    contact: str | None = None,
) -> Ticket:
    """A new ticket under the tenant's policy (E1), added to the unit of work."""
    policy = uow.lookups.policy(tenant_doc["policy"])
    if policy is None:
        raise BadRequest("the tenant's policy does not exist", {"policy": tenant_doc["policy"]})
    basis = SlaBasis.of(policy, tenant_doc)
    intake = Intake(
        kind=body.kind,
        priority=body.priority,
        channel=body.channel,
        fields=body.fields,
        integration=body.integration.model_dump() if body.integration else None,
        tier=body.tier,
        description=body.description,
    )
    ticket, _ = Ticket.open(
        ticket_id=f"tkt_{ULID()}",
        tenant_id=tenant_id,
        title=body.title,
        intake=intake,
        basis=basis,
        reported_at=reported_at,
        now=uow.now,
        contact=contact,
    )
    uow.add(ticket)
    return ticket


def intake_errors(caller: Caller, raw: dict[str, Any]) -> dict[str, str]:
    """The policy's own checks of a POST /tickets body whose shape is invalid
    (`kind`, `priority`, `tier`, `description`, `fields.<name>`, ...), so that
    one 400 names every bad field. Best effort on what has the right type; none
    when the tenant or its policy cannot be read (the shape's errors say why)."""

    def text(name: str) -> str | None:
        value = raw.get(name)
        return value if isinstance(value, str) else None

    tenant_id = text("tenant_id") if caller.is_provider else caller.tenant_id
    kind = text("kind")
    tenant = tenant_store.get_customer(tenant_id) if tenant_id and kind else None
    if tenant is None or kind is None:
        return {}
    policy = policies.find(str(tenant_store.doc_of(tenant).get("policy")))
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
        check_intake(policy, intake)
    except IntakeError as e:
        if not isinstance(fields, dict):  # the shape already says `fields` is wrong
            return {k: v for k, v in e.fields.items() if not k.startswith("fields.")}
        return dict(e.fields)
    return {}


def visible_ticket(
    caller: Caller, ticket_id: str, read: Callable[[str], Ticket | None] | None = None
) -> Ticket:
    """The ticket, if this caller may see it (read by `read`, a unit of work's
    `get`, else as stored now); another tenant's answers 404 (as missing)."""
    if not ticket_id.startswith("tkt_") or len(ticket_id) > 40:
        raise TicketNotFound(ticket_id)
    ticket = (read or unit_of_work.repository().get)(ticket_id)
    if ticket is None or (not caller.is_provider and ticket.tenant_id != caller.tenant_id):
        raise TicketNotFound(ticket_id)
    return ticket


def get_ticket(caller: Caller, ticket_id: str, now: datetime) -> dict[str, Any]:
    return visible_ticket(caller, ticket_id).view(now)


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
        return {"items": [t.view(now) for t in tickets], "next_cursor": next_cursor}
    # An agent or admin naming no tenant: every customer, tenant after tenant (ids in
    # order), each tenant's newest first; the cursor says where to go on.
    # The page's index entries, tenant after tenant, then its tickets in one read.
    start, inner = _every_cursor_decode(cursor)
    found: list[tuple[str, str]] = []

    def page(next_cursor: dict[str, Any] | None) -> dict[str, Any]:
        tickets = store.listed_tickets(found, **filters)
        return {"items": [t.view(now) for t in tickets], "next_cursor": encode_cursor(next_cursor)}

    for visited, tenant in enumerate(tenant_store.customer_ids(starting_at=start)):
        if visited == TENANTS_PER_PAGE:  # bounded work per request: go on next page
            return page({"at": tenant, "c": None})
        ids, inner_next = store.list_entries(
            tenant, limit - len(found), inner if tenant == start else None, **filters
        )
        found += [(tenant, ticket_id) for ticket_id in ids]
        if inner_next is not None:
            return page({"at": tenant, "c": inner_next})
        if len(found) == limit:
            return page({"at": tenant + "\x00", "c": None})
    return page(None)


def _every_cursor_decode(cursor: str | None) -> tuple[str | None, str | None]:
    """(the tenant to start at, the cursor within it) of an every-tenant cursor."""
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
