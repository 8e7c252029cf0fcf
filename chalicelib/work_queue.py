"""The SQS adapter of the breach checker's fan-out: the scheduled run sends one
message per worker task (SendMessageBatch, 10 a call) and Lambda's SQS event
source starts one `checker_worker` per message. No rules here: what a task holds
is the checker's."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chalicelib import aws

BATCH = 10  # SendMessageBatch's maximum


class WorkNotQueued(Exception):
    """SQS refused some tasks: the run fails (an alarm), the next run sends again."""


def send(queue_url: str, tasks: Sequence[dict[str, Any]]) -> None:
    """Queue every task as one message (its JSON)."""
    sqs = aws.client("sqs")
    for start in range(0, len(tasks), BATCH):
        chunk = tasks[start : start + BATCH]
        response = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": f"t{i}", "MessageBody": json.dumps(task, separators=(",", ":"))}
                for i, task in enumerate(chunk)
            ],
        )
        if response.get("Failed"):
            raise WorkNotQueued(f"SQS refused {len(response['Failed'])} checker tasks")


def parse(body: str) -> dict[str, Any]:
    """A task from a message body."""
    task: dict[str, Any] = json.loads(body)
    return task
