"""The SNS adapter: the alert message of the contract (API.md, Alerts) and its
publication with PublishBatch. No rules here: what to alert is the domain's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger

from chalicelib import aws
from chalicelib.settings import get_settings

logger = Logger(service="slaguard-alerts")

BATCH = 10  # PublishBatch's maximum


def alert_id(ticket_id: str, key: str) -> str:
    """Stable per (ticket, metric, threshold) or (ticket, type): subscribers dedupe on it."""
    return f"{ticket_id}:{key}"


def message(
    *,
    key: str,
    type_: str,
    tenant_id: str,
    ticket_id: str,
    priority: str,
    occurred_at: str,
    metric: str | None = None,
    level: int | None = None,
    threshold_pct: int | None = None,
    due_at: str | None = None,
) -> dict[str, Any]:
    return {
        "id": alert_id(ticket_id, key),
        "type": type_,
        "tenant_id": tenant_id,
        "ticket_id": ticket_id,
        "metric": metric,
        "level": level,
        "threshold_pct": threshold_pct,
        "due_at": due_at,
        "priority": priority,
        "occurred_at": occurred_at,
    }


def _attributes(msg: dict[str, Any]) -> dict[str, Any]:
    """String attributes, so subscription filter policies can select alerts."""
    values = {
        "type": msg["type"],
        "tenant_id": msg["tenant_id"],
        "priority": msg["priority"],
        "level": str(msg["level"] if msg["level"] is not None else 0),
    }
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}


def publish(messages: Sequence[dict[str, Any]]) -> set[str]:
    """Publish alerts, 10 per PublishBatch; returns the ids SNS accepted. SNS
    failing is not an error here: what was not accepted stays in the outbox and
    the next checker run retries it."""
    import json

    from botocore.exceptions import BotoCoreError, ClientError

    sns = aws.client("sns")
    topic = get_settings().alerts_topic_arn
    accepted: set[str] = set()
    for start in range(0, len(messages), BATCH):
        chunk = messages[start : start + BATCH]
        by_entry = {f"m{i}": msg["id"] for i, msg in enumerate(chunk)}
        try:
            response = sns.publish_batch(
                TopicArn=topic,
                PublishBatchRequestEntries=[
                    {
                        "Id": f"m{i}",
                        "Message": json.dumps(msg, separators=(",", ":")),
                        "MessageAttributes": _attributes(msg),
                    }
                    for i, msg in enumerate(chunk)
                ],
            )
        except (BotoCoreError, ClientError) as e:
            logger.warning("alerts not published; left for retry", count=len(chunk), error=str(e))
            break
        accepted |= {by_entry[ok["Id"]] for ok in response.get("Successful", [])}
    return accepted
