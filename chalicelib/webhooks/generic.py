"""`generic`: Standard Webhooks (standardwebhooks.com), verified with the
`standardwebhooks` library: `Webhook-Id`, `Webhook-Timestamp` (Unix seconds,
within 5 minutes), `Webhook-Signature: v1,<base64>` (several, space-separated,
while a sender rotates). The secret is `whsec_<base64>`; the key is the decoded
part.

Body: `{"type", "external_id", "occurred_at", "ticket": {...}, "comment"?: {...}}`
where `ticket` holds POST /tickets fields (and `assignee` for ticket.assigned),
`comment` is `{"body", "public"?, "author_role"?: "agent" | "customer"}`.
"""

from __future__ import annotations

import base64
import secrets as random
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from chalicelib.webhooks.base import (
    EVENT_TYPES,
    MAX_TITLE,
    BadPayload,
    BadSignature,
    Comment,
    EventType,
    PartnerEvent,
    Snapshot,
    header,
    instant,
    load_json,
    obj,
    text,
)

FORMAT = "generic"
PREFIX = "whsec_"
# The generic form names the policy's own priorities (or the partner's priority_map).
DEFAULT_PRIORITIES: dict[str, str] = {}
# POST /tickets fields a generic `ticket` may carry besides title/description/priority.
TICKET_FIELDS = ("kind", "fields", "integration", "tier", "contact")


def new_secret() -> str:
    return PREFIX + base64.b64encode(random.token_bytes(32)).decode()


def secret_problem(secret: str) -> str | None:
    """Why a secret an admin brings is unusable, or None."""
    if not secret.startswith(PREFIX):
        return "a Standard Webhooks secret is whsec_<base64>"
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except ValueError:
        return "the part after whsec_ must be base64"
    if not 24 <= len(key) <= 64:
        return "the key must be 24 to 64 bytes (Standard Webhooks recommends 32)"
    return None


def verify(raw: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime) -> None:
    """Raises BadSignature unless one of `secrets` signed this delivery. The
    library checks the 5-minute timestamp window against the clock itself."""
    del now  # the library reads the clock; the request time is the same instant
    wanted = {name: header(headers, name) for name in ("webhook-id", "webhook-timestamp")}
    signature = header(headers, "webhook-signature")
    if signature is None or None in wanted.values():
        raise BadSignature("Webhook-Id, Webhook-Timestamp and Webhook-Signature are required")
    given = {**cast(dict[str, str], wanted), "webhook-signature": signature}
    try:
        body = raw.decode("utf-8")  # the library signs text (the route refused other bodies)
    except UnicodeDecodeError as e:
        raise BadSignature("the body is not UTF-8 text") from e
    problem = "no signature matches"
    for secret in secrets:
        try:
            Webhook(secret).verify(body, given, json_parse=False)
            return
        except WebhookVerificationError as e:
            problem = str(e)
            if "timestamp" in problem.lower() or "header" in problem.lower():
                break  # the same for every secret
        except ValueError:  # a malformed signature (no "v1,", not base64)
            problem = "malformed Webhook-Signature header"
            break
    raise BadSignature(problem)


def _comment(data: Any) -> Comment:
    c = obj(data, "comment")
    role = c.get("author_role", "agent")
    if role not in ("agent", "customer"):
        raise BadPayload("comment.author_role is agent or customer", {"comment.author_role": role})
    public = c.get("public", True)
    if not isinstance(public, bool):
        raise BadPayload("comment.public must be a boolean", {"comment.public": "not a boolean"})
    body = text(c.get("body"), "comment.body", required=True)
    return Comment(body=str(body), public=public, by_agent=role == "agent")


def parse(raw: bytes, headers: Mapping[str, str]) -> PartnerEvent:
    body = load_json(raw)
    problems: dict[str, str] = {}
    for name in ("type", "external_id", "occurred_at"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            problems[name] = "required (a string)"
    if problems:
        raise BadPayload("the generic form needs type, external_id and occurred_at", problems)
    name = body["type"].strip()[:100]
    ticket = obj(body.get("ticket", {}), "ticket")
    occurred_at = instant(body["occurred_at"], "occurred_at")
    kind: EventType | None = cast(EventType, name) if name in EVENT_TYPES else None
    snapshot = Snapshot(
        title=text(ticket.get("title"), "ticket.title", limit=MAX_TITLE),
        description=text(ticket.get("description"), "ticket.description"),
        priority=text(ticket.get("priority"), "ticket.priority", limit=100),
        # E3: a ticket.created event's occurred_at is the ticket's reported_at.
        created_at=occurred_at if kind == "ticket.created" else None,
        assignee=text(ticket.get("assignee"), "ticket.assignee", limit=MAX_TITLE),
        solved=kind == "ticket.solved",
        extra={k: ticket[k] for k in TICKET_FIELDS if k in ticket},
    )
    event: dict[str, Any] = {}
    if kind == "ticket.updated":
        event["priority"] = snapshot.priority
        if snapshot.priority is None:
            raise BadPayload(
                "a ticket.updated event carries the new ticket.priority",
                {"ticket.priority": "required for ticket.updated"},
            )
    elif kind == "ticket.assigned":
        if snapshot.assignee is None:
            raise BadPayload(
                "a ticket.assigned event names ticket.assignee",
                {"ticket.assignee": "required for ticket.assigned"},
            )
        event["assignee"] = snapshot.assignee
    elif kind == "ticket.solved":
        event["solved"] = True
    elif kind == "comment.created":
        event["comment"] = _comment(body.get("comment"))
    return PartnerEvent(
        name=name,
        type=kind,
        external_id=body["external_id"].strip()[:MAX_TITLE],
        delivery_id=header(headers, "webhook-id") or "",
        occurred_at=occurred_at,
        snapshot=snapshot,
        **event,
    )
