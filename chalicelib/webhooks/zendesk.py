"""`zendesk`: Zendesk webhooks subscribed to ticket events
(`zen:event-type:ticket.*`). Signature: `X-Zendesk-Webhook-Signature` =
base64(HMAC-SHA256(secret, timestamp + raw body)) with
`X-Zendesk-Webhook-Signature-Timestamp` (RFC 3339, within 5 minutes); the
signing secret's characters are the key as they are (not base64-decoded).

Mapped: ticket.created; priority_changed (ticket.updated); status_changed to
SOLVED or CLOSED (ticket.solved); agent_assignment_changed (ticket.assigned);
comment_added (comment.created). Every other ticket event is recorded only.
Dedupe on the event's `id` (in the signed body, the same on every retry of that
event), else on the signed message (timestamp + body); never on the unsigned
`X-Zendesk-Webhook-Invocation-Id`.
"""

from __future__ import annotations

import base64
import binascii
import secrets as random
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.webhooks.base import (
    MAX_TITLE,
    TOLERANCE,
    BadPayload,
    BadSignature,
    Comment,
    EventType,
    PartnerEvent,
    Snapshot,
    any_matches,
    header,
    hmac_sha256,
    instant,
    load_json,
    obj,
    part,
    signed_content_id,
    text,
)

FORMAT = "zendesk"
PREFIX = "zen:event-type:"
SIGNATURE = "x-zendesk-webhook-signature"
TIMESTAMP = "x-zendesk-webhook-signature-timestamp"
DEFAULT_PRIORITIES = {"urgent": "blocker", "high": "high", "normal": "medium", "low": "low"}
SOLVED = frozenset({"solved", "closed"})


def new_secret() -> str:
    return base64.b64encode(random.token_bytes(32)).decode()


def secret_problem(secret: str) -> str | None:
    if not 16 <= len(secret) <= 256 or any(c.isspace() for c in secret):
        return "16 to 256 characters, no spaces"
    return None


def signature(secret: str, message: bytes) -> bytes:
    """Zendesk's digest: the secret's characters are the key, as they are."""
    return hmac_sha256(secret.encode(), message)


def verify(raw: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime) -> None:
    given, stamp = header(headers, SIGNATURE), header(headers, TIMESTAMP)
    if given is None or stamp is None:
        raise BadSignature(
            "X-Zendesk-Webhook-Signature and X-Zendesk-Webhook-Signature-Timestamp are required"
        )
    try:
        at = instant(stamp, "timestamp")
    except BadPayload as e:
        raise BadSignature("X-Zendesk-Webhook-Signature-Timestamp is not an RFC 3339 time") from e
    if abs(now - at) > TOLERANCE:
        raise BadSignature("the signature timestamp is more than 5 minutes from now")
    try:
        digest = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError) as e:
        raise BadSignature("the signature is not base64") from e
    message = _signed_message(raw, headers)
    if not any_matches([signature(s, message) for s in secrets], digest):
        raise BadSignature("no signature matches")


def _signed_message(raw: bytes, headers: Mapping[str, str]) -> bytes:
    """What Zendesk signs: the signature timestamp header, then the raw body."""
    return (header(headers, TIMESTAMP) or "").encode() + raw


def _id(value: Any) -> str | None:
    """An id Zendesk sends as a string, a number or an object with `id`."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or isinstance(value, bool) or str(value).strip() in ("", "0"):
        return None
    return str(value).strip()[:MAX_TITLE]


def parse(raw: bytes, headers: Mapping[str, str]) -> PartnerEvent:
    body = load_json(raw)
    kind = body.get("type")
    if not isinstance(kind, str) or not kind.startswith(PREFIX):
        raise BadPayload(
            "not a Zendesk event: type must be zen:event-type:...",
            {"type": "expected zen:event-type:<event>"},
        )
    name = kind[len(PREFIX) :][:100]
    detail = obj(body.get("detail"), "detail")
    event = part(body, "event")
    external_id = _id(detail.get("id"))
    if external_id is None and isinstance(body.get("subject"), str):
        external_id = body["subject"].rpartition(":")[2].strip() or None
    if external_id is None:
        raise BadPayload("the event names no ticket", {"detail.id": "required"})
    # The event's `id` (in the signed body, the same on every retry of the event);
    # without one, the signed message itself (timestamp + body). Never the
    # X-Zendesk-Webhook-Invocation-Id header: it is not signed.
    delivery_id = text(body.get("id"), "id", limit=MAX_TITLE) or signed_content_id(
        _signed_message(raw, headers)
    )
    occurred_at = instant(body.get("time"), "time")
    status = str(detail.get("status") or "").lower()
    created = detail.get("created_at")
    snapshot = Snapshot(
        title=text(detail.get("subject"), "detail.subject", limit=MAX_TITLE),
        description=text(detail.get("description"), "detail.description"),
        priority=text(detail.get("priority"), "detail.priority", limit=100),
        created_at=instant(created, "detail.created_at") if created else None,
        assignee=_id(detail.get("assignee_id")),
        solved=status in SOLVED,
    )
    mapped: EventType | None = None
    changes: dict[str, Any] = {}
    if name == "ticket.created":
        mapped = "ticket.created"
    elif name == "ticket.priority_changed":
        priority = text(event.get("current"), "event.current", limit=100)
        if priority is not None:
            mapped, changes["priority"] = "ticket.updated", priority
    elif name == "ticket.status_changed":
        if str(event.get("current") or "").lower() in SOLVED:
            mapped, changes["solved"] = "ticket.solved", True
    elif name == "ticket.agent_assignment_changed":
        assignee = _id(event.get("current"))
        if assignee is not None:
            mapped, changes["assignee"] = "ticket.assigned", assignee
    elif name == "ticket.comment_added":
        comment = obj(event.get("comment"), "event.comment")
        author = part(comment, "author")
        mapped = "comment.created"
        changes["comment"] = Comment(
            body=str(text(comment.get("body"), "event.comment.body", required=True)),
            public=comment.get("is_public") is not False,
            by_agent=author.get("is_staff") is True,
        )
    return PartnerEvent(
        name=name,
        type=mapped,
        external_id=external_id,
        delivery_id=delivery_id,
        occurred_at=occurred_at,
        snapshot=snapshot,
        **changes,
    )
