"""`freshdesk`: Freshdesk automation rules ("Trigger webhook" action). Freshdesk
signs nothing: the rule sends our shared secret in a header, `X-Webhook-Token`,
compared in constant time. Its body is what the rule's JSON content says; the
docs/partners.md gives the content to paste, `{"freshdesk_webhook": {...}}` with
Freshdesk's placeholders, `triggered_event` first:

- `{ticket_action:created}`: ticket.created
- `{priority:{from:3,to:4}}`: ticket.updated (`ticket_priority`, or `to`)
- `{status:{from:2,to:4}}` to Resolved (4) or Closed (5): ticket.solved
- `{responder_id:{from:...,to:...}}`: ticket.assigned (`ticket_agent_email`)
- `{note_type:public|private}`, `{reply_sent:sent}`: comment.created

Freshdesk bodies carry no event time: they apply in arrival order. A delivery's
identity is the ticket id + triggered event + the body's SHA-256.
"""

from __future__ import annotations

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
    body_digest,
    header,
    load_json,
    new_token_secret,
    obj,
    text,
    token_secret_problem,
)

FORMAT = "freshdesk"
TOKEN = "x-webhook-token"  # noqa: S105 (a header name)
DEFAULT_PRIORITIES = {
    "4": "blocker",
    "urgent": "blocker",
    "3": "high",
    "high": "high",
    "2": "medium",
    "medium": "medium",
    "1": "low",
    "low": "low",
}
SOLVED = frozenset({"4", "5", "resolved", "closed"})


new_secret = new_token_secret
secret_problem = token_secret_problem


def verify(raw: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime) -> None:
    del raw, now  # a shared token: nothing is signed, nothing is timed
    token = header(headers, TOKEN)
    if token is None:
        raise BadSignature("X-Webhook-Token is required")
    if not any_matches([s.encode() for s in secrets], token.encode()):
        raise BadSignature("the token does not match")


def triggered(value: str) -> tuple[str, str | None, str | None]:
    """`{ticket_action:created}` -> ("ticket_action", "created", None);
    `{priority:{from:3,to:4}}` -> ("priority", "3", "4"). Not JSON: Freshdesk
    writes it unquoted."""
    parts = [p.strip() for p in value.replace("{", "").replace("}", "").split(":")]
    parts = [q for p in parts for q in p.split(",")]
    if len(parts) == 2 and parts[0]:
        return parts[0], parts[1], None
    if len(parts) == 5 and parts[0] and parts[1] == "from" and parts[3] == "to":
        return parts[0], parts[2], parts[4]
    raise BadPayload(
        f"triggered_event {value!r} is not Freshdesk's {{name:value}} form",
        {"freshdesk_webhook.triggered_event": "not {name:value} or {name:{from:a,to:b}}"},
    )


def parse(raw: bytes, headers: Mapping[str, str]) -> PartnerEvent:
    del headers
    body = obj(load_json(raw).get("freshdesk_webhook"), "freshdesk_webhook")
    where = "freshdesk_webhook."
    ticket_id = text(body.get("ticket_id"), where + "ticket_id", limit=MAX_TITLE, required=True)
    event = text(body.get("triggered_event"), where + "triggered_event", limit=200, required=True)
    name, first, to = triggered(str(event))
    status = str(body.get("ticket_status") or "").strip().lower()
    snapshot = Snapshot(
        title=text(body.get("ticket_subject"), where + "ticket_subject", limit=MAX_TITLE),
        description=text(body.get("ticket_description"), where + "ticket_description"),
        priority=text(body.get("ticket_priority"), where + "ticket_priority", limit=100),
        assignee=text(
            body.get("ticket_agent_email"), where + "ticket_agent_email", limit=MAX_TITLE
        ),
        solved=status in SOLVED,
    )
    mapped: EventType | None = None
    changes: dict[str, Any] = {}
    if name == "ticket_action" and first == "created":
        mapped = "ticket.created"
    elif name == "priority":
        priority = snapshot.priority or to
        if priority:
            mapped, changes["priority"] = "ticket.updated", priority
    elif name == "status":
        if (to or "").lower() in SOLVED or (to is None and snapshot.solved):
            mapped, changes["solved"] = "ticket.solved", True
    elif name == "responder_id":
        assignee = snapshot.assignee or (to if to not in (None, "", "null") else None)
        if assignee:
            mapped, changes["assignee"] = "ticket.assigned", assignee
    elif name in ("note_type", "reply_sent"):
        public = not (name == "note_type" and first == "private")
        field = "ticket_latest_public_comment" if public else "ticket_latest_private_comment"
        comment = text(body.get(field), where + field)
        if comment is None:
            raise BadPayload(
                f"a comment event needs {field} in the rule's JSON content",
                {where + field: "required for comment events"},
            )
        mapped = "comment.created"
        changes["comment"] = Comment(body=comment, public=public, by_agent=True)
    return PartnerEvent(
        name=name,
        type=mapped,
        external_id=str(ticket_id),
        delivery_id=f"{ticket_id}|{event}|{body_digest(raw)}",
        occurred_at=None,
        snapshot=snapshot,
        **changes,
    )
