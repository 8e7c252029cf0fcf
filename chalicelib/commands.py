"""Commands and request models: what a client asks for, validated. The entry
layer parses requests into them (`chalicelib.api.http.route`) and services take
them as their input, so both import this module and neither imports the other's.
The OpenAPI document's request schemas are generated from them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from chalicelib.domain.lifecycle import Status

M = TypeVar("M", bound=BaseModel)

TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"  # the shape of every tenant id
TenantId = Annotated[str, StringConstraints(pattern=TENANT_ID_PATTERN)]
Money = Annotated[str, StringConstraints(pattern=r"^\d{1,9}(\.\d{1,2})?$")]
Tier = Literal["prime", "premium", "standard", "preferred", "on_demand"]
Role = Literal["customer", "agent", "admin"]
Flag = Literal["disabled", "auto_service_problems", "collection_problems", "no_auto_service"]
Channel = Literal["api", "email", "phone", "chat", "twitter", "webhook"]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
PriorityName = Annotated[str, StringConstraints(min_length=1, max_length=40)]

MIN_YEAR, MAX_YEAR = 1970, 9998


def _in_range(value: datetime) -> datetime:
    """An instant whose UTC year is in MIN_YEAR..MAX_YEAR: far enough from
    datetime's own bounds that converting it to UTC, or adding a calendar's
    horizon to it, cannot overflow."""
    try:
        year: int | None = value.astimezone(UTC).year
    except OverflowError:
        year = None
    if year is None or not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"must be an instant between the years {MIN_YEAR} and {MAX_YEAR} (UTC)")
    return value


# A ticket's `fields` (the policy's intake fields, K4/K5/C2, and whatever else a
# client keeps there) are free JSON, bounded so that one ticket cannot hold
# what a read could not hand back: named keys, a bounded count, depth and size.
MAX_FIELDS = 50
MAX_FIELD_DEPTH = 4  # containers nested in one field's value
MAX_FIELD_BYTES = 8 * 1024  # one field's value as compact JSON
MAX_FIELDS_BYTES = 32 * 1024  # all of them


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _bounded_field(value: Any) -> Any:
    depth, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            level += 1
            depth = max(depth, level)
            if depth > MAX_FIELD_DEPTH:
                raise ValueError(f"nested more than {MAX_FIELD_DEPTH} levels deep")
            stack += [
                (child, level) for child in (item.values() if isinstance(item, dict) else item)
            ]
    if _json_bytes(value) > MAX_FIELD_BYTES:
        raise ValueError(f"over {MAX_FIELD_BYTES // 1024} KiB as JSON")
    return value


def _bounded_fields(value: dict[str, Any]) -> dict[str, Any]:
    if _json_bytes(value) > MAX_FIELDS_BYTES:
        raise ValueError(f"over {MAX_FIELDS_BYTES // 1024} KiB as JSON in all")
    return value


# (An empty name is refused by `chalicelib.storable`, at every depth, before any
# body is validated: DynamoDB keeps no empty map key.)
FieldName = Annotated[str, StringConstraints(max_length=100)]
IntakeFields = Annotated[
    dict[FieldName, Annotated[Any, AfterValidator(_bounded_field)]],
    Field(max_length=MAX_FIELDS),
    AfterValidator(_bounded_fields),
]

# Every instant a request carries: an RFC 3339 time with an offset, in range.
Instant = Annotated[AwareDatetime, AfterValidator(_in_range)]


def validate_json(model: type[M], data: Any) -> M:
    """Validate parsed JSON strictly, as JSON (every body, and a patched tenant): a
    number, boolean or string is taken as it was sent (`true` or `"1"` is not a
    number of minutes), while RFC 3339 strings still make instants and arrays
    tuples. Raises pydantic's ValidationError."""
    return model.model_validate_json(json.dumps(data), strict=True)


# Built when first used (`defer_build`), not when this module is imported: a request
# validates one of these models, and a first POST /tickets paid ~6 ms of CPU for
# building the others.
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Contract(Strict):
    active: bool | None = None
    plan: str | None = Field(default=None, max_length=100)
    options: list[Annotated[str, StringConstraints(max_length=60)]] = []


class Billing(Strict):
    """A customer's own prices (C4, DX3): each one given replaces its policy's;
    no currency means the policy's."""

    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    ticket_fee: Money | None = None
    hourly_rate: Money | None = None


class CalendarIn(Strict):
    """A tenant's calendar (E2): each part it sets overrides the policy's calendar."""

    timezone: str | None = None
    country: str | None = None
    hours: dict[str, list[tuple[str, str]]] | None = None
    holidays: list[date] | None = None


class TenantBody(Strict):
    """The Tenant object of the contract (docs/api.md, Tenant)."""

    id: TenantId
    name: ShortText
    policy: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    tier: Tier | None = None
    contract: Contract | None = None
    calendar: CalendarIn | None = None
    billing: Billing | None = None
    operation_started_on: date | None = None
    flags: list[Flag] = []
    authorized_contacts: list[Annotated[str, StringConstraints(max_length=200)]] = []
    # The language of its alerts' summaries and of the DX2 automatic reply.
    locale: Literal["en", "es"] = "en"


class TenantPatch(BaseModel):
    """A JSON Merge Patch (RFC 7386) of any Tenant field but `id`."""

    model_config = ConfigDict(extra="allow", defer_build=True)


class KeyBody(Strict):
    role: Role
    contact: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class Integration(Strict):
    built_by: Literal["provider", "self_service"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TicketBody(Strict):
    """POST /tickets (docs/api.md, Opening a ticket)."""

    title: ShortText
    description: Annotated[str, StringConstraints(min_length=1, max_length=20000)]
    kind: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    priority: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    channel: Channel = "api"
    fields: IntakeFields = {}
    integration: Integration | None = None
    tier: Tier | None = None
    contact: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    tenant_id: TenantId | None = None
    reported_at: Instant | None = None


class PageQuery(Strict):
    limit: int = Field(default=25, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None


class TenantPageQuery(PageQuery):
    """A list that an agent or admin may narrow to one customer (`tenant_id`)."""

    tenant_id: TenantId | None = None


class TicketListQuery(PageQuery):
    tenant_id: TenantId | None = None
    status: Status | None = None
    priority: PriorityName | None = None
    breached: bool | None = None


ActionName = Literal[
    "assign",
    "set_priority",
    "wait_on_customer",
    "resume",
    "assess",
    "resolve",
    "reopen",
    "close",
    "approve_charge",
    "mark_paid",
    "log_time",
    "transfer_commercial",
]


class ActionBody(Strict):
    """POST /tickets/{ticket_id}/actions: the action and the parameters it takes:
    `assign {agent}`, `set_priority {priority}`, `assess {requires_quote?}`,
    `resolve {resolution_cause?}`, `log_time {minutes}`; the others take none."""

    action: ActionName
    agent: ShortText | None = None
    priority: PriorityName | None = None
    requires_quote: bool | None = None
    resolution_cause: Literal["fixed", "external"] | None = None
    minutes: int | None = Field(default=None, ge=1, le=24 * 60)


class CommentBody(Strict):
    body: Annotated[str, StringConstraints(min_length=1, max_length=20000)]
    public: bool = True


class SlaReportQuery(Strict):
    """`from` and `to` bound the tickets' `reported_at`: [from, to)."""

    from_: Instant = Field(alias="from")
    to: Instant
    tenant_id: TenantId | None = None


class SimulateBody(Strict):
    """POST /admin/policies/{policy_id}/simulate: a draft policy document (checked
    as PUT checks it), the reported window [from, to) and optionally one tenant."""

    policy: dict[str, Any]
    from_: Instant = Field(alias="from")
    to: Instant
    tenant_id: TenantId | None = None


# --- partner helpdesks (issue 12) ---------------------------------------------

PartnerFormat = Literal["generic", "zendesk", "jira", "freshdesk"]
PartnerSecret = Annotated[str, StringConstraints(min_length=16, max_length=256)]


class PartnerBody(Strict):
    """POST /admin/partners. `secret` (optional, additive): a secret the partner's
    helpdesk generated itself (Zendesk does) instead of one slaguard issues;
    `default_kind` (optional): the kind of the tickets its native payloads open."""

    id: TenantId
    tenant_id: TenantId
    format: PartnerFormat
    priority_map: (
        dict[
            Annotated[str, StringConstraints(min_length=1, max_length=100)],
            PriorityName,
        ]
        | None
    ) = Field(default=None, max_length=50)
    secret: PartnerSecret | None = None
    default_kind: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None


class SecretBody(Strict):
    """POST /admin/partners/{partner_id}/secrets (the body is optional)."""

    secret: PartnerSecret | None = None


# --- proposals (Aivo A8; issue 22) ---------------------------------------------

Contact = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ProposalBody(Strict):
    """POST /proposals: the author (the body's tenant and contact, else the key's)
    is subscribed. A customer names its own tenant only; an agent names one."""

    title: ShortText
    description: Annotated[str, StringConstraints(min_length=1, max_length=20000)]
    tenant_id: TenantId | None = None
    contact: Contact | None = None


class ProposalListQuery(PageQuery):
    status: Literal["registered", "under_review", "approved", "declined"] | None = None


class SubscriptionBody(Strict):
    """POST /proposals/{proposal_id}/subscriptions (the body is optional)."""

    contact: Contact | None = None


class UnsubscribeQuery(Strict):
    contact: Contact | None = None


class DecisionBody(Strict):
    """POST /proposals/{proposal_id}/decision: `approved` and `declined` are final."""

    status: Literal["under_review", "approved", "declined"]
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None
