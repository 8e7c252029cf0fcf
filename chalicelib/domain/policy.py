"""Policies as data (POLICIES.md E1, A*, K*, C*, DX*): the policy document schema and
the pure functions that turn a policy, a tenant's terms and a ticket's intake into
a plan (priority, initial status, targets, alerts to raise).

A policy document is JSON. Its rules are lists of `{"when": <match>, ...}` entries;
a match names conditions on the ticket and tenant (kind, priority, tier, channel,
contract, integration, "reported outside working hours") and an absent condition
matches anything. How each list is read:

* `priority_rules`: the first match forces the priority (K1 emergency kind, K2 prime,
  DX6 no urgencies without contract). Conditions see the requested priority.
* `channel_rules`: the first match restricts the channels (DX2); another channel is
  refused (`ChannelRefused`, HTTP 403).
* `status_rules`: the first match sets the initial status (DX2 `awaiting_approval`),
  else `new`.
* `alert_rules`: every match raises its alert at creation (K2 `ticket.prime_opened`).
* `target_rules`: per metric, the first rule that matches and defines that metric
  wins, so a narrow rule listed first overrides one metric of a broad rule (A3).

Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from chalicelib.domain.calendar import (
    CONTINUOUS,
    BusinessCalendar,
    CalendarSpec,
    Clock,
    business_days,
)
from chalicelib.domain.errors import DomainError
from chalicelib.domain.sla import DEFAULT_LADDER, TargetSpec, Threshold

__all__ = [
    "CHANNELS",
    "ChannelRefused",
    "Intake",
    "IntakeError",
    "Plan",
    "Policy",
    "TargetSpec",
    "TenantTerms",
    "Threshold",
    "calendar_for",
    "clock_for",
    "plan_matches",
    "plan_ticket",
    "tier_for",
    "validate_policy_document",
]

Metric = Literal["first_response", "resolution", "study", "next_response"]
ClockKind = Literal["business", "24x7"]
StartsOn = Literal["reported", "payment"]
FirstResponseMetBy = Literal["assignment", "assignment_or_public_reply"]
InitialStatus = Literal["new", "awaiting_approval", "commercial_review", "queued", "open"]
Side = Literal["customer", "provider"]
FieldType = Literal[
    "string", "string_list", "url", "url_list", "datetime", "boolean", "matrix_action"
]

CHANNELS: tuple[str, ...] = ("api", "email", "phone", "chat", "twitter", "webhook")
BUILT_BY: tuple[str, ...] = ("provider", "self_service")

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,99}$")]
AlertName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]


# ---------------------------------------------------------------------- errors


class IntakeError(DomainError):
    """A ticket (or policy document) with invalid fields: HTTP 400 naming each one
    (`kind`, `priority`, `fields.module`, `calendar.timezone`, ...)."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, fields: dict[str, str], *, code: str | None = None) -> None:
        super().__init__(message, fields)
        if code is not None:
            self.code = code


class ChannelRefused(DomainError):
    """DX2: the tenant's contract does not cover this channel: HTTP 403."""

    status = 403
    code = "channel_not_in_contract"

    def __init__(self, channel: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"channel {channel!r} is not in this customer's contract; use {', '.join(allowed)}",
            {"channel": f"allowed: {', '.join(allowed)}"},
        )
        self.channel = channel
        self.allowed = allowed


# ---------------------------------------------------------------------- schema


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LadderStep(_Doc):
    """A rung of an alert ladder (E8), in percent of the target's clock duration."""

    pct: int = Field(gt=0, le=10_000)
    type: Literal["sla.warning", "sla.breached", "sla.escalated"]
    level: int = Field(ge=1, le=9)

    def threshold(self) -> Threshold:
        return Threshold(self.pct, self.type, self.level)


DEFAULT_LADDER_DOC: tuple[LadderStep, ...] = tuple(
    LadderStep(pct=t.pct, type=t.type, level=t.level) for t in DEFAULT_LADDER
)


class FieldSpec(_Doc):
    """An intake field a kind asks for in the ticket's `fields` (K4, K5, C2).

    `string` may list closed `choices` (else `examples` only document it); lists
    need `min_items`; `matrix_action` is an action id of the policy's
    `responsibility` matrix under the product named by `matrix_field`.
    `required_if` makes the field required when other fields have those values.
    """

    type: FieldType
    required: bool = True
    required_if: dict[str, Any] | None = None
    choices: list[str] | None = None
    examples: list[str] = []
    min_items: int = Field(default=0, ge=0)
    matrix_field: str | None = None
    description: str = ""


class KindSpec(_Doc):
    """A ticket kind: its priorities and what its intake must carry."""

    description: str = ""
    priorities: list[str] = Field(min_length=1)
    default_priority: str | None = None
    priority_required: bool = False
    description_required: bool = False
    fields: dict[str, FieldSpec] = {}


class Match(_Doc):
    """Conditions of a rule; each absent one matches anything, all must hold."""

    kinds: list[str] | None = None
    priorities: list[str] | None = None
    tiers: list[str] | None = None
    channels: list[str] | None = None
    contract_active: bool | None = None  # an absent contract counts as not active
    contract_options: list[str] | None = None  # every one must be contracted
    integration_built_by: list[str] | None = None
    reported_outside_working_hours: bool | None = None  # on the effective calendar


class TargetDef(_Doc):
    """One target of a rule (E1): exactly one of seconds / minutes / hours /
    business_days (E2: N x the calendar's longest working day)."""

    # Bounded (a year at most) and finite: a target is a commitment to a customer,
    # and the clock arithmetic must stay within datetime's range.
    metric: Metric
    clock: ClockKind
    seconds: int | None = Field(default=None, gt=0, le=366 * 86400)
    minutes: float | None = Field(default=None, gt=0, le=366 * 1440, allow_inf_nan=False)
    hours: float | None = Field(default=None, gt=0, le=366 * 24, allow_inf_nan=False)
    business_days: int | None = Field(default=None, gt=0, le=366)
    starts_on: StartsOn = "reported"
    ladder: list[LadderStep] | None = None


class TargetRule(_Doc):
    id: str = ""
    description: str = ""
    when: Match = Match()
    targets: list[TargetDef] = Field(min_length=1)


class PriorityRule(_Doc):
    id: str = ""
    when: Match
    priority: str


class ChannelRule(_Doc):
    id: str = ""
    when: Match
    channels: list[str] = Field(min_length=1)


class StatusRule(_Doc):
    id: str = ""
    when: Match
    status: InitialStatus


class AlertRule(_Doc):
    id: str = ""
    when: Match
    alert: AlertName


Money = Annotated[Decimal, Field(ge=0, max_digits=11, decimal_places=2)]


class BillingSpec(_Doc):
    """What a policy charges (C1-C4, DX3-DX5); the tenant's `billing` overrides the
    amounts. Read by the charge rules (`chalicelib.domain.charges`), not by the SLA
    plan. A section bills when it names a price: `ticket_fee` with `fixed_fee_when`
    (a fixed fee per ticket), else `hourly_rate` (by the hour); one with neither
    only documents (Keybe's quotes are agreed outside the ticket, K5)."""

    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    ticket_fee: Money | None = None
    hourly_rate: Money | None = None
    fixed_fee_when: Match | None = None
    waive_fee_if_first_response_breached: bool = False
    free_kinds: list[str] = []
    provider_actions_free: bool = False
    nesting_period_days: int | None = Field(default=None, ge=0)
    nesting_excluded_actions: list[str] = []
    commercial_review_flags: list[str] = []
    commercial_review_unauthorized_contact: bool = False
    commercial_quote_actions: list[str] = []
    # DX2: the automatic reply per language, with {fee}, {currency}, {hours} and
    # {ticket_id}; absent: the engine's own text (chalicelib.domain.charges).
    auto_reply: (
        dict[Literal["en", "es"], Annotated[str, StringConstraints(max_length=4000)]] | None
    ) = None

    @property
    def bills(self) -> bool:
        """Whether tickets under it carry a charge (it names a price)."""
        return self.ticket_fee is not None or self.hourly_rate is not None


class Policy(_Doc):
    """A support policy as data. See the module docstring for how rules apply."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    version: int = Field(default=1, ge=1)
    description: str = ""
    sources: list[str] = []
    calendar: CalendarSpec
    kinds: dict[Name, KindSpec] = Field(min_length=1)
    tiers: list[Name] = []
    plan_tiers: dict[str, str] = {}
    ladder: list[LadderStep] = list(DEFAULT_LADDER_DOC)
    first_response_met_by: FirstResponseMetBy = "assignment_or_public_reply"
    priority_rules: list[PriorityRule] = []
    channel_rules: list[ChannelRule] = []
    status_rules: list[StatusRule] = []
    alert_rules: list[AlertRule] = []
    target_rules: list[TargetRule] = []
    responsibility: dict[Name, dict[Name, Side]] = {}
    billing: BillingSpec | None = None


# ---------------------------------------------------------------------- inputs


class CalendarOverride(_Doc):
    """A tenant's calendar: each field given replaces the policy's (A1, DX1)."""

    timezone: str | None = None
    country: str | None = None
    hours: dict[str, list[tuple[str, str]]] | None = None
    holidays: list[date] | None = None


@dataclass(frozen=True)
class TenantTerms:
    """What a policy reads from the tenant (API.md, Tenant)."""

    tier: str | None = None
    contract_active: bool | None = None
    plan: str | None = None
    options: tuple[str, ...] = ()
    calendar: CalendarOverride | None = None
    operation_started_on: date | None = None

    @classmethod
    def from_tenant_doc(cls, doc: Mapping[str, Any]) -> TenantTerms:
        """Read the Tenant JSON. Calendar fields that are absent, null or empty
        inherit the policy's. Raises IntakeError on a malformed calendar or date."""
        contract = doc.get("contract") or {}
        calendar: CalendarOverride | None = None
        given = {k: v for k, v in (doc.get("calendar") or {}).items() if v not in (None, {}, [])}
        errors: dict[str, str] = {}
        if given:
            try:
                calendar = CalendarOverride.model_validate(given)
            except ValidationError as e:
                errors.update(_error_fields(e, "calendar."))
        started = doc.get("operation_started_on")
        started_on: date | None = None
        if isinstance(started, date):
            started_on = started
        elif started is not None:
            try:
                started_on = date.fromisoformat(str(started))
            except ValueError:
                errors["operation_started_on"] = "must be a date (YYYY-MM-DD)"
        if errors:
            raise IntakeError("the tenant has invalid fields", errors)
        active = contract.get("active")
        return cls(
            tier=doc.get("tier"),
            contract_active=None if active is None else bool(active),
            plan=contract.get("plan"),
            options=tuple(str(o) for o in contract.get("options") or ()),
            calendar=calendar,
            operation_started_on=started_on,
        )


@dataclass(frozen=True)
class Intake:
    """What a ticket brings at opening (or re-planning, E7). `tier` is a ticket-level
    override of the tenant's; `description` is checked where a kind requires it (K5)."""

    kind: str
    priority: str | None = None
    channel: str = "api"
    fields: Mapping[str, Any] = field(default_factory=dict)
    integration: Mapping[str, Any] | None = None
    tier: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Plan:
    """The outcome of `plan_ticket`: what the ticket is and what it is owed."""

    kind: str
    priority: str
    tier: str | None
    status: str
    targets: tuple[TargetSpec, ...]
    alerts: tuple[str, ...]
    first_response_met_by: str


# ---------------------------------------------------------------------- calendars


def calendar_for(policy: Policy, terms: TenantTerms) -> CalendarSpec:
    """The effective calendar: the policy's, with each field the tenant set replacing
    the policy's (A1: timezone, country, hours and holidays overridable)."""
    if terms.calendar is None:
        return policy.calendar
    merged = policy.calendar.model_dump()
    merged.update(terms.calendar.model_dump(exclude_none=True))
    try:
        return CalendarSpec.model_validate(merged)
    except ValidationError as e:
        raise IntakeError("the tenant's calendar is invalid", _error_fields(e, "calendar.")) from e


@lru_cache(maxsize=256)
def _business_calendar(spec_json: str) -> BusinessCalendar:
    return BusinessCalendar(CalendarSpec.model_validate_json(spec_json))


def clock_for(kind: str, calendar: CalendarSpec) -> Clock:
    """The clock of a target: `24x7` is continuous, `business` counts the calendar's
    working hours (cached per calendar content)."""
    if kind == "24x7":
        return CONTINUOUS
    if kind == "business":
        return _business_calendar(calendar.model_dump_json())
    raise ValueError(f"unknown clock {kind!r}")


# ---------------------------------------------------------------------- tiers


def plan_key(plan: str) -> str:
    """A contract plan name reduced for lookup in `plan_tiers`: case, spaces,
    punctuation and the words "daily chats"/"plan" do not matter
    ("50,000 daily chats" == "50000"; "Pro +100" == "pro+100")."""
    text = plan.lower().replace("plus", "+")
    for word in ("daily", "chats", "chat", "plan"):
        text = text.replace(word, "")
    return re.sub(r"[^a-z0-9+]", "", text)


def tier_for(policy: Policy, terms: TenantTerms) -> str | None:
    """K1: the tenant's tier, or the one its contract plan maps to."""
    if terms.tier:
        return terms.tier
    if terms.plan:
        wanted = plan_key(terms.plan)
        for plan, tier in policy.plan_tiers.items():
            if plan_key(plan) == wanted:
                return tier
    return None


# ---------------------------------------------------------------------- intake checks

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value.strip())
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_rfc3339(value: Any) -> bool:
    if not isinstance(value, str) or not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _list_problem(value: Any, spec: FieldSpec, item_ok: Callable[[Any], bool], what: str) -> str:
    if not isinstance(value, list) or not all(item_ok(v) for v in value):
        return f"must be a list of {what}"
    if len(value) < spec.min_items:
        return f"must hold at least {spec.min_items} {what}"
    return ""


def _field_problem(policy: Policy, spec: FieldSpec, value: Any, fields: Mapping[str, Any]) -> str:
    """Why a present intake field is invalid, or "" when it is fine."""
    if spec.type == "string":
        if not _is_text(value):
            return "must be a non-empty string"
        if spec.choices is not None and value not in spec.choices:
            return f"must be one of {', '.join(spec.choices)}"
        return ""
    if spec.type == "string_list":
        return _list_problem(value, spec, _is_text, "non-empty strings")
    if spec.type == "url":
        return "" if _is_url(value) else "must be an http(s) URL"
    if spec.type == "url_list":
        return _list_problem(value, spec, _is_url, "http(s) URLs")
    if spec.type == "datetime":
        return "" if _is_rfc3339(value) else "must be an RFC 3339 date-time with an offset"
    if spec.type == "boolean":
        return "" if isinstance(value, bool) else "must be true or false"
    # matrix_action (C2): an action of the product's row; any product's when the
    # product itself is missing or wrong (that error is reported on its own field).
    product = fields.get(spec.matrix_field or "")
    row = policy.responsibility.get(product) if isinstance(product, str) else None
    actions = (
        set(row) if row is not None else {a for r in policy.responsibility.values() for a in r}
    )
    if not isinstance(value, str) or value not in actions:
        where = f"for {product}" if row is not None else "in the policy"
        return f"unknown action {where}; one of: {', '.join(sorted(actions))}"
    return ""


def _fields_errors(policy: Policy, kind: KindSpec, fields: Mapping[str, Any]) -> dict[str, str]:
    """K4, K5, C2: every missing or invalid intake field, as `fields.<name>`."""
    errors: dict[str, str] = {}
    for name, spec in kind.fields.items():
        key = f"fields.{name}"
        value = fields.get(name)
        if value is None:
            required = spec.required or (
                spec.required_if is not None
                and all(fields.get(k) == v for k, v in spec.required_if.items())
            )
            if required:
                errors[key] = "required"
            continue
        problem = _field_problem(policy, spec, value, fields)
        if problem:
            errors[key] = problem
    return errors


# ---------------------------------------------------------------------- planning


@dataclass(frozen=True)
class _Facts:
    """What rule conditions look at, for one ticket."""

    kind: str
    priority: str
    tier: str | None
    channel: str
    contract_active: bool
    options: frozenset[str]
    built_by: str | None
    outside_hours: Callable[[], bool]


def _matches(m: Match, f: _Facts) -> bool:
    checks = (
        m.kinds is None or f.kind in m.kinds,
        m.priorities is None or f.priority in m.priorities,
        m.tiers is None or f.tier in m.tiers,
        m.channels is None or f.channel in m.channels,
        m.contract_active is None or f.contract_active == m.contract_active,
        m.contract_options is None or f.options.issuperset(m.contract_options),
        m.integration_built_by is None or f.built_by in m.integration_built_by,
    )
    if not all(checks):
        return False
    # Evaluated last and only when asked: it needs the business calendar (A3).
    return m.reported_outside_working_hours is None or (
        f.outside_hours() == m.reported_outside_working_hours
    )


def _duration_seconds(target: TargetDef, calendar: CalendarSpec) -> int:
    if target.seconds is not None:
        return target.seconds
    if target.minutes is not None:
        return round(target.minutes * 60)
    if target.hours is not None:
        return round(target.hours * 3600)
    assert target.business_days is not None
    return business_days(clock_for(target.clock, calendar), target.business_days)


def _ladder(steps: list[LadderStep]) -> tuple[Threshold, ...]:
    return tuple(sorted((s.threshold() for s in steps), key=lambda t: t.pct))


def _targets_for(policy: Policy, facts: _Facts, calendar: CalendarSpec) -> tuple[TargetSpec, ...]:
    """E1: per metric, the first matching rule that defines it."""
    chosen: dict[str, TargetSpec] = {}
    for rule in policy.target_rules:
        if not _matches(rule.when, facts):
            continue
        for target in rule.targets:
            if target.metric in chosen:
                continue
            chosen[target.metric] = TargetSpec(
                metric=target.metric,
                clock=target.clock,
                seconds=_duration_seconds(target, calendar),
                ladder=_ladder(target.ladder if target.ladder is not None else policy.ladder),
                starts_on=target.starts_on,
            )
    return tuple(chosen.values())


def _outside_hours(calendar: CalendarSpec, at: datetime) -> Callable[[], bool]:
    """A3: whether the second starting at `at` is outside working hours."""

    def check() -> bool:
        clock = clock_for("business", calendar)
        return clock.elapsed(at, at + timedelta(seconds=1)) == 0

    return check


def plan_ticket(policy: Policy, terms: TenantTerms, intake: Intake, reported_at: datetime) -> Plan:
    """Validate a ticket's intake against its policy and work out its plan.

    Raises IntakeError naming every bad field at once (`kind`, `priority`, `tier`,
    `channel`, `description`, `integration.built_by`, `fields.<name>`), then
    ChannelRefused when the tenant's terms exclude the channel (DX2). Also used to
    re-plan on a priority, kind or tier change (E7) and on a policy change (E9).
    """
    errors: dict[str, str] = {}
    kind = policy.kinds.get(intake.kind)
    if kind is None:
        errors["kind"] = f"unknown kind {intake.kind!r}; one of: {', '.join(policy.kinds)}"
    if intake.channel not in CHANNELS:
        errors["channel"] = f"unknown channel; one of: {', '.join(CHANNELS)}"
    if intake.tier is not None and intake.tier not in policy.tiers:
        known = ", ".join(policy.tiers) or "none (this policy has no tiers)"
        errors["tier"] = f"unknown tier {intake.tier!r}; one of: {known}"
    built_by: str | None = None
    if intake.integration is not None:
        raw = intake.integration.get("built_by")
        if raw not in BUILT_BY:
            errors["integration.built_by"] = f"must be one of {', '.join(BUILT_BY)}"
        else:
            built_by = str(raw)
    priority = ""
    if kind is not None:
        if intake.priority is None:
            if kind.priority_required or kind.default_priority is None:
                errors["priority"] = f"required for {intake.kind}: {', '.join(kind.priorities)}"
            else:
                priority = kind.default_priority
        elif intake.priority not in kind.priorities:
            errors["priority"] = (
                f"unknown priority {intake.priority!r} for {intake.kind}; "
                f"one of: {', '.join(kind.priorities)}"
            )
        else:
            priority = intake.priority
        if kind.description_required and not (intake.description or "").strip():
            errors["description"] = f"required for {intake.kind}"
        errors.update(_fields_errors(policy, kind, intake.fields))
    if errors:
        raise IntakeError("the ticket has invalid fields", errors)

    calendar = calendar_for(policy, terms)
    facts = _Facts(
        kind=intake.kind,
        priority=priority,
        tier=intake.tier or tier_for(policy, terms),
        channel=intake.channel,
        contract_active=bool(terms.contract_active),
        options=frozenset(terms.options),
        built_by=built_by,
        outside_hours=_outside_hours(calendar, reported_at),
    )
    for p_rule in policy.priority_rules:
        if _matches(p_rule.when, facts):
            facts = _replace_priority(facts, p_rule.priority)
            break
    for c_rule in policy.channel_rules:
        if _matches(c_rule.when, facts):
            if intake.channel not in c_rule.channels:
                raise ChannelRefused(intake.channel, tuple(c_rule.channels))
            break
    status = next((s.status for s in policy.status_rules if _matches(s.when, facts)), "new")
    alerts = tuple(dict.fromkeys(a.alert for a in policy.alert_rules if _matches(a.when, facts)))
    return Plan(
        kind=facts.kind,
        priority=facts.priority,
        tier=facts.tier,
        status=status,
        targets=_targets_for(policy, facts, calendar),
        alerts=alerts,
        first_response_met_by=policy.first_response_met_by,
    )


def plan_matches(
    policy: Policy, terms: TenantTerms, intake: Intake, plan: Plan, reported_at: datetime, m: Match
) -> bool:
    """Whether a rule's conditions hold for a planned ticket (its planned kind,
    priority and tier): how other rules of the policy document (the `billing`
    section's `fixed_fee_when`, DX3) read the same conditions as the plan."""
    raw = (intake.integration or {}).get("built_by")
    facts = _Facts(
        kind=plan.kind,
        priority=plan.priority,
        tier=plan.tier,
        channel=intake.channel,
        contract_active=bool(terms.contract_active),
        options=frozenset(terms.options),
        built_by=str(raw) if raw in BUILT_BY else None,
        outside_hours=_outside_hours(calendar_for(policy, terms), reported_at),
    )
    return _matches(m, facts)


def _replace_priority(facts: _Facts, priority: str) -> _Facts:
    return _Facts(
        kind=facts.kind,
        priority=priority,
        tier=facts.tier,
        channel=facts.channel,
        contract_active=facts.contract_active,
        options=facts.options,
        built_by=facts.built_by,
        outside_hours=facts.outside_hours,
    )


# ---------------------------------------------------------------------- documents


def _error_fields(e: ValidationError, prefix: str = "") -> dict[str, str]:
    fields: dict[str, str] = {}
    for err in e.errors(include_url=False):
        # "[key]" marks an error about a dict key, whose path is already the key itself.
        loc = ".".join(str(p) for p in err["loc"] if p != "[key]")
        fields.setdefault(prefix + loc if loc else prefix.rstrip(".") or "body", err["msg"])
    return fields


def _match_errors(policy: Policy, m: Match, path: str, priorities: set[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    known: list[tuple[str, list[str] | None, set[str]]] = [
        ("kinds", m.kinds, set(policy.kinds)),
        ("priorities", m.priorities, priorities),
        ("tiers", m.tiers, set(policy.tiers)),
        ("channels", m.channels, set(CHANNELS)),
        ("integration_built_by", m.integration_built_by, set(BUILT_BY)),
    ]
    for name, values, allowed in known:
        unknown = sorted(set(values or ()) - allowed)
        if unknown:
            errors[f"{path}.{name}"] = f"unknown: {', '.join(unknown)}"
    return errors


def _ladder_errors(steps: list[LadderStep], path: str) -> dict[str, str]:
    pcts = [s.pct for s in steps]
    if not steps:
        return {path: "a ladder needs at least the sla.breached rung at 100"}
    if len(set(pcts)) != len(pcts):
        return {path: "each percentage appears once"}
    for i, step in enumerate(steps):
        wrong = (
            (step.type == "sla.warning" and step.pct >= 100)
            or (step.type == "sla.breached" and step.pct != 100)
            or (step.type == "sla.escalated" and step.pct <= 100)
        )
        if wrong:
            return {f"{path}.{i}": "warning below 100, breached at 100, escalated above 100"}
    if sum(1 for s in steps if s.type == "sla.breached") != 1:
        return {path: "exactly one sla.breached rung (at 100)"}
    return {}


def _semantic_errors(policy: Policy) -> dict[str, str]:
    """What the schema alone cannot check: references between parts of the policy."""
    errors: dict[str, str] = {}
    priorities = {p for k in policy.kinds.values() for p in k.priorities}
    for name, kind in policy.kinds.items():
        path = f"kinds.{name}"
        if len(set(kind.priorities)) != len(kind.priorities):
            errors[f"{path}.priorities"] = "each priority appears once"
        if kind.default_priority is not None and kind.default_priority not in kind.priorities:
            errors[f"{path}.default_priority"] = "must be one of the kind's priorities"
        for fname, spec in kind.fields.items():
            fpath = f"{path}.fields.{fname}"
            if spec.required_if and not set(spec.required_if) <= set(kind.fields):
                errors[f"{fpath}.required_if"] = "names a field the kind does not declare"
            if spec.choices is not None and spec.type != "string":
                errors[f"{fpath}.choices"] = "only string fields have choices"
            if spec.type == "matrix_action":
                if not policy.responsibility:
                    errors[f"{fpath}.type"] = "matrix_action needs the policy's responsibility"
                if spec.matrix_field not in kind.fields:
                    errors[f"{fpath}.matrix_field"] = "must name a field of the same kind"
    for plan, tier in policy.plan_tiers.items():
        if tier not in policy.tiers:
            errors[f"plan_tiers.{plan}"] = f"unknown tier {tier!r}"
    if len({plan_key(p) for p in policy.plan_tiers}) != len(policy.plan_tiers):
        errors["plan_tiers"] = "two plans reduce to the same name"
    errors.update(_ladder_errors(policy.ladder, "ladder"))
    rule_lists: list[tuple[str, list[Any]]] = [
        ("priority_rules", policy.priority_rules),
        ("channel_rules", policy.channel_rules),
        ("status_rules", policy.status_rules),
        ("alert_rules", policy.alert_rules),
        ("target_rules", policy.target_rules),
    ]
    for list_name, rules in rule_lists:
        for i, rule in enumerate(rules):
            errors.update(_match_errors(policy, rule.when, f"{list_name}.{i}.when", priorities))
    for i, p_rule in enumerate(policy.priority_rules):
        if p_rule.priority not in priorities:
            errors[f"priority_rules.{i}.priority"] = f"unknown priority {p_rule.priority!r}"
    for i, c_rule in enumerate(policy.channel_rules):
        unknown = sorted(set(c_rule.channels) - set(CHANNELS))
        if unknown:
            errors[f"channel_rules.{i}.channels"] = f"unknown: {', '.join(unknown)}"
    for i, t_rule in enumerate(policy.target_rules):
        for j, target in enumerate(t_rule.targets):
            path = f"target_rules.{i}.targets.{j}"
            given = [target.seconds, target.minutes, target.hours, target.business_days]
            if sum(v is not None for v in given) != 1:
                errors[path] = "give exactly one of seconds, minutes, hours, business_days"
            if target.ladder is not None:
                errors.update(_ladder_errors(target.ladder, f"{path}.ladder"))
    if policy.billing is not None:
        errors.update(_billing_errors(policy, policy.billing, priorities))
    return errors


# The tenant flags a policy may name (API.md, Tenant `flags`).
TENANT_FLAGS = ("disabled", "auto_service_problems", "collection_problems", "no_auto_service")
REPLY_PLACEHOLDERS = ("ticket_id", "fee", "currency", "hours")


def _billing_errors(policy: Policy, billing: BillingSpec, priorities: set[str]) -> dict[str, str]:
    """The `billing` section's references (C1-C4, DX1-DX5): kinds, matrix actions
    and tenant flags it names exist; the amount its way of billing needs is there
    (a fixed fee needs `ticket_fee`, billing by the hour `hourly_rate`, the
    default a tenant's own `billing` overrides); a reply template uses only the
    placeholders the engine fills."""
    errors: dict[str, str] = {}
    unknown = sorted(set(billing.free_kinds) - set(policy.kinds))
    if unknown:
        errors["billing.free_kinds"] = f"unknown kinds: {', '.join(unknown)}"
    if billing.fixed_fee_when is not None:
        errors.update(
            _match_errors(policy, billing.fixed_fee_when, "billing.fixed_fee_when", priorities)
        )
        if billing.ticket_fee is None:
            errors["billing.ticket_fee"] = "required with fixed_fee_when (DX3)"
    elif billing.hourly_rate is None and (
        billing.free_kinds
        or billing.provider_actions_free
        or billing.nesting_period_days is not None
        or billing.nesting_excluded_actions
    ):
        errors["billing.hourly_rate"] = "required when billing by the hour (no fixed_fee_when, C4)"
    actions = {a for row in policy.responsibility.values() for a in row}
    unknown = sorted(set(billing.nesting_excluded_actions) - actions)
    if unknown:
        errors["billing.nesting_excluded_actions"] = (
            f"not actions of the responsibility matrix: {', '.join(unknown)}"
        )
    if billing.nesting_period_days is not None and not actions:
        errors["billing.nesting_period_days"] = "a nesting period needs the responsibility matrix"
    if billing.provider_actions_free and not actions:
        errors["billing.provider_actions_free"] = "needs the responsibility matrix"
    unknown = sorted(set(billing.commercial_review_flags) - set(TENANT_FLAGS))
    if unknown:
        errors["billing.commercial_review_flags"] = (
            f"unknown flags: {', '.join(unknown)}; one of: {', '.join(TENANT_FLAGS)}"
        )
    for locale, template in (billing.auto_reply or {}).items():
        problem = _template_problem(template)
        if problem:
            errors[f"billing.auto_reply.{locale}"] = problem
    return errors


def _template_problem(template: str) -> str:
    """Why a reply template cannot be filled (an unknown or malformed placeholder), or ""."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as e:
        return f"malformed placeholder: {e}"
    unknown = sorted(n for n in names if n not in REPLY_PLACEHOLDERS)
    if unknown:
        return f"unknown placeholders {', '.join(unknown)}; use {', '.join(REPLY_PLACEHOLDERS)}"
    return ""


def validate_policy_document(doc: Mapping[str, Any]) -> Policy:
    """Parse a policy document (a custom policy PUT, or a shipped file).

    Raises IntakeError (code `invalid_policy`) naming every bad field by its path,
    e.g. `calendar.timezone`, `kinds.incident.priorities`, `target_rules.2.targets.0`:
    the shape's errors and the cross-references' together, in one answer (the
    references are checked on the parts whose shape is valid, see `_salvage`).
    """
    try:
        policy = Policy.model_validate(doc)
    except ValidationError as e:
        errors = _error_fields(e)
        if isinstance(doc, Mapping):
            salvaged, broken, parts = _salvage(doc)
            references = _semantic_errors(salvaged)
            errors = {
                **{k: v for k, v in references.items() if not _depends_on(k, broken, parts)},
                **errors,
            }
        raise IntakeError("the policy document is invalid", errors, code="invalid_policy") from e
    errors = _semantic_errors(policy)
    if errors:
        raise IntakeError("the policy document is invalid", errors, code="invalid_policy")
    return policy


# A document every part of which is valid: each part of a broken document is tried
# in its place, alone, to tell the valid parts from the broken ones.
_BASE: dict[str, Any] = {
    "id": "base",
    "name": "base",
    "calendar": {"hours": {"mon": [["09:00", "18:00"]]}},
    "kinds": {"base": {"priorities": ["base"]}},
}
_RULE_LISTS: dict[str, Any] = {
    "priority_rules": PriorityRule.model_construct(when=Match(), priority=""),
    "channel_rules": ChannelRule.model_construct(when=Match(), channels=[]),
    "status_rules": StatusRule.model_construct(when=Match(), status="new"),
    "alert_rules": AlertRule.model_construct(when=Match(), alert=""),
    "target_rules": TargetRule.model_construct(when=Match(), targets=[]),
}
# Cross-references into a part, by the part: when it is broken, what refers to it
# cannot be judged (its errors would be a consequence, not a fault).
_REFERRING: dict[str, re.Pattern[str]] = {
    "kinds": re.compile(
        r"(\.when\.(kinds|priorities)|^priority_rules\.\d+\.priority|^billing\.free_kinds)$"
    ),
    "tiers": re.compile(r"(\.when\.tiers|^plan_tiers\..*)$"),
    "responsibility": re.compile(
        r"(^kinds\..*\.type|^billing\.(nesting_\w+|provider_actions_free))$"
    ),
}


def _part(update: dict[str, Any]) -> Policy | None:
    try:
        return Policy.model_validate({**_BASE, **update})
    except ValidationError:
        return None


def _salvage(doc: Mapping[str, Any]) -> tuple[Policy, set[str], set[str]]:
    """The valid parts of a document whose shape is invalid, as a policy to check
    references on; the paths of the broken parts (a top-level field, one kind, one
    rule of a list); and the top-level fields with a broken part. A broken rule is
    replaced by an empty one in its place, so the rules after it keep their indexes."""
    parts: dict[str, Any] = {}
    tainted: set[str] = set()
    broken: set[str] = set()
    for name, value in doc.items():
        if name not in Policy.model_fields:
            continue
        if name == "kinds" and isinstance(value, Mapping):
            kinds: dict[str, KindSpec] = {}
            for kind, spec in value.items():
                one = _part({"kinds": {kind: spec}})
                if one is None:
                    tainted.add(f"kinds.{kind}")
                else:
                    kinds[kind] = one.kinds[kind]
            parts["kinds"] = kinds
            if len(kinds) < len(value):
                broken.add("kinds")
        elif name in _RULE_LISTS and isinstance(value, list):
            rules: list[Any] = []
            for i, rule in enumerate(value):
                one = _part({name: [rule]})
                if one is None:
                    tainted.add(f"{name}.{i}")
                    broken.add(name)
                rules.append(getattr(one, name)[0] if one is not None else _RULE_LISTS[name])
            parts[name] = rules
        else:
            one = _part({name: value})
            if one is None:
                tainted.add(name)
                broken.add(name)
            else:
                parts[name] = getattr(one, name)
    if "kinds" not in parts:  # missing or not a map: no kind to refer to
        broken.add("kinds")
        parts["kinds"] = {}
    return Policy.model_construct(**parts), tainted, broken


def _depends_on(path: str, tainted: set[str], broken: set[str]) -> bool:
    """Whether a reference error at `path` is about a broken part, or refers into one."""
    if any(path == t or path.startswith(f"{t}.") for t in tainted):
        return True
    return any(part in broken and rx.search(path) for part, rx in _REFERRING.items())
