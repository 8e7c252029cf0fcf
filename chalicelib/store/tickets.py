"""Tickets and their history: one partition per ticket (the ticket item and its
events), a per-tenant index for lists, conditional writes on `version`."""

from __future__ import annotations

import zlib
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.instants import format_instant, parse_instant
from chalicelib.domain.ticket import SlaState, Ticket
from chalicelib.errors import Conflict
from chalicelib.settings import get_settings
from chalicelib.store.models import EventItem, OutboxItem, TicketItem, plain
from chalicelib.store.pages import decode_cursor, encode_cursor

TICKET_SK = "TICKET"


def due_shard(ticket_id: str) -> str:
    """The due index partition of a ticket: spreads writes over DUE_SHARDS keys."""
    shards = get_settings().due_shards
    return f"DUE#{zlib.crc32(ticket_id.encode()) % shards}"


def _to_item(t: Ticket) -> TicketItem:
    item = TicketItem(
        TicketItem.key(t.id),
        TICKET_SK,
        ticket_id=t.id,
        tenant_id=t.tenant_id,
        gsi1pk=f"TENANT#{t.tenant_id}",
        gsi1sk=t.id,
        title=t.title,
        description=t.description,
        kind=t.kind,
        priority=t.priority,
        channel=t.channel,
        status=t.status,
        assignee=t.assignee,
        contact=t.contact,
        tier=t.tier,
        reported_at=format_instant(t.reported_at),
        created_at=format_instant(t.created_at),
        updated_at=format_instant(t.updated_at),
        resolution_cause=t.resolution_cause,
        fields=t.fields,
        integration=t.integration,
        sla={
            "policy": t.sla.policy,
            "policy_version": t.sla.policy_version,
            "calendar": t.sla.calendar,
            "calendar_version": t.sla.calendar_version,
            "first_response_met_by": t.sla.first_response_met_by,
            "targets": t.sla.targets,
        },
        charge=t.charge,
        due_shard=due_shard(t.id) if t.due_at is not None else None,
        due_at=t.due_at,
        policy_key=f"POLICY#{t.sla.policy}" if t.status != "closed" else None,
    )
    if t.version is not None:
        item.version = t.version
    return item


def _from_item(item: TicketItem) -> Ticket:
    sla = plain(item.sla)
    return Ticket(
        id=item.ticket_id,
        tenant_id=item.tenant_id,
        title=item.title,
        description=item.description,
        kind=item.kind,
        priority=item.priority,
        channel=item.channel,
        status=item.status,
        assignee=item.assignee,
        contact=item.contact,
        tier=item.tier,
        reported_at=parse_instant(item.reported_at),
        created_at=parse_instant(item.created_at),
        updated_at=parse_instant(item.updated_at),
        resolution_cause=item.resolution_cause,
        fields=plain(item.fields) or {},
        integration=plain(item.integration),
        charge=plain(item.charge),
        sla=SlaState(
            policy=sla["policy"],
            policy_version=int(sla["policy_version"]),
            calendar=sla["calendar"],
            calendar_version=sla["calendar_version"],
            first_response_met_by=sla["first_response_met_by"],
            targets=sla.get("targets", []),
        ),
        version=item.version,
        due_at=int(item.due_at) if item.due_at is not None else None,
    )


def event_item(ticket_id: str, event: dict[str, Any]) -> EventItem:
    return EventItem(
        TicketItem.key(ticket_id),
        f"EVENT#{event['id']}",
        event_id=event["id"],
        at=event["at"],
        type=event["type"],
        actor=event["actor"],
        data=event["data"],
    )


def _connection() -> Connection:
    return TicketItem._get_connection().connection


def write(
    ticket: Ticket,
    events: list[dict[str, Any]],
    alerts: list[OutboxItem] | None = None,
    *,
    new: bool = False,
) -> None:
    """Store a ticket, its new history entries and the alerts it raised, all or
    nothing. A new ticket must not exist; a changed one must still be at the
    `version` it was read at; an alert must not have been written before (the
    outbox's exactly-once point). Any of those failing is a Conflict."""
    item = _to_item(ticket)
    try:
        with TransactWrite(connection=_connection()) as tx:
            if new:
                tx.save(item, condition=TicketItem.pk.does_not_exist())
            else:
                tx.save(item)  # adds the version condition and increments it
            for event in events:
                tx.save(event_item(ticket.id, event))
            for alert in alerts or ():
                tx.save(alert, condition=OutboxItem.pk.does_not_exist())
    except TransactWriteError as e:
        if e.cause_response_code == "TransactionCanceledException":
            raise Conflict(
                "the ticket changed while this request ran; retry", code="concurrent_update"
            ) from e
        raise
    ticket.version = item.version


def get(ticket_id: str) -> Ticket | None:
    try:
        return _from_item(
            TicketItem.get(TicketItem.key(ticket_id), TICKET_SK, consistent_read=True)
        )
    except DoesNotExist:
        return None


_TENANT_PAGE_KEYS = {"pk", "sk", "gsi1pk", "gsi1sk"}


def list_for_tenant(
    tenant_id: str, limit: int, cursor: str | None
) -> tuple[list[Ticket], str | None]:
    """A page of a tenant's tickets, newest first (one Query)."""
    partition = f"TENANT#{tenant_id}"
    start = decode_cursor(cursor, {"gsi1pk": partition}, _TENANT_PAGE_KEYS)
    result = TicketItem.by_tenant.query(
        partition,
        scan_index_forward=False,
        limit=limit,
        page_size=limit,
        last_evaluated_key=start,
    )
    tickets = [_from_item(item) for item in result]
    return tickets, encode_cursor(result.last_evaluated_key)


_EVENT_PAGE_KEYS = {"pk", "sk"}


def list_events(
    ticket_id: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a ticket's history, oldest first (one Query)."""
    partition = TicketItem.key(ticket_id)
    start = decode_cursor(cursor, {"pk": partition}, _EVENT_PAGE_KEYS)
    result = EventItem.query(
        partition,
        EventItem.sk.startswith("EVENT#"),
        limit=limit,
        page_size=limit,
        last_evaluated_key=start,
    )
    events = [
        {
            "id": item.event_id,
            "at": item.at,
            "type": item.type,
            "actor": plain(item.actor),
            "data": plain(item.data),
        }
        for item in result
    ]
    return events, encode_cursor(result.last_evaluated_key)


def event(
    event_id: str, at: Any, type_: str, actor: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    return {"id": event_id, "at": format_instant(at), "type": type_, "actor": actor, "data": data}
