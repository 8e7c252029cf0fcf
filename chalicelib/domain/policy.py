"""The policy document (docs/policies.md E1, A*, K*, C*, DX*): its schema, and the
checks of one part against another that the schema alone cannot make.

A policy document is JSON. Its rules are lists of `{"when": <match>, ...}` entries;
a match names conditions on the ticket and tenant (kind, priority, tier, channel,
contract, integration, "reported outside working hours") and an absent condition
matches anything. How each list is read (`chalicelib.domain.planning` reads them):

* `priority_rules`: the first match forces the priority (K1 emergency kind, K2 prime,
  DX6 no urgencies without contract). Conditions see the requested priority.
* `channel_rules`: the first match restricts the channels (DX2); another channel is
  refused (`ChannelRefused`, HTTP 403).
* `status_rules`: the first match sets the initial status (DX2 `awaiting_approval`),
  else `new`.
* `alert_rules`: every match raises its alert at creation (K2 `ticket.prime_opened`).
* `target_rules`: per metric, the first rule that matches and defines that metric
  wins, so a narrow rule listed first overrides one metric of a broad rule (A3).

A ticket's intake is checked against its kind in `chalicelib.domain.intake`; a
tenant's terms (tier, contract, calendar) are read in `chalicelib.domain.terms`.
Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from chalicelib.domain.calendar import CalendarSpec
from chalicelib.domain.errors import IntakeError, validation_fields
from chalicelib.domain.sla import DEFAULT_LADDER, Threshold

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
# The value a `required_if` condition compares an intake field with (a JSON scalar).
FieldValue = str | bool | int | float | None


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
    required_if: dict[str, FieldValue] | None = None
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


# ---------------------------------------------------------------------- plans


def plan_key(plan: str) -> str:
    """A contract plan name reduced for lookup in `plan_tiers`: case, spaces,
    punctuation and the words "daily chats"/"plan" do not matter
    ("50,000 daily chats" == "50000"; "Pro +100" == "pro+100")."""
    text = plan.lower().replace("plus", "+")
    for word in ("daily", "chats", "chat", "plan"):
        text = text.replace(word, "")
    return re.sub(r"[^a-z0-9+]", "", text)


# ---------------------------------------------------------------------- documents


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


# The tenant flags a policy may name (docs/api.md, Tenant `flags`).
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

    Types are strict (JSON values as sent). Raises IntakeError (code
    `invalid_policy`) naming every bad field by its path,
    e.g. `calendar.timezone`, `kinds.incident.priorities`, `target_rules.2.targets.0`:
    the shape's errors and the cross-references' together, in one answer (the
    references are checked on the parts whose shape is valid, see `_salvage`).
    """
    try:
        # Strict, as JSON: a number, boolean or string is taken as it was sent
        # (`"pct": "75"` or `true` is not a percent), RFC 3339 text still makes dates.
        policy = Policy.model_validate_json(json.dumps(doc), strict=True)
    except ValidationError as e:
        errors = validation_fields(e)
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
    """The base document with `update` in place, if valid (as strict as the whole)."""
    try:
        return Policy.model_validate_json(json.dumps({**_BASE, **update}), strict=True)
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
