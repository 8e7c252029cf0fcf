"""Ingest a partner helpdesk's webhook delivery (docs/api.md, Webhooks).

1. The partner item (one consistent GetItem): its format, tenant, priority map
   and the KMS ciphertext of its secrets (decrypted at most every few minutes
   per warm container).
2. The format's adapter checks the signature over the raw bytes received, then
   maps the payload onto a `PartnerEvent`. Nothing is parsed before that. Its
   event times are bounded by the arrival time (`base.within_clock`: over 5
   minutes ahead is a 400 `event_in_future`, less is clamped to the arrival).
3. The link (partner, external id) -> ticket and the delivery's dedupe entry
   (keyed by what the partner signed: docs/partners.md), in one BatchGetItem. A
   delivery seen before answers `applied: false` and costs nothing more: two
   DynamoDB calls in all.
4. The partner event is mapped onto the aggregate's operations (the same ones
   an API key takes: `services.lifecycle.act`, `Ticket.comment`) and committed
   through the unit of work with the updated link (the partner time each aspect
   was last set: an older event never undoes a newer one) and the delivery
   entry, in ONE transaction conditioned on the ticket's version and on the
   delivery being new: a concurrent duplicate loses that race (and is read
   again as a duplicate).

Bad input from a correctly signed partner is a 400 saying what is wrong (logged
with the partner id, never with the body or headers); it is found before
anything is written, so nothing is half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from chalicelib.commands import TicketBody
from chalicelib.domain import lifecycle
from chalicelib.domain.errors import DomainError, validation_fields
from chalicelib.domain.instants import format_instant
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import BadRequest, NotFound, Unauthorized
from chalicelib.services import partners, unit_of_work
from chalicelib.services.lifecycle import act
from chalicelib.services.tickets import MAX_BACKDATE, open_new
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.store import partners as store
from chalicelib.store import tickets as ticket_store
from chalicelib.webhooks import FORMATS
from chalicelib.webhooks.base import BadPayload, BadSignature, PartnerEvent, within_clock

logger = Logger(service="slaguard-webhooks")

# How long a delivery id is remembered. Freshdesk's identity is a body hash: an
# identical body later (the same change made again) is a new event, so its
# window only covers Freshdesk's retries.
DEDUPE_WINDOW = timedelta(days=7)
BODY_HASH_WINDOW = timedelta(hours=1)
# An event older than this may have had its dedupe entry expire: not applied.
FORGOTTEN_AFTER = DEDUPE_WINDOW - timedelta(hours=1)
ASPECTS = ("priority", "assignee", "status")
MAX_ID = 200


@dataclass(frozen=True)
class Answer:
    """What the route answers: 200 handled (applied or not), 202 not used."""

    status: int
    body: dict[str, Any]


def actor(partner_id: str) -> dict[str, Any]:
    return {"role": "partner", "key_id": None, "partner_id": partner_id}


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _precise(at: datetime) -> str:
    """An event time as the link keeps it: to the microsecond, so two partner
    events in the same second still order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def ingest(partner_id: str, raw: bytes, headers: dict[str, str], now: datetime) -> Answer:
    """POST /webhooks/{partner_id}."""
    partner = partners.get(partner_id)
    adapter = FORMATS[partner.format]
    try:
        adapter.verify(raw, headers, partners.valid_secrets(partner, now), now)
    except BadSignature as e:
        logger.info("webhook refused", extra={"partner_id": partner_id, "reason": str(e)})
        raise Unauthorized(f"bad signature: {e}", code="bad_signature") from e
    try:
        # The sender's event times are its word: bounded by the arrival time.
        event = within_clock(adapter.parse(raw, headers), now)
    except BadPayload as e:
        raise _bad_input(partner_id, e.message, e.fields, e.code) from e
    if not event.external_id:
        raise _bad_input(partner_id, "the event names no ticket", {"external_id": "required"})
    if event.occurred_at is not None and now - event.occurred_at > FORGOTTEN_AFTER:
        # Older than its dedupe entry lives: it cannot be told from a replay of one
        # already applied (Jira signs no delivery time), so it changes nothing.
        logger.info("webhook too old", extra={"partner_id": partner_id, "event": event.name})
        return Answer(200, {"ticket_id": None, "applied": False})
    context = {  # what each history entry of the partner's change says of the event
        "external_id": event.external_id,
        "partner_event": event.name,
        "occurred_at": format_instant(event.occurred_at) if event.occurred_at else None,
    }
    try:
        return unit_of_work.run(
            lambda uow: _handle(uow, partner, event), now, actor(partner.id), context=context
        )
    except BadRequest as e:
        logger.warning(
            "webhook bad input",
            extra={"partner_id": partner_id, "reason": e.message, "fields": e.fields},
        )
        raise


def _bad_input(
    partner_id: str, message: str, fields: dict[str, str], code: str = "invalid_payload"
) -> BadRequest:
    logger.warning(
        "webhook bad input", extra={"partner_id": partner_id, "reason": message, "fields": fields}
    )
    return BadRequest(message, fields, code=code)


def _delivery(
    partner: store.Partner, event: PartnerEvent, ticket_id: str | None, now: datetime
) -> ticket_store.TxItem:
    window = BODY_HASH_WINDOW if partner.format == "freshdesk" else DEDUPE_WINDOW
    entry = store.Delivery(
        delivery_id=event.delivery_id,
        ticket_id=ticket_id,
        event=event.name,
        expires_at=_epoch(now + window),
    )
    return store.delivery_write(partner.id, entry, format_instant(now), _epoch(now))


def _handle(uow: UnitOfWork, partner: store.Partner, event: PartnerEvent) -> Answer:
    now = uow.now
    link, seen_before = store.lookup(partner.id, event.external_id, event.delivery_id)
    if seen_before is not None and seen_before.expires_at > _epoch(now):
        return Answer(200, {"ticket_id": seen_before.ticket_id, "applied": False})
    if link is None:
        if event.type is None:  # an event we do not use, of a ticket we do not know
            store.put_delivery(_delivery(partner, event, None, now))
            return Answer(202, {"ticket_id": None, "applied": False})
        return _open(uow, partner, event)
    ticket = uow.get(link.ticket_id)
    if ticket is None:
        raise NotFound(f"the ticket linked to {event.external_id} is gone", code="ticket_not_found")
    return _change(uow, partner, event, link, ticket, _changes_of(event))


# ---------------------------------------------------------------- priorities


def partner_priority(partner: store.Partner, value: str | None) -> str | None:
    """A partner priority as the policy's: the partner's priority_map, else the
    format's default map, else the value itself (the generic form names ours).
    Partner values match case-insensitively."""
    if value is None:
        return None
    low = value.strip().lower()
    if low in partner.priority_map:
        return partner.priority_map[low]
    return FORMATS[partner.format].DEFAULT_PRIORITIES.get(low, value.strip())


def _priority_problem(partner: store.Partner, given: str | None, e: DomainError) -> BadRequest:
    fields = dict(e.fields)
    if "priority" in fields and given is not None:
        fields["priority"] = (
            f"the partner priority {given!r} maps to {partner_priority(partner, given)!r}, "
            f"which the tenant's policy does not know ({fields['priority']}); "
            "register the partner with a priority_map for it"
        )
    return BadRequest(str(e), fields, code=e.code)


# ---------------------------------------------------------------- opening


@dataclass
class _Changes:
    priority: str | None = None
    assignee: str | None = None
    solved: bool = False
    comment: Any = None
    not_applied: list[str] = field(default_factory=list)

    def any(self) -> bool:
        return bool(self.priority or self.assignee or self.solved or self.comment)


def _changes_of(event: PartnerEvent) -> _Changes:
    if event.type == "ticket.created":
        return _Changes()
    return _Changes(
        priority=event.priority,
        assignee=event.assignee,
        solved=event.solved,
        comment=event.comment,
    )


def _open(uow: UnitOfWork, partner: store.Partner, event: PartnerEvent) -> Answer:
    """The first event of a partner ticket opens ours (from the event's snapshot
    when it is not a ticket.created: the partner ticket as it is now)."""
    now = uow.now
    snap = event.snapshot
    if snap.title is None:
        raise BadRequest(
            f"no ticket is linked to {event.external_id!r} yet, and this {event.name} event "
            "does not carry the ticket (its title): send ticket.created first",
            {"external_id": "not linked to a ticket yet"},
            code="ticket_not_linked",
        )
    reported = min(snap.created_at or event.occurred_at or now, now)  # E3; never in the future
    extra = dict(snap.extra)
    try:
        body = TicketBody.model_validate(
            {
                **extra,
                "title": snap.title,
                "description": snap.description or snap.title,
                "kind": extra.get("kind") or partner.default_kind,
                "priority": partner_priority(partner, snap.priority),
                "channel": "webhook",
                "tenant_id": partner.tenant_id,
                "reported_at": reported.replace(microsecond=0),
            }
        )
    except ValidationError as e:
        raise BadRequest(
            "the ticket the event carries is invalid",
            validation_fields(e, prefix="ticket.", root="ticket"),
            code="invalid_payload",
        ) from e
    if now - reported > MAX_BACKDATE:
        raise BadRequest(
            "the partner ticket was created more than 400 days ago",
            {"created_at": "over 400 days back"},
            code="invalid_payload",
        )
    tenant = uow.lookups.tenant(partner.tenant_id)
    if tenant is None:
        raise BadRequest(
            "the partner's customer tenant no longer exists",
            {"tenant_id": f"unknown tenant {partner.tenant_id!r}"},
        )
    # Later changes the first event brings (a created ticket already assigned or
    # solved; an update that reached us before the creation): in the same commit.
    later = _changes_of(event)
    later.priority = None  # the snapshot's priority is the ticket's already
    if snap.assignee and not later.assignee:
        later.assignee = snap.assignee
    later.solved = later.solved or snap.solved
    seen = {a: _precise(event.occurred_at) for a in ASPECTS} if event.occurred_at else {}
    try:
        ticket = open_new(
            uow,
            partner.tenant_id,
            tenant,
            body,
            body.reported_at or now,
            contact=body.contact,
        )
    except DomainError as e:
        if e.status == 400:
            raise _priority_problem(partner, snap.priority, e) from e
        raise
    link = store.Link(
        partner_id=partner.id,
        external_id=event.external_id,
        ticket_id=ticket.id,
        tenant_id=partner.tenant_id,
        seen=seen,
        created_at=format_instant(now),
    )
    return _change(uow, partner, event, link, ticket, later, opened=True)


# ---------------------------------------------------------------- changing


def _newer(link: store.Link, aspect: str, event: PartnerEvent) -> bool:
    """Whether the event is newer than the last one that set this aspect (an
    event without a time, Freshdesk's, applies in arrival order)."""
    if event.occurred_at is None or aspect not in link.seen:
        return True
    return event.occurred_at > datetime.fromisoformat(link.seen[aspect])


def _change(
    uow: UnitOfWork,
    partner: store.Partner,
    event: PartnerEvent,
    link: store.Link,
    ticket: Ticket,
    changes: _Changes,
    *,
    opened: bool = False,
) -> Answer:
    """Map the partner's event onto the aggregate's operations, as the partner's
    agent (or its customer, for a customer's comment), each aspect only when the
    event is newer than the last that set it; commit with the link and delivery."""
    now, recorded = uow.now, len(ticket.events)
    seen = dict(link.seen)
    stamp = _precise(event.occurred_at) if event.occurred_at else None

    def newer(aspect: str) -> bool:
        if not _newer(link, aspect, event):
            return False
        if stamp is not None:
            seen[aspect] = stamp
        return True

    def attempt(action: str, params: dict[str, Any]) -> None:
        try:
            act(uow, ticket, action, params, lifecycle.AGENT)
        except lifecycle.ActionRefused as e:  # the ticket's status refuses it: noted
            changes.not_applied.append(str(e))

    applied = False
    if changes.priority and newer("priority"):
        applied = True
        wanted = partner_priority(partner, changes.priority)
        if wanted != ticket.priority and wanted is not None:
            try:
                attempt("set_priority", {"priority": wanted})
            except DomainError as e:  # not a priority of the policy: the partner's map
                raise _priority_problem(partner, changes.priority, e) from e
    if changes.assignee and newer("assignee"):
        applied = True
        if changes.assignee != ticket.assignee:
            attempt("assign", {"agent": changes.assignee})
    if changes.comment is not None:
        applied = True
        c = changes.comment
        role = lifecycle.AGENT if c.by_agent else lifecycle.CUSTOMER
        try:
            ticket.comment(role, c.public, now, c.body)
        except (lifecycle.ActionRefused, lifecycle.ActionForbidden) as e:
            changes.not_applied.append(str(e))
    if changes.solved and newer("status"):
        applied = True
        if ticket.status not in ("resolved", "closed"):
            # A helpdesk may solve a ticket nobody took here yet (new, queued): the
            # agent it names took it first (the lifecycle resolves open tickets).
            taker = event.snapshot.assignee
            if taker and ticket.assignee is None and ticket.status in ("new", "queued"):
                attempt("assign", {"agent": taker})
            attempt("resolve", {})
    status = 200
    if len(ticket.events) == recorded and not opened:
        if event.type is not None and not applied:
            # Older than what the ticket has (or a creation already linked).
            return Answer(200, {"ticket_id": ticket.id, "applied": False})
        # An event we do not use, or one the ticket's status refused: recorded.
        ticket.note_partner_event(event.name, changes.not_applied)
        status = 202
    uow.also(
        store.link_write(replace(link, seen=seen), format_instant(now), new=opened),
        _delivery(partner, event, ticket.id, now),
    )
    uow.commit()
    return Answer(status, {"ticket_id": ticket.id, "applied": status == 200})
