"""Publishing the outbox: what was written is published, then marked sent.
Used right after an API change and by every breach-checker run (retries)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from chalicelib import alerts
from chalicelib.domain.instants import format_instant
from chalicelib.store import outbox
from chalicelib.store.models import OutboxItem, plain

CLAIM_SECONDS = 55  # under the checker's period: a killed publisher's claim lapses by the next run

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
    accepted = alerts.publish([plain(item.message) for item in items])
    sent = [item for item in items if item.alert_id in accepted]
    if sent:
        outbox.mark_sent(sent, format_instant(now))
    return len(sent)


def retry_unsent(now: datetime) -> int:
    """Publish what earlier runs or requests wrote but could not publish (their
    writer's claim has lapsed: it died, or SNS refused)."""
    epoch = int(wall_clock())
    mine = [
        item
        for shard in range(outbox.OUTBOX_SHARDS)
        for item in outbox.unsent(shard)
        if item.claim_until < epoch and outbox.claim(item, epoch, claim_until())
    ]
    return publish_items(mine, now)
