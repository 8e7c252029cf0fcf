"""The register of proposals (Aivo A8): one partition per proposal holding

- the proposal item (sk PROPOSAL), listed newest first from the `by_tenant` index
  (partition PROPOSALS) or, for one status, from `by_status`
  (PROPOSALS#STATUS#<status>): Queries, never a Scan;
- one subscription item per (tenant, contact) (sk SUB#<tenant>#<contact>): the
  subscribers of a proposal are one Query of its partition;
- one follower marker per tenant (sk TENANT#<tenant>, how many of its contacts
  follow), so "is the caller's tenant subscribed" is a key read;
- once approved, one outbox notice per subscription (sk OUTBOX#…, store.outbox).

Every subscription write changes the proposal's `subscribers` and the tenant's
marker in the same transaction, conditioned so that a retried one never counts
twice. Failed conditions come back as False: the service reads what happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib import aws
from chalicelib.domain.instants import format_instant, parse_instant
from chalicelib.domain.proposal import FINAL, Proposal
from chalicelib.store import jobs
from chalicelib.store.models import (
    FollowerItem,
    OutboxItem,
    ProposalItem,
    RetargetJobItem,
    SubscriptionItem,
)
from chalicelib.store.pages import decode_cursor, key_cursor

PROPOSAL_SK = "PROPOSAL"
EVERY = "PROPOSALS"
Raw = dict[str, Any]


def status_key(status: str) -> str:
    return f"{EVERY}#STATUS#{status}"


def subscription_sk(tenant_id: str, contact: str) -> str:
    # tenant ids never hold "#" (commands.TENANT_ID_PATTERN): the prefix is exact
    return f"SUB#{tenant_id}#{contact}"


def follower_sk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def _connection() -> Connection:
    return ProposalItem._get_connection().connection


def _table() -> TableConnection:
    return ProposalItem._get_connection()


def _proposal(item: ProposalItem) -> Proposal:
    return Proposal(
        id=item.proposal_id,
        title=item.title,
        description=item.description,
        status=item.status,  # type: ignore[arg-type]  # written from the Status literal
        created_at=parse_instant(item.created_at),
        decided_at=parse_instant(item.decided_at) if item.decided_at else None,
        note=item.note,
        subscribers=int(item.subscribers or 0),
    )


def _to_item(proposal: Proposal, author: dict[str, Any]) -> ProposalItem:
    return ProposalItem(
        ProposalItem.key(proposal.id),
        PROPOSAL_SK,
        proposal_id=proposal.id,
        title=proposal.title,
        description=proposal.description,
        status=proposal.status,
        created_at=format_instant(proposal.created_at),
        subscribers=proposal.subscribers,
        author=author,
        gsi1pk=EVERY,
        gsi1sk=proposal.id,
        status_key=status_key(proposal.status),
    )


def _subscription(
    proposal_id: str, tenant_id: str, contact: str, now: str, by: dict[str, Any]
) -> SubscriptionItem:
    return SubscriptionItem(
        ProposalItem.key(proposal_id),
        subscription_sk(tenant_id, contact),
        proposal_id=proposal_id,
        tenant_id=tenant_id,
        contact=contact,
        created_at=now,
        subscribed_by=by,
    )


def _follow(tx: TransactWrite, proposal_id: str, tenant_id: str, step: int) -> None:
    tx.update(
        FollowerItem(ProposalItem.key(proposal_id), follower_sk(tenant_id)),
        actions=[FollowerItem.contacts.add(step)],
    )


def _transact(write: Any) -> bool:
    """Run `write(tx)` as one transaction: False when a condition failed or another
    transaction on the same items won (nothing written); throttling goes up as it
    is (the API's 503)."""
    try:
        with TransactWrite(connection=_connection()) as tx:
            write(tx)
    except TransactWriteError as e:
        if e.cause_response_code == "TransactionCanceledException" and not aws.throttled(e):
            return False
        raise
    return True


def create(
    proposal: Proposal, author: dict[str, Any], tenant_id: str, contact: str, now: str
) -> None:
    """A new proposal with its author's subscription (counted: `subscribers` 1)."""

    def write(tx: TransactWrite) -> None:
        tx.save(_to_item(proposal, author), condition=ProposalItem.pk.does_not_exist())
        tx.save(_subscription(proposal.id, tenant_id, contact, now, author))
        _follow(tx, proposal.id, tenant_id, 1)

    if not _transact(write):  # a new ULID taken: cannot happen short of a bug
        raise RuntimeError(f"proposal {proposal.id} exists already")


def read(proposal_id: str, tenant_id: str | None = None) -> tuple[Proposal | None, bool]:
    """The proposal (consistent) and whether `tenant_id` follows it: one
    BatchGetItem of the proposal and the tenant's marker (one GetItem without a
    tenant)."""
    pk = ProposalItem.key(proposal_id)
    if tenant_id is None:
        raw = _table().get_item(pk, PROPOSAL_SK, consistent_read=True).get("Item")
        return (_proposal(ProposalItem.from_raw_data(raw)) if raw else None), False
    raws = _batch_get([(pk, PROPOSAL_SK), (pk, follower_sk(tenant_id))])
    proposal_raw = raws.get((pk, PROPOSAL_SK))
    if proposal_raw is None:
        return None, False
    return _proposal(ProposalItem.from_raw_data(proposal_raw)), _follows(
        raws.get((pk, follower_sk(tenant_id)))
    )


def _follows(raw: Raw | None) -> bool:
    return raw is not None and int(FollowerItem.from_raw_data(raw).contacts or 0) > 0


def _batch_get(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Raw]:
    """Items by (pk, sk): consistent BatchGetItem (at most 100 keys, as a page)."""
    table = ProposalItem.Meta.table_name
    wanted = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in dict.fromkeys(keys)]
    found: dict[tuple[str, str], Raw] = {}
    while wanted:
        # Typed keys are what Model.batch_get passes too; PynamoDB's hint says str.
        data = _table().batch_get_item(wanted, consistent_read=True)  # type: ignore[arg-type]
        for raw in data.get("Responses", {}).get(table, []):
            found[(raw["pk"]["S"], raw["sk"]["S"])] = raw
        wanted = data.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
    return found


def followed(proposal_ids: Iterable[str], tenant_id: str) -> set[str]:
    """Which of these proposals `tenant_id` follows (one BatchGetItem of markers)."""
    keys = [(ProposalItem.key(p), follower_sk(tenant_id)) for p in proposal_ids]
    if not keys:
        return set()
    raws = _batch_get(keys)
    return {pk.removeprefix("PROPOSAL#") for (pk, _), raw in raws.items() if _follows(raw)}


def list_page(
    status: str | None, limit: int, cursor: str | None
) -> tuple[list[Proposal], str | None]:
    """A page of the register, newest first (one Query of `limit + 1` entries of
    the index; the extra one only says whether a next page exists)."""
    if status is None:
        index: Any = ProposalItem.every
        key_name, key = "gsi1pk", EVERY
    else:
        index, key_name, key = ProposalItem.by_status, "status_key", status_key(status)
    page_keys = {"pk", "sk", key_name, "gsi1sk"}
    start = decode_cursor(cursor, {key_name: key}, page_keys)
    items = list(
        index.query(
            key,
            scan_index_forward=False,
            limit=limit + 1,
            page_size=limit + 1,
            last_evaluated_key=start,
        )
    )
    page = items[:limit]
    next_cursor = key_cursor(page[-1], page_keys) if len(items) > limit else None
    return [_proposal(item) for item in page], next_cursor


def subscribe(proposal_id: str, tenant_id: str, contact: str, now: str, by: dict[str, Any]) -> bool:
    """Write a new subscription, count it and mark its tenant a follower, all or
    nothing: False when it exists already, or the proposal is missing or decided
    (a decided one takes none: its subscribers were notified or never will be)."""
    item = _subscription(proposal_id, tenant_id, contact, now, by)

    def write(tx: TransactWrite) -> None:
        tx.save(item, condition=SubscriptionItem.sk.does_not_exist())
        tx.update(
            ProposalItem(ProposalItem.key(proposal_id), PROPOSAL_SK),
            actions=[ProposalItem.subscribers.add(1)],
            condition=ProposalItem.pk.exists() & ~ProposalItem.status.is_in(*FINAL),
        )
        _follow(tx, proposal_id, tenant_id, 1)

    return _transact(write)


def unsubscribe(proposal_id: str, tenant_id: str, contact: str) -> bool:
    """Delete a subscription and uncount it, all or nothing: False when it does not
    exist (or the proposal is gone)."""
    pk = ProposalItem.key(proposal_id)

    def write(tx: TransactWrite) -> None:
        tx.delete(
            SubscriptionItem(pk, subscription_sk(tenant_id, contact)),
            condition=SubscriptionItem.sk.exists(),
        )
        tx.update(
            ProposalItem(pk, PROPOSAL_SK),
            actions=[ProposalItem.subscribers.add(-1)],
            condition=ProposalItem.pk.exists(),
        )
        _follow(tx, proposal_id, tenant_id, -1)

    return _transact(write)


def subscribed(proposal_id: str, tenant_id: str, contact: str) -> bool:
    """Whether that subscription exists (consistent GetItem)."""
    raw = (
        _table()
        .get_item(
            ProposalItem.key(proposal_id),
            subscription_sk(tenant_id, contact),
            consistent_read=True,
        )
        .get("Item")
    )
    return raw is not None


def decide(before: Proposal, after: Proposal, job: RetargetJobItem | None) -> bool:
    """Store a decision, on condition that the proposal is still in the status it
    was read in (False otherwise: another decision won); with an approval, its
    notice job in the same transaction (written once: the decision is final)."""
    actions: list[Action] = [
        ProposalItem.status.set(after.status),
        ProposalItem.status_key.set(status_key(after.status)),
    ]
    if after.note is not None:
        actions.append(ProposalItem.note.set(after.note))
    if after.decided_at is not None:
        actions.append(ProposalItem.decided_at.set(format_instant(after.decided_at)))

    def write(tx: TransactWrite) -> None:
        tx.update(
            ProposalItem(ProposalItem.key(before.id), PROPOSAL_SK),
            actions=actions,
            condition=ProposalItem.pk.exists() & (ProposalItem.status == before.status),
        )
        if job is not None:
            jobs.put_once(tx, job)

    return _transact(write)


def subscriptions_after(proposal_id: str, after: str | None, limit: int) -> list[SubscriptionItem]:
    """Up to `limit` subscriptions of a proposal after subscription key `after`, in
    key order: one consistent Query of `limit` items (every subscription committed
    before the approval is seen; none can be added after it). Fewer than `limit`:
    the last ones (the tenants' markers, sk TENANT#, sort after every SUB#)."""
    condition = (
        SubscriptionItem.sk > after if after is not None else SubscriptionItem.sk.startswith("SUB#")
    )
    query = SubscriptionItem.query(
        ProposalItem.key(proposal_id),
        condition,
        consistent_read=True,
        limit=limit,
        page_size=limit,
    )
    return [item for item in query if item.sk.startswith("SUB#")]


def write_notices(
    job: RetargetJobItem, after: str, notices: Sequence[OutboxItem], now: str
) -> bool:
    """The notices of one batch of subscriptions and the job's move past them, in
    one transaction (the exactly-once point: a notice is written once, and only
    by the runner that moved the job from where it read it). False when another
    runner moved the job first, or a transaction on these items won."""

    def write(tx: TransactWrite) -> None:
        jobs.advance_in(tx, job, after, now)
        for notice in notices:
            tx.save(notice, condition=OutboxItem.pk.does_not_exist())

    return _transact(write)
