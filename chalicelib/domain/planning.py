"""Planning (E1, E3, A3, K1-K3, DX2, DX6): a policy, a tenant's terms and a
ticket's intake give the ticket's plan (priority, initial status, targets, alerts
to raise). The same plan is worked out again on a priority, kind or tier change
(E7) and on a policy or calendar change (E9). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.calendar import CalendarSpec, business_days, clock_for
from chalicelib.domain.errors import ChannelRefused
from chalicelib.domain.intake import Intake, check_intake
from chalicelib.domain.policy import BUILT_BY, LadderStep, Match, Policy, TargetDef
from chalicelib.domain.sla import TargetSpec, Threshold
from chalicelib.domain.terms import TenantTerms, calendar_for, tier_for


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
    # Which rule of the policy document set what (explain): per metric, the id of
    # the target rule that defined it (its index when it has no id), and the id of
    # the priority rule that forced the priority, if one did.
    rules: tuple[tuple[str, str], ...] = ()
    priority_rule: str | None = None


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


def _targets_for(
    policy: Policy, facts: _Facts, calendar: CalendarSpec, rules: dict[str, str]
) -> tuple[TargetSpec, ...]:
    """E1: per metric, the first matching rule that defines it (its id into `rules`)."""
    chosen: dict[str, TargetSpec] = {}
    for index, rule in enumerate(policy.target_rules):
        if not _matches(rule.when, facts):
            continue
        for target in rule.targets:
            if target.metric in chosen:
                continue
            rules[target.metric] = rule.id or f"target_rules.{index}"
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

    Raises IntakeError naming every bad field at once (`check_intake`), then
    ChannelRefused when the tenant's terms exclude the channel (DX2). Also used to
    re-plan on a priority, kind or tier change (E7) and on a policy change (E9).
    """
    checked = check_intake(policy, intake)
    priority, built_by = checked.priority, checked.built_by
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
    priority_rule: str | None = None
    for index, p_rule in enumerate(policy.priority_rules):
        if _matches(p_rule.when, facts):
            facts = _replace_priority(facts, p_rule.priority)
            priority_rule = p_rule.id or f"priority_rules.{index}"
            break
    for c_rule in policy.channel_rules:
        if _matches(c_rule.when, facts):
            if intake.channel not in c_rule.channels:
                raise ChannelRefused(intake.channel, tuple(c_rule.channels))
            break
    status = next((s.status for s in policy.status_rules if _matches(s.when, facts)), "new")
    alerts = tuple(dict.fromkeys(a.alert for a in policy.alert_rules if _matches(a.when, facts)))
    rules: dict[str, str] = {}
    return Plan(
        kind=facts.kind,
        priority=facts.priority,
        tier=facts.tier,
        status=status,
        targets=_targets_for(policy, facts, calendar, rules),
        alerts=alerts,
        first_response_met_by=policy.first_response_met_by,
        rules=tuple(rules.items()),
        priority_rule=priority_rule,
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
