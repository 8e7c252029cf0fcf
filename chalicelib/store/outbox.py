"""The alert outbox (docs/alerts.md, the checker): an alert is written as its own item, in the
same transaction as the ticket change that raised it, then published and marked
sent. Unsent items sit in a sparse index that the next checker run retries. A
proposal's notices (A8) are outbox items too, in the proposal's partition."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from pynamodb.exceptions import UpdateError
from ulid import ULID

from chalicelib.store.models import OutboxItem, ProposalItem, TicketItem

OUTBOX_SHARDS = 4


def outbox_shard(ticket_id: str) -> str:
    return f"OUTBOX#{zlib.crc32(ticket_id.encode()) % OUTBOX_SHARDS}"


def new_item(
    ticket_id: str, key: str, message: dict[str, Any], created_at: str, claim_until: int
) -> OutboxItem:
    """An unsent alert, already claimed by its writer until `claim_until` (epoch s),
    so that a concurrent retry does not publish it too."""
    return _unsent(
        TicketItem.key(ticket_id),
        f"OUTBOX#{key}",
        outbox_shard(ticket_id),
        message,
        created_at,
        claim_until,
    )


def new_notice(
    proposal_id: str, key: str, message: dict[str, Any], created_at: str, claim_until: int
) -> OutboxItem:
    """An unsent notice of a proposal's subscription (A8), in the proposal's
    partition (sk OUTBOX#<key>), claimed like an alert. Sharded by the key: the
    notices of one proposal spread over every outbox shard."""
    return _unsent(
        ProposalItem.key(proposal_id),
        f"OUTBOX#{key}",
        outbox_shard(f"{proposal_id}:{key}"),
        message,
        created_at,
        claim_until,
    )


def _unsent(
    pk: str, sk: str, shard: str, message: dict[str, Any], created_at: str, claim_until: int
) -> OutboxItem:
    return OutboxItem(
        pk,
        sk,
        alert_id=message["id"],
        message=message,
        created_at=created_at,
        claim_until=claim_until,
        outbox_shard=shard,
        outbox_id=str(ULID()),
    )


def unsent(shard: int) -> Iterator[OutboxItem]:
    """Every unpublished alert of one shard (a Query of the sparse index)."""
    return OutboxItem.unsent.query(f"OUTBOX#{shard}")


def claim(item: OutboxItem, now: int, until: int) -> bool:
    """Take an unsent alert for publishing unless another publisher holds it."""
    try:
        item.update(
            actions=[OutboxItem.claim_until.set(until)],
            condition=OutboxItem.outbox_shard.exists() & (OutboxItem.claim_until < now),
        )
    except UpdateError as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def mark_sent(items: Iterable[OutboxItem], sent_at: str, expires_at: int) -> None:
    """Drop published alerts from the unsent index (batched writes of whole items);
    DynamoDB's TTL deletes them after `expires_at` (epoch s)."""
    with OutboxItem.batch_write() as batch:
        for item in items:
            item.outbox_shard = None
            item.outbox_id = None
            item.sent_at = sent_at
            item.expires_at = expires_at
            batch.save(item)
