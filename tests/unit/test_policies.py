"""The shipped policies as data, and how a ticket's intake becomes a plan
(docs/policies.md A1-A7, K1-K5, C2-C3, DX1/DX2/DX6, E1/E2/E9)."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.calendar import CONTINUOUS, BusinessCalendar, clock_for
from chalicelib.domain.errors import ChannelRefused, IntakeError
from chalicelib.domain.intake import Intake
from chalicelib.domain.planning import Plan, plan_ticket
from chalicelib.domain.policy import Policy, validate_policy_document
from chalicelib.domain.sla import DEFAULT_LADDER, Threshold
from chalicelib.domain.terms import TenantTerms, calendar_for, tier_for
from chalicelib.policies import load_shipped

BA = ZoneInfo("America/Argentina/Buenos_Aires")
HOUR = 3600
# Monday 2026-03-09 .. Friday 2026-03-13: no Argentine holiday that week.
MON_11_BA = datetime(2026, 3, 9, 11, 0, tzinfo=BA)
TUE_22_BA = datetime(2026, 3, 10, 22, 0, tzinfo=BA)


@pytest.fixture(scope="module")
def policies() -> dict[str, Policy]:
    return load_shipped()


def _plan(
    policy: Policy,
    kind: str,
    priority: str | None = None,
    *,
    terms: TenantTerms | None = None,
    at: datetime = MON_11_BA,
    **intake: Any,
) -> Plan:
    return plan_ticket(
        policy, terms or TenantTerms(), Intake(kind=kind, priority=priority, **intake), at
    )


def _targets(plan: Plan) -> dict[str, tuple[str, int]]:
    return {t.metric: (t.clock, t.seconds) for t in plan.targets}


def _intake_error(call: Any) -> dict[str, str]:
    with pytest.raises(IntakeError) as caught:
        call()
    assert caught.value.status == 400
    return caught.value.fields


# ------------------------------------------------------------------ shipped documents


def test_the_four_seed_policies_ship_as_valid_documents(policies: dict[str, Policy]) -> None:
    assert set(policies) == {"aivo", "keybe", "clever_ideas", "digital_express"}
    for policy_id, policy in policies.items():
        assert policy.id == policy_id
        assert policy.version == 1
        # A document re-validates from its own JSON: it is data, not code.
        again = validate_policy_document(json.loads(policy.model_dump_json()))
        assert again == policy


def test_load_shipped_is_cached_and_returns_a_fresh_dict() -> None:
    first, second = load_shipped(), load_shipped()
    assert first == second
    assert first is not second
    assert first["aivo"] is second["aivo"]


# ------------------------------------------------------------------ Aivo


def test_a1_aivo_calendar_is_buenos_aires_weekdays_with_argentine_holidays(
    policies: dict[str, Policy],
) -> None:
    cal = calendar_for(policies["aivo"], TenantTerms())
    assert cal.timezone == "America/Argentina/Buenos_Aires"
    assert cal.country == "AR"
    assert set(cal.hours) == {"mon", "tue", "wed", "thu", "fri"}
    assert all(v == [("09:00", "18:00")] for v in cal.hours.values())


def test_a1_tenant_calendar_overrides_the_policy_field_by_field(
    policies: dict[str, Policy],
) -> None:
    terms = TenantTerms.from_tenant_doc(
        {
            "id": "acme",
            "name": "Acme",
            "policy": "aivo",
            "calendar": {"timezone": "America/Mexico_City", "holidays": ["2026-12-24"]},
        }
    )
    cal = calendar_for(policies["aivo"], terms)
    assert cal.timezone == "America/Mexico_City"
    assert cal.holidays == [date(2026, 12, 24)]
    assert cal.country == "AR"  # not given by the tenant: the policy's
    assert cal.hours["mon"] == [("09:00", "18:00")]


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        ("blocker", {"first_response": ("24x7", 1 * HOUR), "resolution": ("24x7", 6 * HOUR)}),
        ("high", {"first_response": ("business", 2 * HOUR), "resolution": ("business", 8 * HOUR)}),
        # E2: 5 business days x the longest working day (9 h) = 45 business hours.
        (
            "medium",
            {"first_response": ("business", 4 * HOUR), "resolution": ("business", 45 * HOUR)},
        ),
        ("low", {"first_response": ("business", 4 * HOUR), "resolution": ("business", 45 * HOUR)}),
    ],
)
def test_a2_priority_matrix(
    policies: dict[str, Policy], priority: str, expected: dict[str, tuple[str, int]]
) -> None:
    plan = _plan(policies["aivo"], "incident", priority)
    assert plan.priority == priority
    assert plan.status == "new"
    assert _targets(plan) == expected
    assert all(t.ladder == DEFAULT_LADDER for t in plan.targets)
    assert all(t.starts_on == "reported" for t in plan.targets)


def test_a2_incident_needs_a_priority_and_query_defaults_to_low(
    policies: dict[str, Policy],
) -> None:
    fields = _intake_error(lambda: _plan(policies["aivo"], "incident"))
    assert set(fields) == {"priority"}
    query = _plan(policies["aivo"], "query")
    assert query.priority == "low"
    assert _targets(query)["resolution"] == ("business", 45 * HOUR)


def test_a2_unknown_kind_priority_and_tier_are_named_together(
    policies: dict[str, Policy],
) -> None:
    fields = _intake_error(lambda: _plan(policies["aivo"], "complaint", "urgent", tier="prime"))
    assert set(fields) == {"kind", "tier"}  # priority cannot be judged without a kind
    fields = _intake_error(lambda: _plan(policies["aivo"], "incident", "urgent", channel="fax"))
    assert set(fields) == {"priority", "channel"}


def _a3_terms(options: tuple[str, ...] = ("integrations_24x7",)) -> TenantTerms:
    return TenantTerms(contract_active=True, options=options)


PROVIDER_INTEGRATION = {"built_by": "provider", "name": "CRM"}


def test_a3_high_integration_incident_at_night_gets_16_hours_24x7(
    policies: dict[str, Policy],
) -> None:
    plan = _plan(
        policies["aivo"],
        "incident",
        "high",
        terms=_a3_terms(),
        at=TUE_22_BA,
        integration=PROVIDER_INTEGRATION,
    )
    assert _targets(plan) == {
        "first_response": ("business", 2 * HOUR),
        "resolution": ("24x7", 16 * HOUR),
    }


@pytest.mark.parametrize(
    ("why", "at", "options", "built_by", "priority"),
    [
        ("inside working hours: A2 stands", MON_11_BA, ("integrations_24x7",), "provider", "high"),
        ("not contracted", TUE_22_BA, (), "provider", "high"),
        ("self-service integration", TUE_22_BA, ("integrations_24x7",), "self_service", "high"),
        ("medium is not covered", TUE_22_BA, ("integrations_24x7",), "provider", "medium"),
        # Friday 18:00 sharp is closing time: outside working hours.
        (
            "friday 17:59 is inside",
            datetime(2026, 3, 13, 17, 59, tzinfo=BA),
            ("integrations_24x7",),
            "provider",
            "high",
        ),
    ],
)
def test_a3_24x7_integrations_support_applies_only_when_every_condition_holds(
    policies: dict[str, Policy],
    why: str,
    at: datetime,
    options: tuple[str, ...],
    built_by: str,
    priority: str,
) -> None:
    plan = _plan(
        policies["aivo"],
        "incident",
        priority,
        terms=_a3_terms(options),
        at=at,
        integration={"built_by": built_by, "name": "CRM"},
    )
    assert _targets(plan)["resolution"][0] == "business", why


def test_a3_weekend_counts_as_outside_working_hours_and_blocker_stays_6h(
    policies: dict[str, Policy],
) -> None:
    saturday = datetime(2026, 3, 14, 11, 0, tzinfo=BA)
    high = _plan(
        policies["aivo"],
        "incident",
        "high",
        terms=_a3_terms(),
        at=saturday,
        integration=PROVIDER_INTEGRATION,
    )
    assert _targets(high)["resolution"] == ("24x7", 16 * HOUR)
    blocker = _plan(
        policies["aivo"],
        "incident",
        "blocker",
        terms=_a3_terms(),
        at=saturday,
        integration=PROVIDER_INTEGRATION,
    )
    assert _targets(blocker)["resolution"] == ("24x7", 6 * HOUR)


def test_a3_integration_built_by_must_be_known(policies: dict[str, Policy]) -> None:
    fields = _intake_error(
        lambda: _plan(policies["aivo"], "incident", "high", integration={"built_by": "them"})
    )
    assert set(fields) == {"integration.built_by"}


def test_a5_aivo_first_response_is_met_by_assignment_only(policies: dict[str, Policy]) -> None:
    assert _plan(policies["aivo"], "incident", "high").first_response_met_by == "assignment"
    # E5 default elsewhere: assignment or a public agent reply.
    keybe = _plan(policies["keybe"], "query", terms=TenantTerms(tier="premium"))
    assert keybe.first_response_met_by == "assignment_or_public_reply"


def test_a7_feature_request_has_no_targets(policies: dict[str, Policy]) -> None:
    plan = _plan(policies["aivo"], "feature_request")
    assert plan.targets == ()
    assert plan.priority == "low"


# ------------------------------------------------------------------ Keybe


@pytest.mark.parametrize(
    ("plan_name", "tier"),
    [
        ("50,000 daily chats", "premium"),
        ("30000", "premium"),
        ("15,000", "premium"),
        ("Legacy Premium", "premium"),
        ("Pro +100", "standard"),
        ("2,000 daily chats", "standard"),
        ("5000", "standard"),
        ("10,000", "standard"),
        ("Pro 1,000", "preferred"),
        ("essential", "on_demand"),
        ("something else", None),
    ],
)
def test_k1_tier_is_derived_from_the_contract_plan(
    policies: dict[str, Policy], plan_name: str, tier: str | None
) -> None:
    assert tier_for(policies["keybe"], TenantTerms(plan=plan_name)) == tier


def test_k1_tenant_tier_wins_over_the_plan_and_prime_is_never_derived(
    policies: dict[str, Policy],
) -> None:
    keybe = policies["keybe"]
    assert tier_for(keybe, TenantTerms(tier="standard", plan="50000")) == "standard"
    assert "prime" not in keybe.plan_tiers.values()


@pytest.mark.parametrize(
    ("tier", "hours"),
    [("premium", 2), ("standard", 4), ("preferred", 24), ("on_demand", 48)],
)
def test_k1_resolution_by_tier_on_a_24x7_clock(
    policies: dict[str, Policy], tier: str, hours: int
) -> None:
    plan = _plan(policies["keybe"], "query", terms=TenantTerms(tier=tier))
    assert plan.priority == "normal"
    assert plan.tier == tier
    assert _targets(plan) == {"resolution": ("24x7", hours * HOUR)}
    assert plan.alerts == ()


def test_k1_plan_derived_tier_and_ticket_tier_override(policies: dict[str, Policy]) -> None:
    from_plan = _plan(policies["keybe"], "query", terms=TenantTerms(plan="Pro 1,000"))
    assert from_plan.tier == "preferred"
    assert _targets(from_plan) == {"resolution": ("24x7", 24 * HOUR)}
    overridden = _plan(
        policies["keybe"], "query", terms=TenantTerms(plan="Pro 1,000"), tier="premium"
    )
    assert _targets(overridden) == {"resolution": ("24x7", 2 * HOUR)}


def test_k2_prime_ticket_is_an_emergency_and_raises_prime_opened(
    policies: dict[str, Policy],
) -> None:
    plan = _plan(policies["keybe"], "query", "normal", terms=TenantTerms(tier="prime"))
    assert plan.priority == "emergency"
    assert plan.alerts == ("ticket.prime_opened",)
    assert _targets(plan) == {"resolution": ("24x7", 1 * HOUR)}


K3_LADDER = (
    Threshold(75, "sla.warning", 1),
    Threshold(100, "sla.breached", 1),
    Threshold(300, "sla.escalated", 2),
)


@pytest.mark.parametrize("tier", ["on_demand", "premium", None])
def test_k3_emergency_resolution_is_1h_with_a_ladder_to_300_pct(
    policies: dict[str, Policy], tier: str | None
) -> None:
    plan = _plan(policies["keybe"], "emergency", terms=TenantTerms(tier=tier))
    assert plan.priority == "emergency"
    (target,) = plan.targets
    assert (target.metric, target.clock, target.seconds) == ("resolution", "24x7", HOUR)
    assert target.ladder == K3_LADDER


def test_k3_emergency_kind_forces_emergency_priority(policies: dict[str, Policy]) -> None:
    fields = _intake_error(lambda: _plan(policies["keybe"], "emergency", "normal"))
    assert set(fields) == {"priority"}  # "normal" is not a priority of kind emergency


GOOD_FAILURE: dict[str, Any] = {
    "affected_users": ["ana@brand.example"],
    "module": "chats",
    "device": "pc",
    "occurred_at": "2026-03-09T10:15:00-05:00",
    "verifications": [],
    "evidence": ["https://files.example/capture.png"],
}


def test_k4_a_complete_failure_report_is_accepted(policies: dict[str, Policy]) -> None:
    plan = _plan(
        policies["keybe"], "failure", fields=GOOD_FAILURE, terms=TenantTerms(tier="standard")
    )
    assert _targets(plan) == {"resolution": ("24x7", 4 * HOUR)}
    # "or another named module"
    other = {**GOOD_FAILURE, "module": "reports"}
    assert _plan(policies["keybe"], "failure", fields=other).kind == "failure"


def test_k4_every_bad_failure_field_is_named_at_once(policies: dict[str, Policy]) -> None:
    bad = {
        "affected_users": [],
        "module": "",
        "device": "tablet",
        "occurred_at": "yesterday at noon",
        "evidence": ["not a url"],
    }
    fields = _intake_error(lambda: _plan(policies["keybe"], "failure", fields=bad))
    assert set(fields) == {
        "fields.affected_users",
        "fields.module",
        "fields.device",
        "fields.occurred_at",
        "fields.verifications",
        "fields.evidence",
    }
    assert fields["fields.verifications"] == "required"


def test_k4_occurred_at_needs_an_offset(policies: dict[str, Policy]) -> None:
    naive = {**GOOD_FAILURE, "occurred_at": "2026-03-09T10:15:00"}
    fields = _intake_error(lambda: _plan(policies["keybe"], "failure", fields=naive))
    assert set(fields) == {"fields.occurred_at"}


def test_k5_requirement_gets_a_48h_study_and_no_resolution(policies: dict[str, Policy]) -> None:
    plan = _plan(
        policies["keybe"],
        "requirement",
        terms=TenantTerms(tier="premium"),
        description="Export chats to CSV",
        fields={"example": "a CSV with one row per chat"},
    )
    assert _targets(plan) == {"study": ("24x7", 48 * HOUR)}


def test_k5_custom_bot_needs_its_flow_and_description_and_example_are_required(
    policies: dict[str, Policy],
) -> None:
    fields = _intake_error(
        lambda: _plan(
            policies["keybe"], "requirement", description=" ", fields={"custom_bot": True}
        )
    )
    assert set(fields) == {"description", "fields.example", "fields.flow_url"}
    ok = _plan(
        policies["keybe"],
        "requirement",
        description="A bot for refunds",
        fields={"example": "...", "custom_bot": True, "flow_url": "https://x.example/flow.xlsx"},
    )
    assert ok.kind == "requirement"


# ------------------------------------------------------------------ Clever Ideas


def test_c2_service_request_names_a_product_and_an_action_of_its_row(
    policies: dict[str, Policy],
) -> None:
    clever = policies["clever_ideas"]
    plan = _plan(
        clever,
        "service_request",
        fields={"product": "ucontact", "action": "creating_voice_campaigns"},
    )
    assert plan.targets == ()  # the seed commits no response times
    fields = _intake_error(
        lambda: _plan(clever, "service_request", fields={"product": "pbx", "action": "x"})
    )
    assert set(fields) == {"fields.product", "fields.action"}
    # An action of another product's row is unknown for this product.
    fields = _intake_error(
        lambda: _plan(
            clever,
            "service_request",
            fields={"product": "bot", "action": "uploading_audio_to_the_system"},
        )
    )
    assert set(fields) == {"fields.action"}
    fields = _intake_error(lambda: _plan(clever, "service_request", fields={}))
    assert set(fields) == {"fields.product", "fields.action"}


def test_c2_matrix_sides_and_both_sides_count_as_provider(policies: dict[str, Policy]) -> None:
    matrix = policies["clever_ideas"].responsibility
    assert set(matrix) == {"ucontact", "line_pbx", "bot"}
    assert matrix["ucontact"]["creating_voice_campaigns"] == "customer"
    assert matrix["ucontact"]["user_creation"] == "customer"
    assert matrix["line_pbx"]["uploading_audio_to_the_system"] == "provider"
    assert matrix["bot"]["change_in_decision_tree_options"] == "provider"
    # Listed on both sides: the provider's.
    assert matrix["ucontact"]["forms"] == "provider"
    assert matrix["ucontact"]["creation_of_security_groups"] == "provider"


def test_c2_incidents_are_free_and_have_no_targets(policies: dict[str, Policy]) -> None:
    clever = policies["clever_ideas"]
    assert _plan(clever, "incident").targets == ()
    assert clever.billing is not None
    assert clever.billing.free_kinds == ["incident"]


def test_c3_nesting_period_is_30_days_never_covering_retraining(
    policies: dict[str, Policy],
) -> None:
    clever = policies["clever_ideas"]
    assert clever.billing is not None
    assert clever.billing.nesting_period_days == 30
    assert clever.billing.nesting_excluded_actions == ["retraining"]
    cal = calendar_for(clever, TenantTerms())
    assert cal.timezone == "America/Mexico_City"
    assert set(cal.hours) == {"mon", "tue", "wed", "thu", "fri"}
    for product in ("ucontact", "line_pbx", "bot"):
        for action in ("training", "retraining"):
            fields = {"product": product, "action": action}
            assert _plan(clever, "service_request", fields=fields).kind == "service_request"
    terms = TenantTerms.from_tenant_doc(
        {"id": "t", "name": "T", "policy": "clever_ideas", "operation_started_on": "2026-11-01"}
    )
    assert terms.operation_started_on == date(2026, 11, 1)


# ------------------------------------------------------------------ Digital Express

CONTRACT = TenantTerms(contract_active=True)
NO_CONTRACT = TenantTerms(contract_active=False)


def test_dx1_contract_urgent_1h_24x7_and_normal_3_business_hours(
    policies: dict[str, Policy],
) -> None:
    dx = policies["digital_express"]
    urgent = _plan(dx, "incident", "urgent", terms=CONTRACT, channel="phone")
    assert urgent.status == "new"
    assert _targets(urgent) == {"first_response": ("24x7", HOUR)}
    normal = _plan(dx, "query", terms=CONTRACT, channel="twitter")
    assert normal.priority == "normal"
    assert _targets(normal) == {"first_response": ("business", 3 * HOUR)}
    cal = calendar_for(dx, CONTRACT)
    assert cal.timezone == "America/Argentina/Buenos_Aires"


@pytest.mark.parametrize("channel", ["api", "phone", "chat", "twitter", "webhook"])
def test_dx2_without_contract_only_email_is_served(
    policies: dict[str, Policy], channel: str
) -> None:
    with pytest.raises(ChannelRefused) as caught:
        _plan(policies["digital_express"], "incident", terms=NO_CONTRACT, channel=channel)
    assert caught.value.code == "channel_not_in_contract"
    assert caught.value.status == 403
    # An absent contract is no contract.
    with pytest.raises(ChannelRefused):
        _plan(policies["digital_express"], "incident", terms=TenantTerms(), channel=channel)


def test_dx2_without_contract_awaits_approval_and_first_response_starts_on_payment(
    policies: dict[str, Policy],
) -> None:
    plan = _plan(policies["digital_express"], "incident", terms=NO_CONTRACT, channel="email")
    assert plan.status == "awaiting_approval"
    (target,) = plan.targets
    assert (target.metric, target.clock, target.seconds) == ("first_response", "24x7", 3 * HOUR)
    assert target.starts_on == "payment"


def test_dx6_without_contract_there_are_no_urgencies(policies: dict[str, Policy]) -> None:
    plan = _plan(
        policies["digital_express"], "incident", "urgent", terms=NO_CONTRACT, channel="email"
    )
    assert plan.priority == "normal"
    assert _targets(plan) == {"first_response": ("24x7", 3 * HOUR)}


# ------------------------------------------------------------------ tenant terms, clocks


def test_tenant_terms_read_the_api_tenant_document() -> None:
    doc = {
        "id": "acme",
        "name": "Acme SA",
        "policy": "aivo",
        "tier": None,
        "contract": {"active": True, "plan": "Pro 1,000", "options": ["integrations_24x7"]},
        "calendar": {
            "timezone": "America/Argentina/Buenos_Aires",
            "country": "AR",
            "hours": {"mon": [["09:00", "18:00"]]},
            "holidays": ["2026-12-24"],
        },
        "billing": {"currency": "USD", "ticket_fee": "45.00", "hourly_rate": "60.00"},
        "operation_started_on": "2026-11-01",
        "flags": [],
        "authorized_contacts": ["ana@acme.example"],
    }
    terms = TenantTerms.from_tenant_doc(doc)
    assert terms == TenantTerms(
        tier=None,
        contract_active=True,
        plan="Pro 1,000",
        options=("integrations_24x7",),
        calendar=terms.calendar,
        operation_started_on=date(2026, 11, 1),
    )
    assert terms.calendar is not None
    assert terms.calendar.hours == {"mon": [("09:00", "18:00")]}
    assert TenantTerms.from_tenant_doc({"id": "x", "name": "x", "policy": "aivo"}) == TenantTerms()


def test_tenant_terms_name_a_bad_calendar_field() -> None:
    fields = _intake_error(
        lambda: TenantTerms.from_tenant_doc(
            {"calendar": {"holidays": ["someday"]}, "operation_started_on": "soon"}
        )
    )
    assert set(fields) == {"calendar.holidays.0", "operation_started_on"}


def test_e2_clock_for_builds_business_calendars_once_per_calendar(
    policies: dict[str, Policy],
) -> None:
    cal = calendar_for(policies["aivo"], TenantTerms())
    business = clock_for("business", cal)
    assert isinstance(business, BusinessCalendar)
    assert business.business_day_seconds == 9 * HOUR
    assert clock_for("business", cal.model_copy()) is business
    assert clock_for("24x7", cal) is CONTINUOUS


# ------------------------------------------------------------------ custom policy documents


def _custom() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(load_shipped()["aivo"].model_dump_json())
    doc["id"] = "acme_custom"
    return doc


def test_validate_policy_document_accepts_a_custom_policy() -> None:
    doc = _custom()
    doc["target_rules"][1]["targets"][0] = {
        "metric": "first_response",
        "clock": "24x7",
        "minutes": 30,
    }
    policy = validate_policy_document(doc)
    plan = plan_ticket(policy, TenantTerms(), Intake("incident", "blocker"), MON_11_BA)
    assert _targets(plan)["first_response"] == ("24x7", 1800)


def test_validate_policy_document_names_every_bad_field() -> None:
    doc = _custom()
    doc["calendar"]["timezone"] = "Mars/Olympus_Mons"
    doc["kinds"]["incident"]["priorities"] = []
    doc["target_rules"][0]["targets"][0]["clock"] = "lunar"
    doc["surprise"] = True
    fields = _intake_error(lambda: validate_policy_document(doc))
    assert {
        "calendar.timezone",
        "kinds.incident.priorities",
        "target_rules.0.targets.0.clock",
        "surprise",
    } <= set(fields)


def test_validate_policy_document_checks_references_and_ladders() -> None:
    doc = _custom()
    doc["kinds"]["query"]["default_priority"] = "urgent"
    doc["target_rules"][2]["when"]["priorities"] = ["critical"]
    doc["target_rules"][3]["targets"][0] = {
        "metric": "first_response",
        "clock": "business",
        "hours": 4,
        "business_days": 1,
    }
    doc["ladder"] = [{"pct": 120, "type": "sla.warning", "level": 1}]
    with pytest.raises(IntakeError) as caught:
        validate_policy_document(doc)
    assert caught.value.code == "invalid_policy"
    assert set(caught.value.fields) == {
        "kinds.query.default_priority",
        "target_rules.2.when.priorities",
        "target_rules.3.targets.0",
        "ladder.0",
    }


def test_e9_a_changed_policy_is_a_new_version_with_new_targets() -> None:
    doc = copy.deepcopy(_custom())
    doc["version"] = 2
    doc["calendar"]["hours"]["sat"] = [["09:00", "13:00"]]
    policy = validate_policy_document(doc)
    assert policy.version == 2
    saturday_8 = datetime(2026, 3, 14, 8, 0, tzinfo=BA)
    saturday_12 = datetime(2026, 3, 14, 12, 0, tzinfo=BA)
    cal = calendar_for(policy, TenantTerms())
    assert clock_for("business", cal).elapsed(saturday_8, saturday_12) == 3 * HOUR
