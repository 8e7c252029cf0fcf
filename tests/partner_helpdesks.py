"""Acting as a partner helpdesk in tests: load a fixture body, move its times next
to now, and sign the bytes the way that helpdesk signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "webhooks"
# Every fixture's times sit around this instant; `retimed` moves them together.
REFERENCE = datetime(2026, 11, 30, 14, 2, 11, tzinfo=UTC)

FORMATS = ("generic", "zendesk", "jira", "freshdesk")
# Per format: the fixtures of a ticket's life (created, priority raised, assigned,
# agent's public reply, solved).
LIFE = {
    "generic": (
        "ticket_created",
        "ticket_updated",
        "ticket_assigned",
        "comment_created",
        "ticket_solved",
    ),
    "zendesk": (
        "ticket_created",
        "priority_changed",
        "agent_assignment_changed",
        "comment_added",
        "status_changed_solved",
    ),
    "jira": (
        "issue_created",
        "issue_updated_priority",
        "issue_updated_assignee",
        "comment_created",
        "issue_updated_resolved",
    ),
    "freshdesk": (
        "ticket_created",
        "priority_changed",
        "agent_assigned",
        "public_note",
        "status_resolved",
    ),
}


def fixture(fmt: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / fmt / f"{name}.json").read_text())
    return data


def _shift_text(value: str, delta: timedelta) -> str:
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    head, dot, rest = text.partition(".")
    if dot:  # Zendesk's nanoseconds: keep microseconds
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6]}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return value
    moved = parsed + delta
    if value.endswith("Z"):
        return moved.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moved.isoformat(timespec="milliseconds")


def retimed(data: Any, start: datetime) -> Any:
    """The body with every time moved so that REFERENCE lands on `start` (RFC 3339
    strings and Jira's epoch-millisecond `timestamp`); order is kept."""
    delta = start - REFERENCE

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and "T" in value:
            return _shift_text(value, delta)
        if key == "timestamp" and isinstance(value, int):
            return value + int(delta.total_seconds() * 1000)
        return value

    return walk(data)


def signed(
    fmt: str,
    secret: str,
    body: bytes,
    *,
    at: datetime | None = None,
    delivery_id: str | None = None,
) -> dict[str, str]:
    """The headers `fmt`'s helpdesk sends with `body`, signed at `at` (now)."""
    at = at or datetime.now(UTC)
    headers = {"Content-Type": "application/json"}
    if fmt == "generic":
        msg_id = delivery_id or f"msg_{uuid.uuid4().hex}"
        try:
            signature = Webhook(secret).sign(msg_id, at, body.decode())
        except UnicodeDecodeError:  # the library signs text: these bytes by hand, as specified
            key = base64.b64decode(secret.removeprefix("whsec_"))
            signed_bytes = f"{msg_id}.{int(at.timestamp())}.".encode() + body
            digest = hmac.new(key, signed_bytes, hashlib.sha256).digest()
            signature = "v1," + base64.b64encode(digest).decode()
        headers.update(
            {
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": signature,
            }
        )
    elif fmt == "zendesk":
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
        headers.update(
            {
                "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
                "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                "X-Zendesk-Webhook-Id": "01JD3WEBHOOK0000000000000",
                "X-Zendesk-Webhook-Invocation-Id": str(uuid.uuid4().int)[:19],
            }
        )
    elif fmt == "jira":
        digest_hex = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers.update(
            {
                "X-Hub-Signature": f"sha256={digest_hex}",
                "X-Atlassian-Webhook-Identifier": delivery_id or str(uuid.uuid4().int)[:12],
            }
        )
    elif fmt == "freshdesk":
        headers["X-Webhook-Token"] = secret
    else:
        raise ValueError(fmt)
    return headers


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()
