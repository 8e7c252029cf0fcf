"""Publishing the outbox: what was written is published, then marked sent.
Used right after an API change and by every breach-checker run (retries)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from chalicelib import alerts
from chalicelib.domain.instants import format_instant
from chalicelib.store import outbox
from chalicelib.store import tenants as tenant_store
from chalicelib.store.models import OutboxItem, plain

CLAIM_SECONDS = 55  # under the checker's period: a killed publisher's claim lapses by the next run
KEEP_SENT_SECONDS = 30 * 24 * 3600  # a sent alert's item expires (TTL) after 30 days
NAMESPACE = "slaguard"

# Claims are about real time (who is publishing right now), not about the instant
# a checker run evaluates (`check --at` may name any instant).
wall_clock = time.time


def claim_until() -> int:
    return int(wall_clock()) + CLAIM_SECONDS


def publish_items(items: Sequence[OutboxItem], now: datetime) -> int:
    """Publish claimed outbox items and mark the accepted ones sent. SNS failing
    is not an error here: the items stay unsent and the next run retries them."""
    if not items:
        return 0
    messages = [plain(item.message) for item in items]
    accepted = alerts.publish(messages, audiences({m["tenant_id"] for m in messages}))
    sent = [item for item in items if item.alert_id in accepted]
    if sent:
        outbox.mark_sent(sent, format_instant(now), int(wall_clock()) + KEEP_SENT_SECONDS)
    return len(sent)


Mapper = Callable[..., Iterator[Any]]  # builtin `map`, or an executor's


def audiences(tenant_ids: set[str]) -> dict[str, alerts.Audience]:
    """Each tenant's name and locale for the alerts' summaries (one BatchGetItem)."""
    return {
        tenant_id: alerts.Audience(
            name=doc.get("name") or tenant_id, locale=doc.get("locale") or "en"
        )
        for tenant_id, doc in tenant_store.tenant_docs(tenant_ids).items()
    }


def retry_unsent(
    now: datetime, shards: Iterable[int] | None = None, map_: Mapper = map
) -> tuple[int, int]:
    """Publish what earlier runs or requests wrote but could not publish (their
    writer's claim has lapsed: it died, or SNS refused), from these outbox shards
    (all by default). `map_` runs the claims (one conditional update each),
    concurrently when it is a thread pool's. Returns (published, backlog): the
    backlog is what the caller reports as `OutboxBacklog` (its alarm), the unsent
    alerts no publisher held any more; an alert a live request or run claimed
    seconds ago is not one."""
    epoch = int(wall_clock())
    until = claim_until()
    pending = [
        item
        for shard in (range(outbox.OUTBOX_SHARDS) if shards is None else shards)
        for item in outbox.unsent(shard)
    ]
    lapsed = [item for item in pending if item.claim_until < epoch]
    claimed = map_(lambda item: outbox.claim(item, epoch, until), lapsed)
    mine = [item for item, ok in zip(lapsed, claimed, strict=True) if ok]
    return publish_items(mine, now), len(lapsed)
