"""A ticket's intake checked against its policy (K4, K5, C2, A3): the kind, the
priority, the channel, the integration and the intake `fields` a kind asks for.
Every problem is named at once (`IntakeError`, HTTP 400). Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from chalicelib.domain.errors import IntakeError
from chalicelib.domain.policy import BUILT_BY, CHANNELS, FieldSpec, KindSpec, Policy


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


@dataclass(frozen=True)
class CheckedIntake:
    """An intake that passed `check_intake`: its priority (the requested one, or
    the kind's default) and who built the integration it is about (A3)."""

    priority: str
    built_by: str | None


def check_intake(policy: Policy, intake: Intake) -> CheckedIntake:
    """Validate a ticket's intake against its policy. Raises IntakeError naming
    every bad field at once (`kind`, `priority`, `tier`, `channel`, `description`,
    `integration.built_by`, `fields.<name>`)."""
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

    return CheckedIntake(priority=priority, built_by=built_by)
