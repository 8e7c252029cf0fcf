"""Charges (docs/policies.md C1-C4, DX1-DX5): what a ticket costs its customer, as data.

A policy that bills has a `billing` section (`BillingSpec`, validated with the rest
of the document); the tenant's `billing` overrides the amounts and its currency.
Two ways of billing, chosen by the section:

* **by the hour** (no `fixed_fee_when`; Clever Ideas): a kind in `free_kinds` is
  free (C1); a request naming an action of the responsibility matrix is free when
  the action is the provider's (C2), and within the nesting period after
  `operation_started_on` when it is the customer's, except the excluded actions
  (C3: retraining); anything else is billed as the time agents log x the hourly
  rate (C4). The customer agreed to the rate in its contract, so an hours charge
  is `approved` from the start.
* **a fixed fee** (`fixed_fee_when` matches; Digital Express without a contract):
  the fee is `quoted` at opening with an automatic reply (DX2, DX3), `approved`
  by the customer, `paid` by administration, and `waived` when no agent takes the
  ticket within its first response target (DX4; a credit when already paid). The
  DX5 blocks hold it for the commercial team (`commercial_review`). A ticket the
  condition does not match is free (DX1).

Money is `Decimal`, never float: amounts are rounded to the cent, half up, once
per ticket (minutes x rate / 60, multiplied before dividing). Pure: no I/O, no
clock; every instant is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from chalicelib.domain.intake import Intake
from chalicelib.domain.planning import Plan, plan_matches
from chalicelib.domain.policy import BillingSpec, Policy
from chalicelib.domain.terms import BillingTerms, SlaBasis

ChargeKind = Literal["fixed_fee", "hours"]
ChargeStatus = Literal["quoted", "approved", "invoiced", "paid", "waived", "not_billable"]
# Charged = the customer owes it or paid it (docs/api.md, /reports/charges).
CHARGED: frozenset[str] = frozenset({"approved", "invoiced", "paid"})
# E9: a policy change never touches a charge the customer already agreed to or
# settled (nor one the waiver already cancelled).
SETTLED: frozenset[str] = frozenset({"approved", "invoiced", "paid", "waived"})
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
COMMERCIAL_REVIEW = "commercial_review"
REVIEW_ALERT = "commercial.review_required"
WAIVED_ALERT = "charge.waived"
# DX5: the tenant flags that hold a ticket for the commercial team, and the check
# on the contact (docs/api.md, Tenant `flags`, `authorized_contacts`).
UNAUTHORIZED_CONTACT = "unauthorized_contact"


def money(value: Decimal | str | int) -> Decimal:
    """An amount rounded to the cent, half up (the commercial rounding)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def hours_of(minutes: int) -> Decimal:
    """Logged minutes as hours, to the hundredth (90 -> 1.50, 20 -> 0.33)."""
    return (Decimal(minutes) / 60).quantize(CENT, rounding=ROUND_HALF_UP)


def hours_amount(minutes: int, rate: Decimal) -> Decimal:
    """C4: minutes x hourly rate / 60, rounded once to the cent (exact: the
    product is taken before the division, so 15 min at 10.10 is 2.53, not 2.52)."""
    return money(Decimal(minutes) * rate / 60)


# ---------------------------------------------------------------------- the value


@dataclass(frozen=True)
class Charge:
    """A ticket's charge (docs/api.md, Ticket `charge`). `rule` is the docs/policies.md rule
    that decided it; `reason` says it in words. Hours charges carry the rate they
    were agreed at and the billable minutes; `credit` is what DX4 gives back after
    a payment."""

    status: ChargeStatus
    currency: str
    reason: str
    rule: str
    kind: ChargeKind | None = None
    amount: Decimal = ZERO
    hourly_rate: Decimal | None = None
    minutes: int = 0
    credit: Decimal | None = None
    # DX4: the metric whose breach waives the fee (set from the policy when quoted,
    # so a change of the policy does not undo what the customer accepted).
    waive_on: str | None = None

    @property
    def charged(self) -> bool:
        return self.status in CHARGED

    @property
    def amount_due(self) -> Decimal:
        """What the customer still owes: a charged amount not yet paid."""
        return self.amount if self.status in ("approved", "invoiced") else ZERO

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON, money and hours as decimal strings (also the stored form)."""
        doc: dict[str, Any] = {
            "kind": self.kind,
            "amount": str(money(self.amount)),
            "currency": self.currency,
            "status": self.status,
            "reason": self.reason,
            "rule": self.rule,
        }
        if self.kind == "hours":
            doc["hourly_rate"] = str(money(self.hourly_rate or ZERO))
            doc["minutes"] = self.minutes
            doc["hours"] = str(hours_of(self.minutes))
        if self.credit is not None:
            doc["credit"] = str(money(self.credit))
        if self.waive_on is not None:
            doc["waived_if_breached"] = self.waive_on
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Charge:
        """Inverse of `to_dict` (numbers may come back as Decimal from DynamoDB)."""
        rate, credit = doc.get("hourly_rate"), doc.get("credit")
        kind = doc.get("kind")
        return cls(
            status=cast(ChargeStatus, str(doc["status"])),
            currency=str(doc["currency"]),
            reason=str(doc.get("reason") or ""),
            rule=str(doc.get("rule") or ""),
            kind=cast(ChargeKind, str(kind)) if kind else None,
            amount=money(str(doc.get("amount") or "0")),
            hourly_rate=money(str(rate)) if rate is not None else None,
            minutes=int(doc.get("minutes") or 0),
            credit=money(str(credit)) if credit is not None else None,
            waive_on=str(doc["waived_if_breached"]) if doc.get("waived_if_breached") else None,
        )


def from_stored(doc: Mapping[str, Any] | None) -> Charge | None:
    return Charge.from_dict(doc) if doc else None


# ---------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Opening:
    """What the charge rules add to a ticket being opened: its charge, a status
    that replaces the plan's (DX5 `commercial_review`), the alerts to raise
    (`commercial.review_required`), the DX5 reasons, and the automatic reply
    (DX2) to post as a public system comment."""

    charge: Charge | None
    status: str | None = None
    alerts: tuple[str, ...] = ()
    review: tuple[str, ...] = ()
    reply: str | None = None
    locale: str = "en"


# ---------------------------------------------------------------------- opening


def _currency(spec: BillingSpec, terms: BillingTerms) -> str:
    return terms.currency or spec.currency


def _free(spec: BillingSpec, terms: BillingTerms, rule: str, reason: str) -> Charge:
    return Charge(status="not_billable", currency=_currency(spec, terms), reason=reason, rule=rule)


def _matrix_action(policy: Policy, intake: Intake) -> tuple[str, str, str] | None:
    """C2: (product, action, side) when the ticket names an action of the matrix."""
    kind = policy.kinds.get(intake.kind)
    if kind is None:
        return None
    for name, spec in kind.fields.items():
        if spec.type != "matrix_action":
            continue
        action, product = intake.fields.get(name), intake.fields.get(spec.matrix_field or "")
        if not isinstance(action, str) or not isinstance(product, str):
            return None
        side = policy.responsibility.get(product, {}).get(action)
        return (product, action, side) if side is not None else None
    return None


def nesting_ends(spec: BillingSpec, started_on: date | None) -> date | None:
    """C3: the first day after the nesting period, or None without one."""
    if spec.nesting_period_days is None or started_on is None:
        return None
    return started_on + timedelta(days=spec.nesting_period_days)


def _hours(spec: BillingSpec, terms: BillingTerms, rule: str, reason: str) -> Charge:
    rate = terms.hourly_rate if terms.hourly_rate is not None else spec.hourly_rate
    rate = money(rate if rate is not None else ZERO)
    currency = _currency(spec, terms)
    return Charge(
        status="approved",
        currency=currency,
        reason=f"{reason}; C4: billed by the hour at {rate} {currency}",
        rule=rule,
        kind="hours",
        amount=ZERO,
        hourly_rate=rate,
    )


def hourly_charge(
    policy: Policy,
    spec: BillingSpec,
    terms: BillingTerms,
    intake: Intake,
    reported_on: date,
    started_on: date | None,
) -> Charge:
    """C1-C4: the charge of a ticket under a policy that bills by the hour."""
    if intake.kind in spec.free_kinds:
        return _free(
            spec, terms, "C1", f"C1: {intake.kind} tickets (bugs, service incidents) are free"
        )
    matrix = _matrix_action(policy, intake)
    if matrix is None:
        return _hours(spec, terms, "C1", f"C1: a {intake.kind} is chargeable")
    product, action, side = matrix
    if side == "provider" and spec.provider_actions_free:
        return _free(
            spec, terms, "C2", f"C2: {action} is the provider's responsibility ({product}): free"
        )
    ends = nesting_ends(spec, started_on)
    if action in spec.nesting_excluded_actions:
        return _hours(spec, terms, "C3", f"C3: {action} is never covered by the nesting period")
    if ends is not None and started_on is not None and started_on <= reported_on < ends:
        return _free(
            spec,
            terms,
            "C3",
            f"C3: advice and training on {action} are free during the "
            f"{spec.nesting_period_days}-day nesting period (until {ends.isoformat()})",
        )
    return _hours(spec, terms, "C2", f"C2: {action} is the customer's responsibility ({product})")


def review_reasons(spec: BillingSpec, terms: BillingTerms, contact: str | None) -> tuple[str, ...]:
    """DX5: why the automatic flow may not start: each flag of the tenant the
    policy lists, and `unauthorized_contact` when the tenant keeps a list of
    authorized contacts and the ticket's contact is not on it (*Reading:* a tenant
    with no list authorizes any contact). Empty: the automatic flow goes on."""
    reasons = [flag for flag in spec.commercial_review_flags if flag in terms.flags]
    if spec.commercial_review_unauthorized_contact and terms.authorized_contacts:
        allowed = {c.strip().lower() for c in terms.authorized_contacts}
        if contact is None or contact.strip().lower() not in allowed:
            reasons.append(UNAUTHORIZED_CONTACT)
    return tuple(reasons)


def fixed_fee_opening(
    spec: BillingSpec,
    terms: BillingTerms,
    contact: str | None,
    *,
    ticket_id: str,
    response_hours: Decimal | None,
) -> Opening:
    """DX2-DX5: a ticket of a customer without a contract: the fee quoted with the
    automatic reply, or held for the commercial team (DX5) with its alert."""
    fee = terms.ticket_fee if terms.ticket_fee is not None else spec.ticket_fee
    fee = money(fee if fee is not None else ZERO)
    currency = _currency(spec, terms)
    waive_on = "first_response" if spec.waive_fee_if_first_response_breached else None
    reasons = review_reasons(spec, terms, contact)
    if reasons:
        charge = Charge(
            status="quoted",
            currency=currency,
            reason=f"DX5: held for the commercial team ({', '.join(reasons)}); "
            f"DX3: fixed fee {fee} {currency}",
            rule="DX5",
            kind="fixed_fee",
            amount=fee,
            waive_on=waive_on,
        )
        return Opening(
            charge=charge,
            status=COMMERCIAL_REVIEW,
            alerts=(REVIEW_ALERT,),
            review=reasons,
            locale=terms.locale,
        )
    charge = Charge(
        status="quoted",
        currency=currency,
        reason=f"DX3: fixed fee per ticket without a contract, {fee} {currency}",
        rule="DX3",
        kind="fixed_fee",
        amount=fee,
        waive_on=waive_on,
    )
    reply = auto_reply(spec, terms.locale, fee, currency, response_hours, ticket_id)
    return Opening(charge=charge, reply=reply, locale=terms.locale)


def open_charge(
    basis: SlaBasis,
    intake: Intake,
    plan: Plan,
    reported_at: datetime,
    *,
    contact: str | None,
    ticket_id: str,
) -> Opening:
    """The charge side of opening a ticket (after `plan_ticket` accepted it): no
    charge under a policy that does not bill; else the rules in this module's
    docstring. Also what re-planning a ticket compares with (E7, E9, `replanned`)."""
    policy, terms, billing = basis.policy, basis.terms, basis.billing
    spec = policy.billing
    if spec is None or not spec.bills:
        return Opening(charge=None)
    if spec.fixed_fee_when is not None:
        if not plan_matches(policy, terms, intake, plan, reported_at, spec.fixed_fee_when):
            return Opening(charge=_free(spec, billing, "DX1", "DX1: free under the contract"))
        paid_hours = next(
            (Decimal(t.seconds) / 3600 for t in plan.targets if t.starts_on == "payment"), None
        )
        return fixed_fee_opening(
            spec, billing, contact, ticket_id=ticket_id, response_hours=paid_hours
        )
    calendar = basis.calendar or policy.calendar
    zone = ZoneInfo(calendar.timezone)
    reported_on = reported_at.astimezone(zone).date()  # C3: days of the provider's calendar
    charge = hourly_charge(policy, spec, billing, intake, reported_on, terms.operation_started_on)
    return Opening(charge=charge)


# ---------------------------------------------------------------------- changes


def log_minutes(charge: Charge | None, total_minutes: int) -> Charge | None:
    """C4: an hours charge follows the time logged (amount = minutes x its rate);
    a free charge stays free and a fixed fee stays fixed (DX3), whatever the time."""
    if charge is None or charge.kind != "hours" or charge.status not in CHARGED:
        return charge
    rate = charge.hourly_rate or ZERO
    return replace(charge, minutes=total_minutes, amount=hours_amount(total_minutes, rate))


def add_minutes(charge: Charge | None, minutes: int) -> Charge | None:
    """C4: `minutes` more logged by an agent (see `log_minutes`)."""
    if charge is None:
        return None
    return log_minutes(charge, charge.minutes + minutes)


def approve(charge: Charge | None) -> Charge | None:
    """DX2: the customer approves a quoted fee."""
    if charge is None or charge.status != "quoted":
        return charge
    return replace(charge, status="approved")


def mark_paid(charge: Charge | None) -> Charge | None:
    """DX2: administration marks the invoice paid."""
    if charge is None or charge.status not in ("approved", "invoiced"):
        return charge
    return replace(charge, status="paid")


ACTIONS = {"approve_charge": approve, "mark_paid": mark_paid}


def waive(charge: Charge | None, states: Mapping[str, str]) -> Charge | None:
    """DX4: the waived charge when its fee is waived on a breach (`waive_on`, from
    the policy's `waive_fee_if_first_response_breached`) and that target reads
    `breached` in `states` (metric -> state as of now: nobody took the ticket in
    time, or took it late); a credit of the amount when it was paid. None when
    nothing is to waive (no such fee, already waived, not breached)."""
    if charge is None or charge.waive_on is None or charge.kind != "fixed_fee":
        return None
    if charge.status in ("waived", "not_billable") or states.get(charge.waive_on) != "breached":
        return None
    credit = charge.amount if charge.status == "paid" else None
    reason = "DX4: waived, no agent took the ticket within its first response target"
    if credit is not None:
        reason += f"; {money(credit)} {charge.currency} credited"
    return replace(charge, status="waived", rule="DX4", reason=reason, credit=credit)


def replanned(current: Charge | None, fresh: Charge | None, minutes: int) -> Charge | None:
    """E9/E7: the charge after the policy (or the ticket) changed. A charge the
    customer approved, or one paid, invoiced or waived, stays as it is; a quoted
    or free one takes the fresh rules (a new hours charge counts the `minutes`
    already logged on the ticket)."""
    if current is not None and current.status in SETTLED:
        return current
    return log_minutes(fresh, minutes)


def event_type(before: Charge | None, after: Charge | None) -> str | None:
    """The history event a charge change is (`charge.<status>`), or None when the
    charge did not change."""
    if after is None or after == before:
        return None
    return f"charge.{after.status}"


def event_data(before: Charge | None, after: Charge) -> dict[str, Any]:
    return {
        "charge": after.to_dict(),
        "previous_status": before.status if before is not None else None,
        "previous_amount": str(money(before.amount)) if before is not None else None,
    }


# ---------------------------------------------------------------------- the reply

REPLIES: dict[str, str] = {
    "en": (
        "Automatic reply: your organization has no support contract, so this ticket "
        "({ticket_id}) has a fixed fee of {fee} {currency}, whatever the time it takes or "
        "its reason. To approve the fee, reply to this email accepting it, or approve the "
        "charge on the ticket (action approve_charge). Administration then issues the "
        "invoice; once it is paid an agent answers within {hours} hours, and if no agent "
        "takes the ticket in time the fee is waived."
    ),
    "es": (
        "Respuesta automática: su organización no tiene servicios contratados, por lo que "
        "este ticket ({ticket_id}) tiene un costo fijo de {fee} {currency}, sin importar el "
        "tiempo dedicado ni el motivo. Para aprobar el costo, responda este correo "
        "aceptándolo, o apruebe el cargo en el ticket (acción approve_charge). "
        "Administración emite entonces la factura; una vez pagada, un agente responde "
        "dentro de las {hours} horas, y si ningún agente toma el ticket a tiempo el cargo "
        "no se cobra."
    ),
}


def _number_text(value: Decimal, locale: str) -> str:
    text = f"{value:f}"
    return text.replace(".", ",") if locale == "es" else text


def auto_reply(
    spec: BillingSpec,
    locale: str,
    fee: Decimal,
    currency: str,
    hours: Decimal | None,
    ticket_id: str,
) -> str:
    """DX2: the automatic reply stating the fee and how to approve it, in the
    tenant's language (the policy's own text, `billing.auto_reply`, else ours)."""
    lang: Literal["en", "es"] = "es" if locale == "es" else "en"
    template = (spec.auto_reply or {}).get(lang) or REPLIES[lang]
    values = {
        "ticket_id": ticket_id,
        "fee": _number_text(money(fee), lang),
        "currency": currency,
        "hours": _number_text((hours or Decimal(3)).normalize(), lang),
    }
    return template.format_map(values)


# ---------------------------------------------------------------------- the report


@dataclass
class ReportRow:
    """One `/reports/charges` item: a tenant's charges in one currency."""

    tenant_id: str
    currency: str
    tickets_charged: int = 0
    tickets_waived: int = 0
    minutes: int = 0
    amount_due: Decimal = field(default_factory=lambda: ZERO)

    def add(self, charge: Charge) -> None:
        if charge.charged:
            self.tickets_charged += 1
            self.amount_due += charge.amount_due
            if charge.kind == "hours":
                self.minutes += charge.minutes
        elif charge.status == "waived":
            self.tickets_waived += 1

    def merge(self, other: ReportRow) -> None:
        """Another row's sums (a day's counters) added to this one."""
        self.tickets_charged += other.tickets_charged
        self.tickets_waived += other.tickets_waived
        self.minutes += other.minutes
        self.amount_due += other.amount_due

    def item(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "currency": self.currency,
            "tickets_charged": self.tickets_charged,
            "tickets_waived": self.tickets_waived,
            "hours": str(hours_of(self.minutes)),
            "amount_due": str(money(self.amount_due)),
        }


def report_rows(
    tenant_id: str, default_currency: str | None, charges: Iterable[Charge | ReportRow]
) -> list[ReportRow]:
    """A tenant's report rows, one per currency seen (a billing tenant with no
    charge yet gets a row of zeros in its own currency): each charge added, each
    row (sums of charges, a day's report counters) merged."""
    rows: dict[str, ReportRow] = {}
    if default_currency is not None:
        rows[default_currency] = ReportRow(tenant_id, default_currency)
    for part in charges:
        row = rows.setdefault(part.currency, ReportRow(tenant_id, part.currency))
        if isinstance(part, ReportRow):
            row.merge(part)
        else:
            row.add(part)
    return list(rows.values())
