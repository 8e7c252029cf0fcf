"""Charges as data (docs/policies.md C1-C4, DX1-DX5, E9): the pure rules of
chalicelib.domain.charges against the shipped Clever Ideas and Digital Express
policies, and the `billing` section's checks. Money is Decimal: the amounts below
include ones binary floats get wrong."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import charges
from chalicelib.domain.charges import Charge, Opening
from chalicelib.domain.errors import IntakeError
from chalicelib.domain.intake import Intake
from chalicelib.domain.planning import plan_ticket
from chalicelib.domain.policy import Policy, validate_policy_document
from chalicelib.domain.terms import SlaBasis
from chalicelib.policies import load_shipped

# Wednesday 2026-11-18 12:00 in Mexico City (UTC-6 all year since 2022).
AT = datetime(2026, 11, 18, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def clever() -> Policy:
    return load_shipped()["clever_ideas"]


@pytest.fixture(scope="module")
def dx() -> Policy:
    return load_shipped()["digital_express"]


def opening(
    policy: Policy,
    kind: str,
    tenant: dict[str, Any] | None = None,
    *,
    at: datetime = AT,
    contact: str | None = "ana@acme.example",
    **intake: Any,
) -> Opening:
    doc = {"id": "acme", "name": "Acme SA", "policy": policy.id, **(tenant or {})}
    basis = SlaBasis.of(policy, doc)
    ticket = Intake(kind=kind, **intake)
    plan = plan_ticket(policy, basis.terms, ticket, at)
    return charges.open_charge(basis, ticket, plan, at, contact=contact, ticket_id="tkt_1")


def service_request(product: str, action: str) -> dict[str, Any]:
    return {"fields": {"product": product, "action": action}}


STARTED = {"operation_started_on": "2026-11-01"}  # nesting: 2026-11-01 .. 2026-11-30
LONG_AGO = {"operation_started_on": "2025-01-01"}


# ------------------------------------------------------------------ Clever Ideas


def test_c1_an_incident_is_free_whatever_time_is_logged(clever: Policy) -> None:
    charge = opening(clever, "incident", LONG_AGO).charge
    assert charge is not None
    assert (charge.status, charge.kind, charge.rule, charge.amount) == (
        "not_billable",
        None,
        "C1",
        Decimal("0.00"),
    )
    assert charge.reason.startswith("C1:")
    assert charges.log_minutes(charge, 600) == charge
    assert charge.to_dict() == {
        "kind": None,
        "amount": "0.00",
        "currency": "USD",
        "status": "not_billable",
        "reason": charge.reason,
        "rule": "C1",
    }


def test_c2_a_provider_action_is_free(clever: Policy) -> None:
    charge = opening(
        clever,
        "service_request",
        LONG_AGO,
        **service_request("line_pbx", "uploading_audio_to_the_system"),
    ).charge
    assert charge is not None
    assert (charge.status, charge.rule) == ("not_billable", "C2")
    assert "uploading_audio_to_the_system" in charge.reason
    assert "provider" in charge.reason
    # Reading (C2): an action listed on both sides counts as the provider's.
    both = opening(clever, "service_request", LONG_AGO, **service_request("ucontact", "forms"))
    assert both.charge is not None
    assert both.charge.status == "not_billable"


def test_c2_c4_a_customer_action_is_hours_approved_from_the_start(clever: Policy) -> None:
    charge = opening(
        clever, "service_request", LONG_AGO, **service_request("ucontact", "user_creation")
    ).charge
    assert charge is not None
    assert (charge.kind, charge.status, charge.rule) == ("hours", "approved", "C2")
    assert (charge.amount, charge.hourly_rate, charge.minutes) == (
        Decimal("0.00"),
        Decimal("60.00"),
        0,
    )
    assert "C4" in charge.reason
    assert charge.charged  # counts as charged in the report from the start
    logged = charges.log_minutes(charge, 50)
    assert logged is not None
    assert logged.to_dict() == {
        "kind": "hours",
        "amount": "50.00",
        "currency": "USD",
        "status": "approved",
        "reason": charge.reason,
        "rule": "C2",
        "hourly_rate": "60.00",
        "minutes": 50,
        "hours": "0.83",
    }


def test_c4_the_tenant_rate_and_currency_override_the_policy(clever: Policy) -> None:
    tenant = {**LONG_AGO, "billing": {"currency": "MXN", "hourly_rate": "950.00"}}
    charge = opening(clever, "service_request", tenant, **service_request("bot", "training")).charge
    assert charge is not None
    assert (charge.currency, charge.hourly_rate) == ("MXN", Decimal("950.00"))
    logged = charges.log_minutes(charge, 90)
    assert logged is not None
    assert logged.amount == Decimal("1425.00")


def test_c4_amounts_are_exact_where_floats_are_not(clever: Policy) -> None:
    """15 minutes at 10.10/h is 2.525: 2.53 rounded half up. Floats say 2.52
    (10.10 * 15 / 60 is 2.5249999999999995 in binary)."""
    assert round(10.10 * 15 / 60, 2) == 2.52  # what a float implementation would bill
    assert charges.hours_amount(15, Decimal("10.10")) == Decimal("2.53")
    tenant = {**LONG_AGO, "billing": {"hourly_rate": "10.10"}}
    charge = opening(
        clever, "service_request", tenant, **service_request("ucontact", "dialers")
    ).charge
    logged = charges.log_minutes(charge, 15)
    assert logged is not None
    assert logged.to_dict()["amount"] == "2.53"
    # Summing in the report: 0.10 + 0.20 is 0.30 (floats: 0.30000000000000004).
    assert 0.10 + 0.20 != 0.30
    row = charges.ReportRow("acme", "USD")
    for minutes in (1, 2):  # 1 min at 6.00/h = 0.10, 2 min = 0.20
        hourly = Charge("approved", "USD", "", "C2", kind="hours", hourly_rate=Decimal("6.00"))
        logged = charges.log_minutes(hourly, minutes)
        assert logged is not None
        row.add(logged)
    assert row.item()["amount_due"] == "0.30"
    assert row.item()["hours"] == "0.05"


@given(minutes=st.integers(0, 100_000), cents=st.integers(0, 10**9))
def test_c4_the_amount_is_the_exact_product_rounded_once_half_up(minutes: int, cents: int) -> None:
    rate = Decimal(cents) / 100
    exact = Fraction(minutes) * Fraction(cents, 100) / 60
    amount = Fraction(charges.hours_amount(minutes, rate))
    # The exact fraction rounded once to the cent, half up: within half a cent below,
    # and a value exactly half way goes up.
    assert amount - Fraction(1, 200) <= exact < amount + Fraction(1, 200), (minutes, rate)


def test_c3_advice_and_training_are_free_within_the_nesting_period(clever: Policy) -> None:
    charge = opening(
        clever, "service_request", STARTED, **service_request("ucontact", "training")
    ).charge
    assert charge is not None
    assert (charge.status, charge.rule) == ("not_billable", "C3")
    assert "2026-12-01" in charge.reason  # the first day it no longer covers
    customer_side = opening(
        clever,
        "service_request",
        STARTED,
        **service_request("ucontact", "creating_voice_campaigns"),
    ).charge
    assert customer_side is not None
    assert customer_side.status == "not_billable"


def test_c3_the_period_ends_after_30_days_on_the_providers_calendar(clever: Policy) -> None:
    training = service_request("ucontact", "training")
    # 2026-12-01 03:00 UTC is still Monday 2026-11-30 21:00 in Mexico City: covered.
    late_evening = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    inside = opening(clever, "service_request", STARTED, at=late_evening, **training).charge
    assert inside is not None
    assert inside.status == "not_billable"
    next_day = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    after = opening(clever, "service_request", STARTED, at=next_day, **training).charge
    assert after is not None
    assert (after.kind, after.status) == ("hours", "approved")
    before_start = datetime(2026, 10, 30, 18, 0, tzinfo=UTC)
    early = opening(clever, "service_request", STARTED, at=before_start, **training).charge
    assert early is not None
    assert early.kind == "hours"


def test_c3_retraining_is_never_covered(clever: Policy) -> None:
    charge = opening(
        clever, "service_request", STARTED, **service_request("ucontact", "retraining")
    ).charge
    assert charge is not None
    assert (charge.kind, charge.status, charge.rule) == ("hours", "approved", "C3")
    assert "retraining" in charge.reason


def test_c3_no_first_day_of_operation_means_no_nesting_period(clever: Policy) -> None:
    charge = opening(
        clever, "service_request", {}, **service_request("ucontact", "training")
    ).charge
    assert charge is not None
    assert charge.kind == "hours"


# ------------------------------------------------------------------ Digital Express

NO_CONTRACT = {"contract": {"active": False}}


def test_dx1_a_contract_makes_every_ticket_free(dx: Policy) -> None:
    charge = opening(dx, "incident", {"contract": {"active": True}}, priority="urgent").charge
    assert charge is not None
    assert (charge.status, charge.rule) == ("not_billable", "DX1")
    assert charge.reason.startswith("DX1:")


def test_dx3_without_contract_the_fee_is_quoted_with_the_automatic_reply(dx: Policy) -> None:
    opened = opening(dx, "query", NO_CONTRACT, channel="email")
    assert opened.status is None
    assert opened.alerts == ()
    charge = opened.charge
    assert charge is not None
    assert (charge.kind, charge.status, charge.amount, charge.rule) == (
        "fixed_fee",
        "quoted",
        Decimal("45.00"),
        "DX3",
    )
    assert charges.log_minutes(charge, 300) == charge  # DX3: whatever the time spent
    assert opened.reply is not None
    assert "45.00 USD" in opened.reply
    assert "approve_charge" in opened.reply
    assert "3 hours" in opened.reply  # the first response target that starts on payment
    assert "tkt_1" in opened.reply


def test_dx2_the_automatic_reply_speaks_the_tenants_language(dx: Policy) -> None:
    tenant = {**NO_CONTRACT, "locale": "es", "billing": {"ticket_fee": "1234.50"}}
    opened = opening(dx, "query", tenant, channel="email")
    assert opened.reply is not None
    assert opened.locale == "es"
    assert "costo fijo de 1234,50 USD" in opened.reply
    assert "approve_charge" in opened.reply
    assert "3 horas" in opened.reply
    assert opened.charge is not None
    assert opened.charge.amount == Decimal("1234.50")


def test_dx2_a_policy_may_word_its_own_reply(dx: Policy) -> None:
    doc = dx.model_dump(mode="json")
    doc["billing"]["auto_reply"] = {"en": "Fee {fee} {currency} for {ticket_id}; {hours} h."}
    own = validate_policy_document(doc)
    opened = opening(own, "query", NO_CONTRACT, channel="email")
    assert opened.reply == "Fee 45.00 USD for tkt_1; 3 h."


@pytest.mark.parametrize(
    ("tenant", "reasons"),
    [
        ({"flags": ["disabled"]}, ("disabled",)),
        ({"flags": ["auto_service_problems"]}, ("auto_service_problems",)),
        ({"flags": ["collection_problems"]}, ("collection_problems",)),
        ({"flags": ["no_auto_service"]}, ("no_auto_service",)),
        ({"authorized_contacts": ["boss@acme.example"]}, ("unauthorized_contact",)),
        (
            {"flags": ["disabled", "no_auto_service"], "authorized_contacts": ["x@y.example"]},
            ("disabled", "no_auto_service", "unauthorized_contact"),
        ),
    ],
)
def test_dx5_each_block_sends_the_ticket_to_the_commercial_team(
    dx: Policy, tenant: dict[str, Any], reasons: tuple[str, ...]
) -> None:
    opened = opening(dx, "incident", {**NO_CONTRACT, **tenant}, channel="email")
    assert opened.status == "commercial_review"
    assert opened.alerts == ("commercial.review_required",)  # one alert, whatever the count
    assert opened.review == reasons
    assert opened.reply is None  # no automatic flow
    assert opened.charge is not None
    assert (opened.charge.status, opened.charge.rule) == ("quoted", "DX5")


def test_dx5_an_authorized_contact_or_no_list_goes_the_automatic_way(dx: Policy) -> None:
    listed = {**NO_CONTRACT, "authorized_contacts": ["Ana@Acme.example"]}
    assert opening(dx, "incident", listed, channel="email").status is None
    # Reading: a tenant that keeps no list of authorized contacts authorizes any.
    assert opening(dx, "incident", NO_CONTRACT, channel="email", contact=None).status is None
    unknown = opening(dx, "incident", listed, channel="email", contact=None)
    assert unknown.review == ("unauthorized_contact",)


def test_dx2_approve_then_pay(dx: Policy) -> None:
    quoted = opening(dx, "query", NO_CONTRACT, channel="email").charge
    assert charges.mark_paid(quoted) == quoted  # not approved yet: nothing to pay
    approved = charges.approve(quoted)
    assert approved is not None
    assert approved.status == "approved"
    assert charges.event_type(quoted, approved) == "charge.approved"
    assert charges.approve(approved) == approved
    paid = charges.mark_paid(approved)
    assert paid is not None
    assert paid.status == "paid"
    assert paid.amount_due == Decimal("0.00")
    assert approved.amount_due == Decimal("45.00")
    assert charges.event_type(paid, paid) is None


def test_dx4_a_first_response_breach_waives_the_fee_crediting_a_payment(dx: Policy) -> None:
    paid = charges.mark_paid(
        charges.approve(opening(dx, "query", NO_CONTRACT, channel="email").charge)
    )
    assert paid is not None
    assert paid.waive_on == "first_response"
    assert charges.waive(paid, {"first_response": "running"}) is None
    assert charges.waive(paid, {"first_response": "met"}) is None
    waived = charges.waive(paid, {"first_response": "breached"})
    assert waived is not None
    assert (waived.status, waived.rule, waived.credit) == ("waived", "DX4", Decimal("45.00"))
    assert waived.to_dict()["credit"] == "45.00"
    assert "credited" in waived.reason
    assert charges.waive(waived, {"first_response": "breached"}) is None  # exactly once
    assert not waived.charged
    quoted = opening(dx, "query", NO_CONTRACT, channel="email").charge
    unpaid = charges.waive(quoted, {"first_response": "breached"})
    assert unpaid is not None
    assert unpaid.credit is None


def test_dx4_only_a_fee_is_waived_and_only_where_the_policy_says(
    dx: Policy, clever: Policy
) -> None:
    breached = {"first_response": "breached"}
    free = opening(dx, "incident", {"contract": {"active": True}}).charge
    assert charges.waive(free, breached) is None
    hours = opening(
        clever, "service_request", LONG_AGO, **service_request("bot", "training")
    ).charge
    assert charges.waive(hours, breached) is None
    doc = dx.model_dump(mode="json")
    doc["billing"]["waive_fee_if_first_response_breached"] = False
    never = validate_policy_document(doc)
    fee = opening(never, "query", NO_CONTRACT, channel="email").charge
    assert fee is not None
    assert fee.waive_on is None
    assert charges.waive(fee, breached) is None


# ------------------------------------------------------------------ E9, storage, report


def test_e9_a_policy_change_keeps_an_approved_or_paid_charge(dx: Policy) -> None:
    quoted = opening(dx, "query", NO_CONTRACT, channel="email").charge
    assert quoted is not None
    cheaper = Charge("quoted", "USD", "DX3", "DX3", kind="fixed_fee", amount=Decimal("30.00"))
    assert charges.replanned(quoted, cheaper, 0) == cheaper
    approved = charges.approve(quoted)
    assert charges.replanned(approved, cheaper, 0) == approved
    paid = charges.mark_paid(approved)
    assert charges.replanned(paid, cheaper, 0) == paid


def test_e9_a_free_charge_that_becomes_hours_counts_the_time_logged() -> None:
    free = Charge("not_billable", "USD", "C1", "C1")
    hours = Charge("approved", "USD", "C2", "C2", kind="hours", hourly_rate=Decimal("60.00"))
    now_hours = charges.replanned(free, hours, 30)
    assert now_hours is not None
    assert (now_hours.minutes, now_hours.amount) == (30, Decimal("30.00"))
    assert charges.replanned(now_hours, free, 30) == now_hours  # approved: kept
    assert charges.replanned(None, free, 0) == free


def test_a_charge_reads_back_what_it_stored() -> None:
    charge = Charge(
        "waived",
        "USD",
        "DX4: ...",
        "DX4",
        kind="fixed_fee",
        amount=Decimal("45.00"),
        credit=Decimal("45.00"),
        waive_on="first_response",
    )
    assert Charge.from_dict(charge.to_dict()) == charge
    hours = Charge(
        "approved", "MXN", "C2", "C2", kind="hours", hourly_rate=Decimal("10.10"), minutes=15
    )
    hours = charges.log_minutes(hours, 15) or hours
    stored = json.loads(json.dumps(hours.to_dict()))
    # DynamoDB gives numbers back as Decimal.
    stored["minutes"] = Decimal(stored["minutes"])
    assert Charge.from_dict(stored) == hours
    assert charges.from_stored(None) is None


def test_report_rows_per_currency_with_zeros_for_a_billing_tenant() -> None:
    fee = Charge("approved", "USD", "", "DX3", kind="fixed_fee", amount=Decimal("45.00"))
    rows = charges.report_rows(
        "acme",
        "USD",
        [
            fee,
            charges.mark_paid(fee) or fee,
            Charge("waived", "USD", "", "DX4", kind="fixed_fee", amount=Decimal("45.00")),
            Charge("quoted", "USD", "", "DX3", kind="fixed_fee", amount=Decimal("45.00")),
            Charge("not_billable", "USD", "", "DX1"),
            Charge(
                "approved", "MXN", "", "C2", kind="hours", amount=Decimal("100.00"), minutes=100
            ),
        ],
    )
    assert [r.item() for r in rows] == [
        {
            "tenant_id": "acme",
            "currency": "USD",
            "tickets_charged": 2,
            "tickets_waived": 1,
            "hours": "0.00",
            "amount_due": "45.00",
        },
        {
            "tenant_id": "acme",
            "currency": "MXN",
            "tickets_charged": 1,
            "tickets_waived": 0,
            "hours": "1.67",
            "amount_due": "100.00",
        },
    ]
    assert [r.item()["tickets_charged"] for r in charges.report_rows("b", "EUR", [])] == [0]


def test_money_rounds_half_up_to_the_cent() -> None:
    assert charges.money("2.525") == Decimal("2.53")
    assert charges.money("2.524") == Decimal("2.52")
    assert charges.hours_of(20) == Decimal("0.33")
    assert charges.hours_of(90) == Decimal("1.50")
    assert Decimal("2.525").quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal("2.53")


# ------------------------------------------------------------------ the billing section


def _billing_errors(policy: Policy, **billing: Any) -> dict[str, str]:
    doc = copy.deepcopy(policy.model_dump(mode="json"))
    doc["billing"].update(billing)
    with pytest.raises(IntakeError) as e:
        validate_policy_document(doc)
    return e.value.fields


def test_the_billing_section_names_each_bad_reference(dx: Policy, clever: Policy) -> None:
    fields = _billing_errors(
        dx,
        ticket_fee=None,
        commercial_review_flags=["vip"],
        auto_reply={"es": "Costo {fee} {moneda}", "en": "Fee {fee"},
    )
    assert set(fields) == {
        "billing.ticket_fee",
        "billing.commercial_review_flags",
        "billing.auto_reply.es",
        "billing.auto_reply.en",
    }
    assert fields["billing.ticket_fee"] == "required with fixed_fee_when (DX3)"
    assert fields["billing.commercial_review_flags"].startswith("unknown flags: vip")
    assert fields["billing.auto_reply.es"].startswith("unknown placeholders moneda")
    assert fields["billing.auto_reply.en"].startswith("malformed placeholder")
    fields = _billing_errors(
        clever, hourly_rate=None, free_kinds=["bug"], nesting_excluded_actions=["juggling"]
    )
    assert set(fields) == {
        "billing.hourly_rate",
        "billing.free_kinds",
        "billing.nesting_excluded_actions",
    }
    assert _billing_errors(clever, ticket_fee="-1") == {
        "billing.ticket_fee": "Input should be greater than or equal to 0"
    }


def test_a_billing_section_without_a_price_does_not_bill() -> None:
    """Keybe's section only documents that quotes are agreed outside (K5)."""
    keybe = load_shipped()["keybe"]
    assert keybe.billing is not None
    assert not keybe.billing.bills
    assert opening(keybe, "query").charge is None
    assert opening(load_shipped()["aivo"], "query").charge is None


def test_the_nesting_period_is_counted_in_days_from_the_first_day() -> None:
    spec = load_shipped()["clever_ideas"].billing
    assert spec is not None
    assert charges.nesting_ends(spec, date(2026, 11, 1)) == date(2026, 12, 1)
    assert charges.nesting_ends(spec, None) is None


@pytest.mark.parametrize(
    "doc",
    [{}, {"kinds": 5}, {"kinds": {}, "billing": {"ticket_fee": "x"}}, {"target_rules": "no"}],
)
def test_a_document_of_broken_parts_is_named_not_crashed_on(doc: dict[str, Any]) -> None:
    with pytest.raises(IntakeError) as e:
        validate_policy_document(doc)
    assert e.value.fields


def test_c4_each_log_adds_its_minutes_to_the_hours_charge() -> None:
    hours = Charge("approved", "USD", "C2", "C2", kind="hours", hourly_rate=Decimal("60.00"))
    once = charges.add_minutes(hours, 20)
    twice = charges.add_minutes(once, 25)
    assert twice is not None
    assert (twice.minutes, twice.amount) == (45, Decimal("45.00"))
    free = Charge("not_billable", "USD", "C1", "C1")
    assert charges.add_minutes(free, 30) == free
    assert charges.add_minutes(None, 30) is None
