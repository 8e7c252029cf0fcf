"""Tickets and their history: one partition per ticket (the ticket item and its
events), a per-tenant index for lists, conditional writes on `version`.

The store maps the domain's `Ticket` aggregate to and from items; the index
attributes (the due index's `due_shard`/`due_at`, the `breached` marker, the
open-by-policy key) are derived from the aggregate here, when it is saved."""

from __future__ import annotations

import functools
import json
import secrets
import zlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from ulid import ULID

from chalicelib import aws
from chalicelib.domain import charges, report_counts
from chalicelib.domain.calendar import CalendarSpec
from chalicelib.domain.instants import format_instant, parse_instant
from chalicelib.domain.sla import Target
from chalicelib.domain.ticket import SlaState, Ticket
from chalicelib.errors import BadRequest, Collision, Conflict, TicketUnreadable
from chalicelib.settings import due_shards, legacy_ticket_lists
from chalicelib.store import raw as raw_store
from chalicelib.store import report_counts as report_store
from chalicelib.store import sla_rules
from chalicelib.store.models import EventItem, OutboxItem, TicketItem, plain
from chalicelib.store.pages import decode_cursor, invalid_cursor, key_cursor, raw_cursor
from chalicelib.store.raw import Raw
from chalicelib.store.raw import dynamo as _dynamo
from chalicelib.store.raw import mapped as _map
from chalicelib.store.raw import reading as _reading
from chalicelib.store.raw import text as _text

TICKET_SK = "TICKET"
logger = Logger(service="slaguard-store")
# What mapping a stored item that does not have the shape we write raises
# (PynamoDB's AttributeDeserializationError, a wrong-typed attribute, is a TypeError).
UNREADABLE = (KeyError, ValueError, TypeError, AttributeError)


def due_shard(ticket_id: str) -> str:
    """The due index partition of a ticket: spreads writes over DUE_SHARDS keys."""
    shards = due_shards()
    return f"DUE#{zlib.crc32(ticket_id.encode()) % shards}"


# The agents' queue index's partitions (store.queue): a page reads each of them, so
# fixed (a ticket keeps the shard it was written in until its next write).
QUEUE_SHARDS = 4


def queue_position(due: datetime, ticket_id: str) -> str:
    """A ticket's place in the queue's order: the epoch second of its next deadline,
    zero-padded so that text order is time order, then its id (ties)."""
    return f"{max(0, int(due.timestamp())):012d}#{ticket_id}"


def queue_keys(t: Ticket) -> dict[str, Any]:
    """The queue index attributes: present only while a target runs
    (`Ticket.next_deadline`); the same shard in both key shapes."""
    deadline = t.next_deadline()
    if deadline is None:
        return dict.fromkeys(("queue_shard", "queue_tenant", "queue_sk"))
    shard = zlib.crc32(t.id.encode()) % QUEUE_SHARDS
    return {
        "queue_shard": f"QUEUE#{shard}",
        "queue_tenant": f"QUEUE#{t.tenant_id}#{shard}",
        "queue_sk": queue_position(deadline[0], t.id),
    }


# Attributes stored as they are on the Ticket, and the instants (RFC 3339 text).
_AS_IS = (
    "tenant_id",
    "title",
    "description",
    "kind",
    "priority",
    "channel",
    "status",
    "assignee",
    "contact",
    "tier",
    "resolution_cause",
)
_INSTANTS = ("reported_at", "created_at", "updated_at")


# A stored target leaves out what reads back the same without it (`Target.from_dict`
# defaults these when absent: no instant, no runs, nothing alerted, 0 s elapsed)
# and writes its ladder as one text, "75 sla.warning 1,100 sla.breached 1,...": a
# smaller item, fewer write units on the table for one near a KB boundary
# (docs/performance.md). Items written before carry the long form,
# which reads the same.
_OPTIONAL_TARGET_FIELDS = frozenset(
    {
        "started_at",
        "runs",
        "running_since",
        "elapsed_seconds",
        "due_at",
        "met_at",
        "breached_at",
        "alerted",
    }
)


_RULE_FIELDS = ("metric", "clock", "target_seconds", "ladder")  # a target's, in its rules


def _stored_target(target: Target) -> tuple[dict[str, Any], dict[str, Any]]:
    """A target as stored: (its live state, kept in the ticket; its rules, kept in
    the shared rules item), both named by its metric."""
    doc = {
        name: value
        for name, value in target.to_dict().items()
        if name not in _OPTIONAL_TARGET_FIELDS or value
    }
    doc.pop("ladder")
    rules = {name: doc.pop(name) for name in _RULE_FIELDS[1:3]}
    rules["metric"] = doc["metric"]
    if target.ladder:
        rules["ladder"] = ",".join(f"{t.pct} {t.type} {t.level}" for t in target.ladder)
    return doc, rules


def _target(doc: dict[str, Any]) -> Target:
    ladder = doc.get("ladder")
    if isinstance(ladder, str):
        rungs = [rung.split(" ") for rung in ladder.split(",")]
        doc = {**doc, "ladder": [{"pct": p, "type": t, "level": n} for p, t, n in rungs]}
    return Target.from_dict(doc)


def _sla_doc(sla: SlaState) -> tuple[dict[str, Any], str]:
    """The ticket's `sla` (the ref of its rules, each target's live state) and the
    ref; the rules themselves go to their shared item (`store.sla_rules`)."""
    states, target_rules = [], []
    for target in sla.targets:
        state, rules = _stored_target(target)
        states.append(state)
        target_rules.append(rules)
    ref = sla_rules.ref_of(
        {
            "policy": sla.policy,
            "policy_version": sla.policy_version,
            "terms_version": sla.terms_version,
            "calendar": sla.calendar.model_dump(mode="json"),
            "calendar_version": sla.calendar_version,
            "first_response_met_by": sla.first_response_met_by,
            "targets": target_rules,
        }
    )
    # `policy` stays in the ticket's own `sla` too: the what-if counts a policy's
    # tickets with a filter on it (`count_reported_between`).
    return {"policy": sla.policy, "rules": ref, "targets": states}, ref


def _sla_state(doc: dict[str, Any]) -> SlaState:
    ref = doc.get("rules")
    if ref is not None:  # a ref to its shared rules; else the whole of them, as written before
        rules = _rules(ref)
        states = doc.get("targets", [])
        if [s["metric"] for s in states] != [r["metric"] for r in rules.get("targets", [])]:
            raise ValueError(f"the targets do not match those of rules {ref}")
        targets = [{**r, **s} for r, s in zip(rules.get("targets", []), states, strict=True)]
        doc = {**rules, "policy": doc.get("policy", rules["policy"]), "targets": targets}
    return SlaState(
        policy=doc["policy"],
        policy_version=int(doc["policy_version"]),
        calendar=CalendarSpec.model_validate(doc["calendar"]),
        calendar_version=doc["calendar_version"],
        terms_version=doc.get("terms_version", ""),
        first_response_met_by=doc["first_response_met_by"],
        targets=[_target(target) for target in doc.get("targets", [])],
    )


def _rules(ref: str) -> dict[str, Any]:
    """The rules of that ref: remembered, else read (one consistent GetItem; rules
    another process wrote just before the ticket that refers to them). UNREADABLE
    (KeyError) when the item is not there: every ticket under those rules is then
    unreadable, logged with its key, until the item is back (docs/operations.md)."""
    rules = sla_rules.known(ref)
    if rules is None:
        found = raw_store.get_item(sla_rules.PREFIX + ref, sla_rules.SORT_KEY, consistent=True)
        if found is None:
            logger.error("SLA rules item missing", ref=ref, unreadable=True)
            raise KeyError(f"no SLA rules {ref}")
        rules = _checked_rules(found)
        _remember_stored(ref, rules)
    return rules


def _checked_rules(raw: Raw) -> dict[str, Any]:
    """A rules item's document, once it maps as a ticket's rules do (so that one a
    hand edit broke is never remembered: fixed, it is read again); UNREADABLE
    when it does not."""
    rules: dict[str, Any] = _map(raw, "rules")
    _sla_state({**rules, "targets": [dict(r, state="running") for r in rules["targets"]]})
    return rules


def _remember_stored(ref: str, rules: dict[str, Any]) -> None:
    sla_rules.remember(ref, rules, stored_by=_connection().client, table=TicketItem.Meta.table_name)


def _prefetch_rules(raws: Collection[Raw]) -> None:
    """The rules these ticket items refer to that this process has not seen yet,
    read in one BatchGetItem per 100 (a list or a batch of due tickets: usually
    none, after the first). A rules item that does not map is logged and left
    unremembered: its tickets are then skipped as unreadable, one by one."""
    refs = [
        ref["S"]
        for raw in raws
        if (ref := raw.get("sla", {}).get("M", {}).get("rules")) is not None
    ]
    wanted = [(sla_rules.PREFIX + ref, sla_rules.SORT_KEY) for ref in sla_rules.missing(refs)]
    for start in range(0, len(wanted), BATCH_GET_KEYS):
        found = raw_store.batch_get(wanted[start : start + BATCH_GET_KEYS], consistent=True)
        for (pk, _), raw in found.items():
            try:
                _remember_stored(pk.removeprefix(sla_rules.PREFIX), _checked_rules(raw))
            except UNREADABLE as e:
                logger.error(
                    "unreadable SLA rules item", **_key_of(raw), error=repr(e), unreadable=True
                )


def to_raw(t: Ticket) -> Raw:
    """The ticket's item (DynamoDB JSON, as the store writes it), with the index
    attributes derived from the aggregate: the due index holds it while a
    threshold is pending (at that instant's epoch second), `breached` while it
    shows a breach, `open_by_policy` until closed, the queue indexes while a
    target runs (at its next deadline). Values as PynamoDB's models serialize
    them (`to_item`), built directly: through the model, the ticket's Put took
    0.46 ms of the checker's CPU, 0.14 ms this way. A required attribute left
    empty raises, as the model's save does."""
    due = t.next_due()
    unsettled = report_counts.unsettled_due(t)
    values: dict[str, Any] = {name: getattr(t, name) for name in _AS_IS}
    values.update({name: format_instant(getattr(t, name)) for name in _INSTANTS})
    values.update(
        pk=TicketItem.key(t.id),
        sk=TICKET_SK,
        ticket_id=t.id,
        gsi1pk=f"TENANT#{t.tenant_id}",
        gsi1sk=t.id if legacy_ticket_lists() else None,
        fields=t.fields,
        integration=t.integration,
        sla=_sla_doc(t.sla)[0],
        charge=t.charge.to_dict() if t.charge is not None else None,
        due_shard=due_shard(t.id) if due is not None else None,
        due_at=int(due.timestamp()) if due is not None else None,
        policy_key=f"POLICY#{t.sla.policy}" if t.status != "closed" else None,
        status_key=f"TENANT#{t.tenant_id}#STATUS#{t.status}",
        priority_key=f"TENANT#{t.tenant_id}#PRIORITY#{t.priority}",
        breached_key=f"TENANT#{t.tenant_id}" if t.breach_recorded() else None,
        reported_sk=f"{format_instant(t.reported_at)}#{t.id}",
        unsettled_key=f"TENANT#{t.tenant_id}" if unsettled is not None else None,
        unsettled_at=int(unsettled.timestamp()) if unsettled is not None else None,
        counted=1,
        last_event=t.last_event,
        version=t.version,
        **queue_keys(t),
    )
    missing = _required() - {name for name, value in values.items() if value is not None}
    if missing:
        raise ValueError(f"ticket {t.id}: no value for {sorted(missing)}")
    return {name: _dynamo(value) for name, value in values.items() if value is not None}


@functools.cache
def _required() -> frozenset[str]:
    """The item's attributes that cannot be absent (not `null=True`, but the version)."""
    return frozenset(
        attribute.attr_name
        for attribute in TicketItem.get_attributes().values()
        if not attribute.null and attribute.attr_name != "version"
    )


def to_item(t: Ticket) -> TicketItem:
    """The ticket's item as a PynamoDB model (`to_raw`), for whoever writes it
    with PynamoDB (the benches' bulk loads)."""
    return TicketItem.from_raw_data(to_raw(t))


def from_raw(raw: Raw) -> Ticket:
    """The ticket of a raw item (DynamoDB JSON, as a read returns it), mapped
    directly (a PynamoDB model first cost the checker 0.09 ms a ticket). Values
    as PynamoDB reads them (a number is an int or a float, a missing attribute
    None); UNREADABLE when the item is not the shape we write."""
    stored: dict[str, Any] = {name: _text(raw, name) for name in _AS_IS}
    stored.update({name: parse_instant(_text(raw, name)) for name in _INSTANTS})
    version = raw.get("version")
    return Ticket(
        id=_text(raw, "ticket_id"),
        fields=_map(raw, "fields") or {},
        integration=_map(raw, "integration"),
        charge=charges.from_stored(_map(raw, "charge")),
        sla=_sla_state(_map(raw, "sla")),
        version=int(json.loads(version["N"])) if version is not None else None,
        last_event=_text(raw, "last_event"),
        counted="counted" in raw,
        **stored,
    )


def _key_of(raw: Raw) -> dict[str, Any]:
    return {name: raw.get(name, {}).get("S") for name in ("pk", "sk")}


def readable(raws: Iterable[Raw]) -> Iterator[Ticket]:
    """The tickets of raw items, an item that cannot be mapped back (not the shape
    we write: hand-edited, or written by an older, laxer version) logged with its
    key and skipped, so one bad item never breaks a whole list or report. Raw
    items, because PynamoDB deserializes a query's items while it is iterated,
    where a wrong-typed attribute would escape any try around the mapping."""
    if isinstance(raws, Collection):  # a batch read's items: their rules read at once
        _prefetch_rules(raws)
    for raw in raws:
        try:
            ticket = from_raw(raw)
        except UNREADABLE as e:
            logger.error(
                "unreadable ticket item skipped", **_key_of(raw), error=repr(e), unreadable=True
            )
            continue
        yield ticket


def _raw_items(result: Any, limit: int | None = None) -> Iterator[Raw]:
    """The raw items of a PynamoDB query, page by page, at most `limit` of them.
    It stops as soon as the limit-th item is taken, so a full page never costs a
    Query of the next one (the every-page `limit + 1` read stays one Query)."""
    if limit is not None and limit <= 0:
        return
    count = 0
    for page in result.page_iter:
        for raw in page.get("Items", []):
            yield raw
            count += 1
            if limit is not None and count == limit:
                return


def event_raw(ticket_id: str, event: dict[str, Any]) -> Raw:
    """A history entry's item (DynamoDB JSON), in its ticket's partition."""
    values = {
        "pk": TicketItem.key(ticket_id),
        "sk": f"EVENT#{event['id']}",
        "event_id": event["id"],
        "at": event["at"],
        "type": event["type"],
        "actor": event["actor"],
        "data": event["data"],
    }
    return {name: _dynamo(value) for name, value in values.items()}


def event_item(ticket_id: str, event: dict[str, Any]) -> EventItem:
    """The history entry's item as a PynamoDB model (`event_raw`), for the benches'
    bulk loads."""
    return EventItem.from_raw_data(event_raw(ticket_id, event))


def stamp_events(last_event: str | None, events: list[dict[str, Any]]) -> str | None:
    """Give new history events, in order, ids after the ticket's newest one and an
    `at` that agrees with them; returns the newest id. The id is a ULID of the
    event's instant, or, when that is not after the last event (a request that
    started earlier committed later), the last id plus a random step, its `at`
    then moved up to that id's second. So oldest first by id is oldest first by
    `at`, whatever the order requests commit in. Run on what was read under the
    version condition of the write, so `last_event` is the newest committed."""
    last = ULID.from_str(last_event) if last_event is not None else None
    for event in events:
        instant_ms = int(parse_instant(event["at"]).timestamp()) * 1000
        if last is None or last.milliseconds < instant_ms:
            new = ULID.from_timestamp(instant_ms / 1000)
        else:  # the random step keeps ids unique across tickets (ULID monotonic ids)
            new = ULID.from_int(int(last) + 1 + secrets.randbits(32))
        event["id"] = str(new)
        event["at"] = format_instant(datetime.fromtimestamp(new.milliseconds // 1000, UTC))
        last = new
    return str(last) if last is not None else None


def _connection() -> Connection:
    return TicketItem._get_connection().connection


# An item another store adds to a ticket's transaction, with its condition (a
# partner link and a handled delivery, `store.partners`).
TxItem = tuple[Model, Condition | None]


def stamp(ticket: Ticket, events: list[dict[str, Any]]) -> None:
    """Give new history events their ids and instants, after the ticket's newest
    (`stamp_events`), and move its `last_event` to the newest. Run on the ticket
    as read for the write that commits them (its version condition then holds
    `last_event` to the newest committed)."""
    ticket.last_event = stamp_events(ticket.last_event, events) or ticket.last_event


def write(
    ticket: Ticket,
    events: list[dict[str, Any]],
    alerts: list[OutboxItem] | None = None,
    *,
    new: bool = False,
    extra: Sequence[TxItem] = (),
    counts: report_counts.Counts | None = None,
) -> None:
    """Store a ticket, its new history entries (already `stamp`ed), the alerts it
    raised, the `extra` items and what its change adds to the report counters
    (`counts`, `store.report_counts`), all or nothing. A new ticket must not exist; a
    changed one must still be at the `version` it was read at; an alert must not
    have been written before (the outbox's exactly-once point); each extra item's
    condition must hold. Any of those failing is a Conflict."""
    version = ticket.version
    after = 1 if version is None else version + 1
    table = TicketItem.Meta.table_name
    ticket_put = _ticket_put(ticket, version, after, new)
    ref = ticket_put["Item"]["sla"]["M"]["rules"]["S"]
    sla_rules.ensure_stored(_connection().client, table, ref)
    puts = [ticket_put]
    puts += [{"TableName": table, "Item": event_raw(ticket.id, event)} for event in events]
    models: list[Model] = []
    for alert in alerts or ():
        puts.append(alert.get_save_kwargs_from_instance(condition=OutboxItem.pk.does_not_exist()))
        models.append(alert)
    for model, condition in extra:
        puts.append(model.get_save_kwargs_from_instance(condition=condition))
        models.append(model)
    updates = [
        counter.get_update_kwargs_from_instance(actions=actions)
        for counter, actions in report_store.updates(ticket.id, ticket.tenant_id, counts or {})
    ]
    # No ClientRequestToken of ours: botocore fills one in per call (the model marks
    # it an idempotency token), the same across its own retries of that call, so a
    # retry of a transaction whose answer was lost is acknowledged by DynamoDB, not
    # failed on the version check (tests/integration/test_exactly_once.py).
    try:
        _connection().transact_write_items([], [], puts, updates)
    except TransactWriteError as e:
        # a lost race (a condition, a concurrent transaction); a throttled one is
        # not: it goes up as it is (aws.throttled: the API's 503, the checker's
        # "left due for the next run")
        if e.cause_response_code == "TransactionCanceledException" and not aws.throttled(e):
            reasons = {r.code for r in e.cancellation_reasons if r is not None} - {"None"}
            kind = Collision if reasons == {"TransactionConflict"} else Conflict
            raise kind(
                "the ticket changed while this request ran; retry", code="concurrent_update"
            ) from e
        raise
    for model in models:  # what PynamoDB's TransactWrite does after its commit
        model.update_local_version_attribute()
    ticket.version = after
    ticket.counted = True


def _ticket_put(ticket: Ticket, version: int | None, after: int, new: bool) -> dict[str, Any]:
    """The ticket's Put (its raw item, `to_raw`): at version `after`, conditioned
    on the version it was read at (optimistic locking: none for a new ticket,
    which must not exist either), as PynamoDB's versioned save writes it."""
    item = to_raw(ticket)
    item["version"] = {"N": str(after)}
    names = {"#v": "version"}
    put: dict[str, Any] = {"TableName": TicketItem.Meta.table_name, "Item": item}
    if version is None:
        condition = "attribute_not_exists (#v)"
    else:
        condition = "#v = :v"
        put["ExpressionAttributeValues"] = {":v": {"N": str(version)}}
    if new:
        condition = f"(attribute_not_exists (#pk) AND {condition})"
        names["#pk"] = "pk"
    put.update(ConditionExpression=condition, ExpressionAttributeNames=names)
    return put


def get(ticket_id: str) -> Ticket | None:
    """The ticket (consistent read), None when it does not exist; TicketUnreadable
    (logged with its key) when its item is not the shape we write."""
    key = TicketItem.key(ticket_id)
    raw = _reading().get_item(key, TICKET_SK, consistent_read=True).get("Item")
    if raw is None:
        return None
    try:
        return from_raw(raw)
    except UNREADABLE as e:
        logger.error("unreadable ticket item", **_key_of(raw), error=repr(e), unreadable=True)
        raise TicketUnreadable(ticket_id) from e


FILTERED_PAGE = 100  # index entries read per Query page when a filter drops some


def _list_index(by: str) -> tuple[Any, str]:
    """The index a ticket list reads (`by`: tenant, status, priority or breached)
    and its sort key attribute: the list's own keys-only index, or, while a stack
    upgrade builds those (settings.legacy_ticket_lists), the one of projection ALL
    it read before (docs/deploy.md). Both hold `ticket_id` and what the filters
    read."""
    if legacy_ticket_lists():
        return getattr(TicketItem, f"legacy_{by}"), "gsi1sk"
    return getattr(TicketItem, by), "ticket_id"


_SORT_KEYS = ("ticket_id", "gsi1sk")


def _list_start(cursor: str | None, key_name: str, key: str, sort: str) -> dict[str, Any] | None:
    """The Query's start of a list cursor: the key of the last index entry a page
    read. A cursor given by the other kind of list index (before or during a stack
    upgrade, docs/deploy.md) names the same position by its sort key (the ticket
    id under either name): it goes on where it was."""
    for name in sorted(_SORT_KEYS, key=lambda n: n != sort):  # this index's first
        try:
            start = decode_cursor(cursor, {key_name: key}, {"pk", "sk", key_name, name})
        except BadRequest:
            continue
        if start is not None:
            start[sort] = start.pop(name)
        return start
    raise invalid_cursor()


def list_for_tenant(
    tenant_id: str,
    limit: int,
    cursor: str | None,
    *,
    status: str | None = None,
    priority: str | None = None,
    breached: bool | None = None,
) -> tuple[list[Ticket], str | None]:
    """A page of a tenant's tickets, newest first: its index entries
    (`list_entries`), then their tickets (`listed_tickets`, one BatchGetItem)."""
    filters: dict[str, Any] = {"status": status, "priority": priority, "breached": breached}
    ids, next_cursor = list_entries(tenant_id, limit, cursor, **filters)
    return listed_tickets([(tenant_id, i) for i in ids], **filters), next_cursor


def list_entries(
    tenant_id: str,
    limit: int,
    cursor: str | None,
    *,
    status: str | None = None,
    priority: str | None = None,
    breached: bool | None = None,
) -> tuple[list[str], str | None]:
    """The ticket ids of a page of a tenant's list, newest first, never a Scan. One
    index serves the most selective filter (the sparse `tickets_breached` index,
    else `tickets_by_status`, else `tickets_by_priority`, else `tickets_by_tenant`);
    the other filters are a FilterExpression on that Query (on the attributes the
    index projects), paged until `limit + 1` entries match. The cursor is the key
    of the last index entry the page read, null on the last page."""
    tenant = f"TENANT#{tenant_id}"
    by, key_name, key = "by_tenant", "gsi1pk", tenant
    if breached:
        by, key_name = "breached", "breached_key"
    elif status is not None:
        by, key_name, key = "by_status", "status_key", f"{tenant}#STATUS#{status}"
    elif priority is not None:
        by, key_name, key = "by_priority", "priority_key", f"{tenant}#PRIORITY#{priority}"
    index, sort = _list_index(by)
    conditions: list[Condition] = []
    if status is not None and key_name != "status_key":
        conditions.append(TicketItem.status == status)
    if priority is not None and key_name != "priority_key":
        conditions.append(TicketItem.priority == priority)
    if breached is False:
        conditions.append(TicketItem.breached_key.does_not_exist())
    condition = None
    for c in conditions:
        condition = c if condition is None else condition & c
    page_keys = {"pk", "sk", key_name, sort}  # the table key + the index key
    start = _list_start(cursor, key_name, key, sort)
    # One more than a page: the extra one only tells whether a next page exists
    # (one Query when nothing is filtered; pages of the index until `limit + 1`
    # match or it ends when a FilterExpression drops some).
    query = index.query(
        key,
        filter_condition=condition,
        scan_index_forward=False,
        page_size=limit + 1 if condition is None else max(limit + 1, FILTERED_PAGE),
        last_evaluated_key=start,
    )
    entries = list(_raw_items(query, limit + 1))
    page = entries[:limit]
    next_cursor = raw_cursor(page[-1], page_keys) if len(entries) > limit else None
    return [entry["ticket_id"]["S"] for entry in page], next_cursor


def listed_tickets(
    entries: list[tuple[str, str]],
    *,
    status: str | None = None,
    priority: str | None = None,
    breached: bool | None = None,
) -> list[Ticket]:
    """The tickets of list entries (tenant id, ticket id), in their order, read in
    one BatchGetItem, eventually consistent like the index (half the read units of
    a consistent one). The items are the truth: an entry whose ticket is gone, or
    no longer matches its list (the index lags the writes), is left out, so a page
    may hold fewer entries than it read."""
    ids = [ticket_id for _, ticket_id in entries]
    found = get_many(ids, consistent=False) if entries else {}

    def listed(tenant_id: str, t: Ticket) -> bool:
        return (
            t.tenant_id == tenant_id
            and status in (None, t.status)
            and priority in (None, t.priority)
            and breached in (None, t.breach_recorded())
        )

    return [found[i] for tenant, i in entries if i in found and listed(tenant, found[i])]


Window = tuple[datetime, datetime]  # [start, end)


def _reported(tenant_id: str, window: Window | None) -> tuple[Any, str, Condition | None]:
    """The index of a tenant's tickets by reported instant, its partition and the
    range condition of a window [start, end) (none: every ticket; the sort key
    `<reported_at>#<id>` orders them by that instant): `tickets_by_reported`, keys
    only, or, while a stack upgrade builds it (settings.legacy_ticket_lists),
    `by_reported`, whole items (docs/deploy.md)."""
    condition = None
    if window is not None:
        start, end = (format_instant(instant) for instant in window)
        condition = TicketItem.reported_sk.between(start, end)
    if legacy_ticket_lists():
        return TicketItem.legacy_by_reported, f"TENANT#{tenant_id}", condition
    return TicketItem.by_reported, tenant_id, condition


def _reported_raws(
    tenant_id: str, window: Window | None, attributes: list[str] | None = None
) -> Iterator[Raw]:
    """The raw items of a tenant's tickets reported in a window, in that order, with
    their `pk` and `attributes` alone when given: each Query page of the index's
    entries, then their items in one BatchGetItem per 100, eventually consistent
    like the index (an entry whose ticket is gone is left out: the items are the
    truth); while legacy, the items `by_reported` holds."""
    index, partition, condition = _reported(tenant_id, window)
    if legacy_ticket_lists():
        projection = None if attributes is None else ["pk", *attributes]
        yield from _raw_items(index.query(partition, condition, attributes_to_get=projection))
        return
    for page in index.query(partition, condition).page_iter:
        ids = [_ticket_id(entry) for entry in page.get("Items", [])]
        found = _raw_tickets(ids, consistent=False, attributes=attributes) if ids else {}
        yield from (found[i] for i in ids if i in found)


def _ticket_id(raw: Raw) -> str:
    """The ticket id of an item's or an index entry's table key."""
    return str(raw["pk"]["S"]).removeprefix("TICKET#")


def reported_between(tenant_id: str, start: datetime, end: datetime) -> Iterator[Ticket]:
    """A tenant's tickets reported in [start, end), in that order: per Query page of
    `tickets_by_reported`, its tickets' items (`_reported_raws`)."""
    return readable(_reported_raws(tenant_id, (start, end)))


def count_reported_between(tenant_id: str, start: datetime, end: datetime) -> int:
    """How many of a tenant's tickets were reported in [start, end): Select=COUNT
    Queries of the index alone (keys only: a page per MB, ~8,000 entries), no
    ticket read."""
    index, partition, condition = _reported(tenant_id, (start, end))
    connection = TicketItem._get_connection()
    count, start_key = 0, None
    while True:
        page = connection.query(
            partition,
            range_key_condition=condition,
            index_name=index.Meta.index_name,
            select="COUNT",
            exclusive_start_key=start_key,
        )
        count += int(page["Count"])
        start_key = page.get("LastEvaluatedKey")
        if start_key is None:
            return count


def count_under_policy(tenant_id: str, start: datetime, end: datetime, policy_id: str) -> int:
    """How many of a tenant's tickets reported in [start, end) are under `policy_id`
    (their item's `sla.policy`), each one's item read (`_reported_raws`, that
    attribute alone)."""
    raws = _reported_raws(tenant_id, (start, end), attributes=["sla.policy"])
    return sum(1 for raw in raws if _policy_of(raw) == policy_id)


def _policy_of(raw: Raw) -> Any:
    return raw.get("sla", {}).get("M", {}).get("policy", {}).get("S")


def uncounted_ids(tenant_id: str) -> Iterator[str]:
    """Ids of the tenant's tickets the report counters do not hold (written before
    them: no `counted` mark), read from the items of all its tickets
    (`_reported_raws`, that attribute alone), for `backfill-report-counts`. An item
    not of the shape we write is listed too: the backfill's read of it says so."""
    every = _reported_raws(tenant_id, None, attributes=["counted"])
    return (_ticket_id(raw) for raw in every if "counted" not in raw)


def history(ticket_id: str) -> list[dict[str, Any]]:
    """A ticket's whole history, oldest first, as GET /tickets/{id}/events gives
    it (one Query of its partition, a page per MB)."""
    query = EventItem.query(TicketItem.key(ticket_id), EventItem.sk.startswith("EVENT#"))
    return [_entry(item) for item in query]


def histories(ticket_ids: Sequence[str], threads: int) -> dict[str, list[dict[str, Any]]]:
    """The histories of these tickets, by id: one `history` Query each, `threads`
    at a time (the connection is built before the threads share it)."""
    EventItem._get_connection().connection.client  # noqa: B018 - built on first access
    with ThreadPoolExecutor(max(1, threads), thread_name_prefix="history") as pool:
        return dict(zip(ticket_ids, pool.map(history, ticket_ids), strict=True))


def _entry(item: EventItem) -> dict[str, Any]:
    return {
        "id": item.event_id,
        "at": item.at,
        "type": item.type,
        "actor": plain(item.actor),
        "data": plain(item.data),
    }


_EVENT_PAGE_KEYS = {"pk", "sk"}


def list_events(
    ticket_id: str, limit: int, cursor: str | None, *, public_only: bool = False
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a ticket's history, oldest first (one Query of `limit + 1`
    entries; `public_only` leaves out internal notes, the comments with
    `public: false`, and may read further pages to fill the page). The cursor
    is null on the last page."""
    partition = TicketItem.key(ticket_id)
    start = decode_cursor(cursor, {"pk": partition}, _EVENT_PAGE_KEYS, {"sk": "EVENT#"})
    # One more than a page: the extra one only tells whether a next page exists.
    items = list(
        EventItem.query(
            partition,
            EventItem.sk.startswith("EVENT#"),
            filter_condition=(
                (EventItem.type != "comment") | (EventItem.data["public"] == True)  # noqa: E712
                if public_only
                else None
            ),
            limit=limit + 1,
            page_size=limit + 1,
            last_evaluated_key=start,
        )
    )
    page = items[:limit]
    next_cursor = key_cursor(page[-1], _EVENT_PAGE_KEYS) if len(items) > limit else None
    return [_entry(item) for item in page], next_cursor


def event(
    event_id: str | None, at: Any, type_: str, actor: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    return {"id": event_id, "at": format_instant(at), "type": type_, "actor": actor, "data": data}


# --- re-targeting (E9): open tickets per policy and per tenant ------------------


def open_ids_by_policy(
    policy_id: str, limit: int, after: str | None = None
) -> tuple[list[str], bool]:
    """Up to `limit` ids of open (not closed) tickets under a policy, oldest first,
    after ticket `after`; and whether more follow. One Query on the KEYS_ONLY
    open_by_policy index (eventually consistent: the items are re-read)."""
    condition = TicketItem.ticket_id > after if after is not None else None
    result = TicketItem.open_by_policy.query(
        f"POLICY#{policy_id}", condition, limit=limit + 1, page_size=limit + 1
    )
    ids = [item.ticket_id for item in result]
    return ids[:limit], len(ids) > limit


def count_open_by_policy(policy_id: str, after: str | None = None, cap: int = 10_000) -> int:
    """How many open tickets are under a policy after ticket `after`, counted up to
    `cap` (one Select=COUNT Query page of the keys-only index: bounded work)."""
    condition = TicketItem.ticket_id > after if after is not None else None
    page = TicketItem._get_connection().query(
        f"POLICY#{policy_id}",
        range_key_condition=condition,
        index_name=TicketItem.open_by_policy.Meta.index_name,
        limit=cap,
        select="COUNT",
    )
    return int(page["Count"])


BATCH_GET_KEYS = 100  # DynamoDB's BatchGetItem limit


def get_many(ticket_ids: list[str], consistent: bool = True) -> dict[str, Ticket]:
    """The tickets of these ids that exist and are readable, by id (BatchGetItem,
    100 keys a call, unprocessed keys asked again; `consistent` unless told: an
    eventually consistent read costs half)."""
    return {t.id: t for t in readable(_raw_tickets(ticket_ids, consistent).values())}


def _raw_tickets(
    ticket_ids: list[str], consistent: bool, attributes: list[str] | None = None
) -> dict[str, Raw]:
    """The raw items of these tickets that exist, by id (`get_many`), with their
    keys and `attributes` alone when given (a BatchGetItem per 100)."""
    wanted = [(TicketItem.key(t), TICKET_SK) for t in dict.fromkeys(ticket_ids)]
    raws: dict[str, Raw] = {}
    for start in range(0, len(wanted), BATCH_GET_KEYS):
        found = raw_store.batch_get(
            wanted[start : start + BATCH_GET_KEYS],
            consistent=consistent,
            attributes=tuple(attributes or ()),
        )
        raws.update((_ticket_id(raw), raw) for raw in found.values())
    return raws


def open_for_tenant(
    tenant_id: str, limit: int, before: str | None = None, max_pages: int = 3
) -> tuple[list[Ticket], str | None]:
    """Up to `limit` of a tenant's not-closed tickets, newest first, older than
    ticket `before` when given; and where a next call goes on from (pass it as
    `before`; None: nothing older is left). Bounded: at most `max_pages` Query pages
    of `limit + 1` index entries (closed tickets are filtered out by DynamoDB but
    still read, so a call may return fewer than `limit` and still go on), then one
    consistent BatchGetItem of the tickets (a ticket closed since its entry was
    written is left out)."""
    index, sort = _list_index("by_tenant")
    pages = index.query(
        f"TENANT#{tenant_id}",
        range_key_condition=None if before is None else getattr(TicketItem, sort) < before,
        filter_condition=TicketItem.status != "closed",
        scan_index_forward=False,
        page_size=limit + 1,
    ).page_iter
    ids: list[str] = []
    after: str | None = None
    for number, page in enumerate(pages, start=1):
        ids += [entry["ticket_id"]["S"] for entry in page.get("Items", [])]
        if len(ids) > limit:
            ids, after = ids[:limit], ids[limit - 1]
            break
        last = pages.last_evaluated_key
        if last is None:
            break
        if number == max_pages:
            after = str(last[sort]["S"])
            break
    found = get_many(ids) if ids else {}
    return [found[i] for i in ids if i in found and found[i].status != "closed"], after
