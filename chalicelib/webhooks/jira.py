"""`jira`: Jira Service Management (Jira Cloud) admin webhooks with a secret.
Signature: `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>` (the
WebSub method Jira follows). Jira signs the body only, no timestamp and not its
`X-Atlassian-Webhook-Identifier` header: a delivery's identity (the dedupe key) is
the SHA-256 of the signed body, which a retry resends byte for byte and which
differs between any two events (event, ids, epoch-ms `timestamp`).

Mapped: `jira:issue_created` (ticket.created), `jira:issue_updated` by its
`changelog` (priority: ticket.updated; assignee: ticket.assigned; a status in
the done category or a resolution: ticket.solved), `comment_created`
(comment.created; `jsdPublic`, and an author of `accountType: customer` is the
customer). The event time is the payload's `timestamp` (epoch milliseconds).
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chalicelib.webhooks.base import (
    MAX_TITLE,
    BadPayload,
    BadSignature,
    Comment,
    EventType,
    PartnerEvent,
    Snapshot,
    any_matches,
    epoch_ms,
    header,
    hmac_sha256,
    instant,
    items,
    load_json,
    new_token_secret,
    obj,
    part,
    signed_content_id,
    text,
    token_secret_problem,
)

FORMAT = "jira"
SIGNATURE = "x-hub-signature"
DEFAULT_PRIORITIES = {
    "highest": "blocker",
    "blocker": "blocker",
    "high": "high",
    "critical": "high",
    "medium": "medium",
    "major": "medium",
    "low": "low",
    "lowest": "low",
    "minor": "low",
    "trivial": "low",
}


new_secret = new_token_secret
secret_problem = token_secret_problem


def verify(raw: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime) -> None:
    del now  # Jira signs no timestamp (see the module docstring)
    given = header(headers, SIGNATURE)
    if given is None:
        raise BadSignature("X-Hub-Signature is required")
    method, _, hexdigest = given.partition("=")
    if method.strip().lower() != "sha256":
        raise BadSignature("X-Hub-Signature must be sha256=<hex>")
    try:
        digest = bytes.fromhex(hexdigest.strip())
    except (ValueError, binascii.Error) as e:
        raise BadSignature("X-Hub-Signature is not hex") from e
    if not any_matches([hmac_sha256(s.encode(), raw) for s in secrets], digest):
        raise BadSignature("no signature matches")


def _person(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    for name in ("accountId", "emailAddress", "name", "displayName"):
        if isinstance(value.get(name), str) and value[name].strip():
            return str(value[name]).strip()[:MAX_TITLE]
    return None


def _done(fields: Mapping[str, Any]) -> bool:
    status = part(fields, "status")
    category = part(status, "statusCategory")
    return category.get("key") == "done" or bool(fields.get("resolution"))


def _snapshot(issue: Mapping[str, Any]) -> Snapshot:
    fields = obj(issue.get("fields", {}), "issue.fields")
    description = fields.get("description")
    priority = part(fields, "priority")
    created = fields.get("created")
    return Snapshot(
        title=text(fields.get("summary"), "issue.fields.summary", limit=MAX_TITLE),
        # Jira Cloud may send rich text (an ADF document) instead of a string.
        description=text(description, "issue.fields.description")
        if isinstance(description, str)
        else None,
        priority=text(priority.get("name"), "issue.fields.priority.name", limit=100),
        created_at=instant(created, "issue.fields.created") if created else None,
        assignee=_person(fields.get("assignee")),
        solved=_done(fields),
    )


def parse(raw: bytes, headers: Mapping[str, str]) -> PartnerEvent:
    del headers  # nothing in them is signed
    body = load_json(raw)
    name = body.get("webhookEvent")
    if not isinstance(name, str) or not name.strip():
        raise BadPayload(
            "not a Jira webhook: webhookEvent is missing", {"webhookEvent": "required"}
        )
    name = name.strip()[:100]
    issue = obj(body.get("issue"), "issue")
    external_id = text(issue.get("id"), "issue.id", limit=MAX_TITLE) or text(
        issue.get("key"), "issue.key", limit=MAX_TITLE
    )
    if external_id is None:
        raise BadPayload("the event names no issue", {"issue.id": "required"})
    occurred_at = epoch_ms(body.get("timestamp"), "timestamp")
    snapshot = _snapshot(issue)
    mapped: EventType | None = None
    changes: dict[str, Any] = {}
    if name == "jira:issue_created":
        mapped = "ticket.created"
    elif name == "jira:issue_updated":
        changelog = part(body, "changelog")
        for item in items(changelog, "items"):
            if not isinstance(item, dict):
                continue
            field = str(item.get("field") or item.get("fieldId") or "").lower()
            if field == "priority":
                changes["priority"] = text(item.get("toString"), "changelog.toString", limit=100)
            elif field == "assignee":
                assignee = text(item.get("to"), "changelog.to", limit=MAX_TITLE) or text(
                    item.get("toString"), "changelog.toString", limit=MAX_TITLE
                )
                if assignee is not None:
                    changes["assignee"] = assignee
            elif field in ("status", "resolution") and snapshot.solved:
                changes["solved"] = True
        changes = {k: v for k, v in changes.items() if v is not None}
        if "priority" in changes:
            mapped = "ticket.updated"
        elif "assignee" in changes:
            mapped = "ticket.assigned"
        elif changes.get("solved"):
            mapped = "ticket.solved"
    elif name == "comment_created":
        comment = obj(body.get("comment"), "comment")
        author = part(comment, "author")
        mapped = "comment.created"
        changes["comment"] = Comment(
            body=str(text(comment.get("body"), "comment.body", required=True)),
            public=comment.get("jsdPublic") is not False,
            by_agent=author.get("accountType") != "customer",
        )
    # The signature covers the body only: X-Atlassian-Webhook-Identifier is not
    # signed, so a captured delivery re-posted with a new one must still be the same
    # delivery. The body (event, issue, comment or changelog ids, epoch-ms timestamp)
    # is what identifies it, and a retry resends it byte for byte.
    delivery_id = signed_content_id(raw)
    return PartnerEvent(
        name=name,
        type=mapped,
        external_id=external_id,
        delivery_id=delivery_id,
        occurred_at=occurred_at,
        snapshot=snapshot,
        **changes,
    )
