"""What every partner format turns a delivery into, and the errors it raises.

A format module (generic, zendesk, jira, freshdesk) is an adapter: it checks a
delivery's signature over the raw bytes received and maps the partner's payload
onto a `PartnerEvent`. It knows the partner's shapes, never our rules: what an
event does to a ticket is the ingest service's and the domain's business.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from chalicelib import storable

# Our events (docs/api.md, Webhooks).
EventType = Literal[
    "ticket.created", "ticket.updated", "comment.created", "ticket.assigned", "ticket.solved"
]
EVENT_TYPES: tuple[str, ...] = (
    "ticket.created",
    "ticket.updated",
    "comment.created",
    "ticket.assigned",
    "ticket.solved",
)
# A signed timestamp further than this from the request time is refused (replay guard).
TOLERANCE = timedelta(minutes=5)
MAX_TITLE = 200
MAX_TEXT = 20000


class BadSignature(Exception):
    """Missing, malformed or wrong signature, or a stale timestamp (HTTP 401)."""


class BadPayload(Exception):
    """A correctly signed delivery whose body we cannot use (HTTP 400, `code`)."""

    def __init__(
        self, message: str, fields: Mapping[str, str] | None = None, code: str = "invalid_payload"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        self.code = code


@dataclass(frozen=True)
class Snapshot:
    """The partner ticket as the event shows it; enough to open our ticket when
    the event is the first we hear of it (`title` is then required)."""

    title: str | None = None
    description: str | None = None
    priority: str | None = None  # the partner's value, not mapped yet
    created_at: datetime | None = None  # the partner's creation time: reported_at (E3)
    assignee: str | None = None
    solved: bool = False
    # The generic form's other POST /tickets fields (kind, fields, contact, ...).
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Comment:
    body: str
    public: bool
    by_agent: bool  # the partner's staff wrote it (an agent's reply), else the customer


@dataclass(frozen=True)
class PartnerEvent:
    """One delivery, mapped. `type` is None for an event we do not use (recorded,
    answered 202). The changes it carries: `priority`, `assignee`, `solved`,
    `comment`; a `ticket.created` carries only its snapshot."""

    name: str  # the partner's own event name (history type `webhook.<name>` when unused)
    type: EventType | None
    external_id: str
    delivery_id: str
    occurred_at: datetime | None  # None (Freshdesk): applies in arrival order
    snapshot: Snapshot = Snapshot()
    priority: str | None = None
    assignee: str | None = None
    solved: bool = False
    comment: Comment | None = None


# ---------------------------------------------------------------- helpers for formats


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name, stripped; None when absent or empty."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value.strip() or None
    return None


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def any_matches(expected: Sequence[bytes], given: bytes) -> bool:
    """Whether `given` equals one of `expected`, each compared in constant time
    (every candidate is compared, so timing does not tell which one matched)."""
    matched = False
    for candidate in expected:
        matched |= hmac.compare_digest(candidate, given)
    return matched


def load_json(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object DynamoDB can store (`chalicelib.storable`, the one
    rule), or BadPayload naming each value that is not."""
    try:
        # Decoded first: json.loads would take UTF-16 or UTF-32 bytes too (RFC 8259 8.1).
        data = storable.parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError as e:  # a ValueError too: first
        raise BadPayload("the body is not UTF-8", {"body": "must be UTF-8 JSON"}) from e
    except RecursionError as e:
        raise BadPayload("the body is nested too deeply", {"body": "nested too deeply"}) from e
    except ValueError as e:  # json's own message says where: "Expecting value: line 1 ..."
        raise BadPayload(f"the body is not valid JSON: {e}", {"body": "malformed JSON"}) from e
    if not isinstance(data, dict):
        raise BadPayload("the body must be a JSON object", {"body": "must be an object"})
    found = storable.problems(data)
    if found:
        raise BadPayload("the body has values that cannot be stored", found)
    return data


def signed_content_id(signed: bytes) -> str:
    """A delivery's identity from the very bytes its sender signed (`body:<SHA-256>`),
    for the formats whose delivery-id header is not signed: the same signed bytes
    again are the same delivery, whatever the unsigned headers say."""
    return f"body:{hashlib.sha256(signed).hexdigest()}"


def within_clock(event: PartnerEvent, now: datetime) -> PartnerEvent:
    """The event with its times bounded by its arrival (`now`): a time more than
    TOLERANCE after arrival is refused (`event_in_future`: a sender's clock or a
    forged body would otherwise freeze the ticket, every genuine later event looking
    older); one within it is clamped to `now`, so no "last seen" time is ever ahead
    of the clock."""
    times = {"occurred_at": event.occurred_at, "created_at": event.snapshot.created_at}
    for name, at in times.items():
        if at is not None and at - now > TOLERANCE:
            raise BadPayload(
                f"the event's {name} ({at.isoformat()}) is more than 5 minutes after its "
                "arrival: the sender's clock is ahead",
                {name: "more than 5 minutes in the future"},
                code="event_in_future",
            )
    occurred = min(event.occurred_at, now) if event.occurred_at is not None else None
    created = event.snapshot.created_at
    snapshot = event.snapshot
    if created is not None and created > now:
        snapshot = replace(snapshot, created_at=now)
    if occurred == event.occurred_at and snapshot is event.snapshot:
        return event
    return replace(event, occurred_at=occurred, snapshot=snapshot)


def instant(value: Any, where: str) -> datetime:
    """An RFC 3339 / ISO 8601 instant with an offset (Jira's `-0400` too), in UTC."""
    if not isinstance(value, str):
        raise BadPayload(f"{where} must be an RFC 3339 time", {where: "must be an RFC 3339 time"})
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Zendesk sends nanoseconds: datetime keeps microseconds.
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[:digits][:6] + rest[digits:]
        text = f"{head}.{rest}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as e:
        raise BadPayload(f"{where} is not an RFC 3339 time", {where: "not an RFC 3339 time"}) from e
    if parsed.tzinfo is None:
        raise BadPayload(f"{where} needs an offset", {where: "needs an offset (Z or +hh:mm)"})
    try:
        return parsed.astimezone(UTC)
    except OverflowError as e:
        raise BadPayload(f"{where} is out of range", {where: "out of range"}) from e


def epoch_ms(value: Any, where: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadPayload(f"{where} must be epoch milliseconds", {where: "must be a number"})
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError) as e:
        raise BadPayload(f"{where} is out of range", {where: "out of range"}) from e


def text(value: Any, where: str, *, limit: int = MAX_TEXT, required: bool = False) -> str | None:
    """A string field, trimmed to `limit`; None when absent or empty."""
    if value is None or value == "":
        if required:
            raise BadPayload(f"{where} is required", {where: "required"})
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadPayload(f"{where} must be a string", {where: "must be a string"})
    result = str(value).strip()
    if not result:
        if required:
            raise BadPayload(f"{where} is required", {where: "required"})
        return None
    return result[:limit]


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadPayload(f"{where} must be an object", {where: "must be an object"})
    return value


def body_digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def part(value: Mapping[str, Any], name: str) -> dict[str, Any]:
    """`value[name]` when it is an object, else {} (optional nested parts)."""
    found = value.get(name)
    return found if isinstance(found, dict) else {}


def items(value: Mapping[str, Any], name: str) -> list[Any]:
    """`value[name]` when it is a list, else []."""
    found = value.get(name)
    return found if isinstance(found, list) else []


def new_token_secret() -> str:
    """A shared secret for the formats that sign with (or send) plain text: Jira, Freshdesk."""
    return secrets.token_urlsafe(32)


def token_secret_problem(secret: str) -> str | None:
    """Why a plain-text secret an admin brings is unusable, or None."""
    if not 16 <= len(secret) <= 256 or any(c.isspace() for c in secret):
        return "16 to 256 characters, no spaces"
    return None
