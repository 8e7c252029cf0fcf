"""Typed settings, read from the environment when asked (never at import time).

The Chalice test client and `chalice local` swap the stage's environment in per
request, so settings are read on every call: building this object costs a few
dictionary lookups, far less than any AWS call it configures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_name: str
    idempotency_table_name: str
    alerts_topic_arn: str
    due_shards: int
    endpoint_url: str | None
    # The breach checker's fan-out (docs/performance.md: sizing): the scheduled run splits
    # the due index's shards into `checker_workers` ranges, one worker each, sent to
    # `checker_queue_url` (SQS, one Lambda per message) or, with no queue, run in
    # process one after another (local stack, tests, `check --at`).
    checker_workers: int
    checker_threads: int
    checker_queue_url: str | None
    checker_budget_seconds: float
    # The KMS key (id, ARN or alias) that encrypts partner webhook secrets at rest.
    webhook_key_id: str
    # TICKET_LISTS=legacy (docs/deploy.md, upgrading an existing stack): while a
    # stack created before the lists' own `tickets_*` indexes builds them, the lists
    # read the `by_*` indexes of projection ALL, and tickets are still written there;
    # the readers of a tenant's tickets by reported instant read `by_reported`.
    legacy_ticket_lists: bool


def get_settings() -> Settings:
    env = os.environ
    stage = _stage()
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    shards = due_shards()
    return Settings(
        stage=stage,
        region=region,
        table_name=table_name(),
        idempotency_table_name=env.get("IDEMPOTENCY_TABLE_NAME", f"slaguard-idempotency-{stage}"),
        alerts_topic_arn=env.get(
            "ALERTS_TOPIC_ARN", f"arn:aws:sns:{region}:123456789012:slaguard-alerts"
        ),
        due_shards=shards,
        endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        checker_workers=max(1, min(int(env.get("CHECKER_WORKERS") or shards), shards)),
        checker_threads=max(1, int(env.get("CHECKER_THREADS", "16"))),
        checker_queue_url=env.get("CHECKER_QUEUE_URL") or None,
        checker_budget_seconds=float(env.get("CHECKER_BUDGET_SECONDS", "50")),
        webhook_key_id=env.get("WEBHOOK_KEY_ID", webhook_key_alias(stage)),
        legacy_ticket_lists=legacy_ticket_lists(),
    )


def _stage() -> str:
    return os.environ.get("STAGE", "dev")


def table_name() -> str:
    """The main table's name alone: PynamoDB asks for it several times per call
    (`store.models`), 13 times per alert in the breach checker, where building
    every setting (`get_settings`, ~20 us) cost 0.25 ms of CPU per alert."""
    name = os.environ.get("TABLE_NAME")
    return name if name is not None else f"slaguard-{_stage()}"


def due_shards() -> int:
    """DUE_SHARDS alone: every ticket write asks for it (`store.tickets.due_shard`)."""
    return int(os.environ.get("DUE_SHARDS", "8"))


def legacy_ticket_lists() -> bool:
    """TICKET_LISTS=legacy alone: every ticket write asks for it (`store.tickets.to_raw`)."""
    return os.environ.get("TICKET_LISTS") == "legacy"


def webhook_key_alias(stage: str) -> str:
    """The alias of the stage's webhook-secret KMS key when WEBHOOK_KEY_ID is unset."""
    return f"alias/slaguard-{stage}-webhooks"
