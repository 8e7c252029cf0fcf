"""What a policy reads from a customer (docs/api.md, Tenant): its terms (tier,
contract, calendar overrides), the effective calendar and tier they give under a
policy, and the versions that tell whether a ticket's targets were computed with
the terms now in force (E9).

Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.domain.calendar import CalendarSpec
from chalicelib.domain.errors import DomainError, IntakeError, validation_fields
from chalicelib.domain.policy import Policy, plan_key


class CalendarOverride(BaseModel):
    """A tenant's calendar: each field given replaces the policy's (A1, DX1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str | None = None
    country: str | None = None
    hours: dict[str, list[tuple[str, str]]] | None = None
    holidays: list[date] | None = None


@dataclass(frozen=True)
class TenantTerms:
    """What a policy reads from the tenant (docs/api.md, Tenant)."""

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
                errors.update(validation_fields(e, "calendar."))
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


def _amount(value: Any) -> Decimal | None:
    """A price as the tenant document holds it (a decimal string), to the cent."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class BillingTerms:
    """What the charge rules read from the tenant (docs/api.md, Tenant): `billing`
    (currency, ticket_fee, hourly_rate), `flags`, `authorized_contacts`, `locale`."""

    currency: str | None = None
    ticket_fee: Decimal | None = None
    hourly_rate: Decimal | None = None
    flags: frozenset[str] = frozenset()
    authorized_contacts: tuple[str, ...] = ()
    locale: str = "en"

    @classmethod
    def from_tenant_doc(cls, doc: Mapping[str, Any]) -> BillingTerms:
        billing = doc.get("billing") or {}
        locale = doc.get("locale")
        return cls(
            currency=billing.get("currency") or None,
            ticket_fee=_amount(billing.get("ticket_fee")),
            hourly_rate=_amount(billing.get("hourly_rate")),
            flags=frozenset(str(f) for f in doc.get("flags") or ()),
            authorized_contacts=tuple(str(c) for c in doc.get("authorized_contacts") or ()),
            locale=locale if locale in ("en", "es") else "en",
        )


# ---------------------------------------------------------------------- calendar and tier


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
        raise IntakeError(
            "the tenant's calendar is invalid", validation_fields(e, "calendar.")
        ) from e


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


# ---------------------------------------------------------------------- versions (E9)


def content_version(value: Any) -> str:
    """A content hash of JSON: any change of the value is a new version (E9)."""
    raw = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def calendar_version(calendar: CalendarSpec) -> str:
    """The version of a calendar: any change of hours, timezone or holidays (E9)."""
    return content_version(calendar.model_dump(mode="json"))


def terms_version(tenant_doc: Mapping[str, Any]) -> str:
    """The version of the tenant terms a plan reads besides the calendar (tier,
    contract: K1, A3, DX1): a change of them makes open tickets stale (E7/E9)."""
    return content_version({"tier": tenant_doc.get("tier"), "contract": tenant_doc.get("contract")})


@dataclass(frozen=True)
class SlaBasis:
    """What a ticket's targets are computed from, with its versions (E9): the
    policy and its version, the effective calendar, the tenant's terms. The one
    place these versions are worked out (`SlaBasis.of`); `Ticket` stamps them
    and compares them (`Ticket.is_stale`).

    `calendar` is None when the tenant's terms and the policy no longer make a
    valid calendar (`problem` says why): a ticket then keeps the calendar it has."""

    policy: Policy
    terms: TenantTerms
    calendar: CalendarSpec | None
    calendar_version: str | None
    terms_version: str
    problem: DomainError | None = None
    terms_problem: DomainError | None = None
    # What the charge rules read (C4, DX3-DX5): prices, flags, contacts, language.
    billing: BillingTerms = BillingTerms()

    @classmethod
    def of(cls, policy: Policy, tenant_doc: Mapping[str, Any]) -> SlaBasis:
        """The basis in force for a customer (its Tenant JSON) under `policy`."""
        billing = BillingTerms.from_tenant_doc(tenant_doc)
        version = terms_version(tenant_doc)
        try:
            terms = TenantTerms.from_tenant_doc(tenant_doc)
        except DomainError as e:
            return cls(policy, TenantTerms(), None, None, version, e, e, billing=billing)
        try:
            calendar = calendar_for(policy, terms)
        except DomainError as e:
            return cls(policy, terms, None, None, version, e, billing=billing)
        return cls(policy, terms, calendar, calendar_version(calendar), version, billing=billing)

    def require_terms(self) -> None:
        """Raise the IntakeError of a malformed tenant document, if any."""
        if self.terms_problem is not None:
            raise self.terms_problem

    def require_calendar(self) -> CalendarSpec:
        """The effective calendar, or the IntakeError that says why there is none."""
        if self.calendar is None:
            assert self.problem is not None
            raise self.problem
        return self.calendar
