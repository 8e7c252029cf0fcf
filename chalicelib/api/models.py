"""Response models: the OpenAPI document's response schemas are generated from
them. Request models live in `chalicelib.commands`, where services import them too."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.commands import Channel, PartnerFormat, Role, TenantBody
from chalicelib.domain.policy import Policy as Policy  # a response model of its own routes


class KeyIssued(BaseModel):
    """The issued key. `api_key` is the clear key, shown in this answer only: a
    retry with the same Idempotency-Key answers 201 with the same `key_id` and
    `api_key: null` (the clear key is stored nowhere, the idempotency record
    included); a client that lost it revokes that key and issues another."""

    key_id: str
    api_key: str | None
    tenant_id: str
    role: Role


class KeyOut(BaseModel):
    """A key as listed: never the clear key or its hash."""

    key_id: str
    role: Role
    contact: str | None
    created_at: str
    revoked_at: str | None


class KeyPage(BaseModel):
    items: list[KeyOut]
    next_cursor: str | None


class Target(BaseModel):
    metric: str
    clock: Literal["business", "24x7"]
    target_seconds: int
    started_at: str | None
    due_at: str | None
    state: Literal["pending", "running", "paused", "met", "breached", "cancelled"]
    elapsed_seconds: int
    remaining_seconds: int
    met_at: str | None
    breached_at: str | None


class Sla(BaseModel):
    policy: str
    policy_version: int
    targets: list[Target]


Decimal2 = Annotated[str, StringConstraints(pattern=r"^\d+\.\d{2}$")]


class ChargeOut(BaseModel):
    """A ticket's charge (C1-C4, DX1-DX5): money and hours as decimal strings; `rule`
    is the rule that decided it. Hours charges carry `hourly_rate`, `minutes` and
    `hours`; a fee waived after payment its `credit` (DX4); a fee that a breach
    waives names the metric in `waived_if_breached`."""

    kind: Literal["fixed_fee", "hours"] | None
    amount: Decimal2
    currency: str
    status: Literal["quoted", "approved", "invoiced", "paid", "waived", "not_billable"]
    reason: str
    rule: str
    hourly_rate: Decimal2 | None = None
    minutes: int | None = None
    hours: Decimal2 | None = None
    credit: Decimal2 | None = None
    waived_if_breached: str | None = None


class TicketOut(BaseModel):
    id: str
    tenant_id: str
    title: str
    description: str
    kind: str
    priority: str
    channel: Channel
    status: str
    assignee: str | None
    contact: str | None
    tier: str | None
    reported_at: str
    created_at: str
    updated_at: str
    fields: dict[str, Any]
    integration: dict[str, Any] | None
    resolution_cause: str | None
    sla: Sla
    charge: ChargeOut | None
    # Only in the answer that opens a `feature_request` (A7): where the register of
    # proposals is, to follow or subscribe to it there (A8). Relative to the API.
    proposals_url: str | None = None


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class Actor(BaseModel):
    role: str
    key_id: str | None
    partner_id: str | None


class EventOut(BaseModel):
    id: str
    at: str
    type: str
    actor: Actor
    data: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


class TenantOut(TenantBody):
    pass


class TenantPage(BaseModel):
    items: list[TenantOut]
    next_cursor: str | None


class Health(BaseModel):
    status: Literal["ok"]


class CommentOut(BaseModel):
    id: str
    at: str
    body: str
    public: bool
    author_role: str


class SlaReportItem(BaseModel):
    priority: str
    tickets: int
    met: int
    breached: int
    achievement_pct: float | None


class SlaReport(BaseModel):
    from_: str = Field(alias="from")
    to: str
    tenant_id: str | None  # null: every customer tenant
    items: list[SlaReportItem]


class ExplainStep(BaseModel):
    from_: str = Field(alias="from")
    to: str
    counted_seconds: int
    why: Literal["business hours", "outside hours", "weekend", "holiday", "paused", "24x7"]
    date: str | None = Field(default=None, description="the holiday's local date")
    status: str | None = Field(default=None, description="the ticket's status while paused")


class ExplainTarget(BaseModel):
    metric: str
    clock: str
    target_seconds: int
    state: str
    rules: list[str] = Field(description="POLICIES ids: the policy's rule and the engine's")
    policy_rules: list[str] = Field(description="the rule ids of the policy document")
    timezone: str
    started_at: str | None
    due_at: str | None
    steps: list[ExplainStep]


class Explain(BaseModel):
    """Why each target is due when it is: steps from its start to its due instant
    (to now while paused), without gaps, whose counted seconds add up to it."""

    ticket_id: str
    policy: str
    policy_version: int
    targets: list[ExplainTarget]


class SimulatedReport(BaseModel):
    items: list[SlaReportItem]


class SimulatedChange(BaseModel):
    ticket_id: str
    metric: str
    current_due_at: str | None
    draft_due_at: str | None
    current_state: str | None
    draft_state: str | None


class Unreproduced(BaseModel):
    ticket_id: str
    reasons: list[str]


class DraftRefused(BaseModel):
    ticket_id: str
    reason: str


class Simulation(BaseModel):
    """A draft policy replayed over the tickets under the policy reported in
    [from, to): the SLA report both ways, the targets that change. `current` is
    what GET /reports/sla says for those tickets. `unreproduced` lists tickets
    whose replay under the stored policy is not what is stored (their changes are
    then counted replay against replay); `refused`, those the draft would not
    have opened (a kind or channel it does not take)."""

    policy: str
    policy_version: int
    from_: str = Field(alias="from")
    to: str
    tenant_id: str | None
    tickets: int
    current: SimulatedReport
    draft: SimulatedReport
    changed: list[SimulatedChange]
    changed_total: int
    unreproduced: list[Unreproduced]
    unreproduced_total: int
    refused: list[DraftRefused]


# --- policies (docs/api.md: GET/PUT /admin/policies) ---------------------------------


class PolicyDocument(BaseModel):
    """A policy document (schema `Policy`). `id` may be left out (the path's is
    used; another one is a 400) and `version` is ignored: the server stores the
    document as the policy's next version. The service validates it in full, so
    one 400 names every bad field (`calendar.timezone`, `kinds.incident.priorities`)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"allOf": [{"$ref": "#/components/schemas/Policy"}]},
    )


class PolicySummary(BaseModel):
    id: str
    name: str
    version: int
    source: Literal["shipped", "custom"]
    updated_at: str | None


class PolicyPage(BaseModel):
    items: list[PolicySummary]
    next_cursor: str | None


class PolicyStored(Policy):
    """The stored policy, and how far re-targeting its open tickets got (E9):
    `retargeted` by this request, `remaining` for the breach checker to finish."""

    retargeted: int
    remaining: int


class ChargesReportItem(BaseModel):
    """A tenant's charges in one currency; money and hours as decimal strings."""

    tenant_id: str
    currency: str
    tickets_charged: int
    tickets_waived: int
    hours: str = Field(pattern=r"^\d+\.\d{2}$", examples=["12.50"])
    amount_due: str = Field(pattern=r"^\d+\.\d{2}$", examples=["540.00"])


class ChargesReport(BaseModel):
    from_: str = Field(alias="from")
    to: str
    tenant_id: str | None  # null: every customer tenant
    items: list[ChargesReportItem]


# --- partner helpdesks and their webhooks (issue 12) ---------------------------


class PartnerIssued(BaseModel):
    id: str
    format: PartnerFormat
    secret: str | None  # null on an Idempotency-Key replay: shown once
    tenant_id: str
    priority_map: dict[str, str]
    default_kind: str


class PartnerOut(BaseModel):
    """A partner as listed: never a secret. `secret_rotated_at`: when the current
    secret was issued by a rotation, null while it is the first one."""

    id: str
    tenant_id: str
    format: PartnerFormat
    priority_map: dict[str, str]
    default_kind: str
    created_at: str
    secret_rotated_at: str | None


class PartnerPage(BaseModel):
    items: list[PartnerOut]
    next_cursor: str | None


class SecretIssued(BaseModel):
    secret: str | None  # null on an Idempotency-Key replay: shown once
    previous_valid_until: str | None


class WebhookAnswer(BaseModel):
    ticket_id: str | None
    applied: bool


# --- the agents' queue (docs/queue.md) -------------------------------------------


class QueueItem(BaseModel):
    """A ticket in the queue: its earliest running deadline (`due_at`, of `metric`),
    the clock time left (negative once past) and its state as of the request."""

    ticket_id: str
    tenant_id: str
    title: str
    priority: str
    status: str
    assignee: str | None
    metric: str
    due_at: str
    remaining_seconds: int
    state: Literal["on_track", "at_risk", "breached"]


class QueuePage(BaseModel):
    items: list[QueueItem]


# --- proposals (docs/api.md, Proposals; Aivo A8) ---------------------------------


class ProposalOut(BaseModel):
    id: str
    title: str
    description: str
    status: Literal["registered", "under_review", "approved", "declined"]
    created_at: str
    decided_at: str | None
    note: str | None
    subscribers: int  # every subscription, of every tenant
    subscribed: bool  # whether the caller's tenant holds one (false for agents and admins)


class ProposalPage(BaseModel):
    items: list[ProposalOut]
    next_cursor: str | None
