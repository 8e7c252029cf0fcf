"""The Ticket aggregate: a ticket, its SLA targets and the calendar they run on,
and every operation that changes them. Pure: no I/O, `now` is always passed in.

Where a ticket's SLA state changes, it changes here:

* `Ticket.open`: the plan and the charge at opening (E1, E3, K2, DX2-DX5, C1-C4);
* `act` / `comment`: the lifecycle's effects on the targets and the charge (E5,
  E6, A4, A5, DX2, C4), decided by the tables of `chalicelib.domain.lifecycle`;
  `act("set_priority", ..., basis=...)` re-targets on the new priority (E7);
* `refresh`: re-targeting on a new policy, calendar or tenant terms (E9) when the
  ticket's versions are stale (`is_stale`), keeping its targets when it no longer
  fits its policy;
* `cross_thresholds`: the alert thresholds an instant has crossed (E8);
* `note_partner_event`: a partner event the ticket did not take;
* DX4 (the fee waived when first response was breached) inside every operation
  that can trigger it (`act`, `comment`, `cross_thresholds`): no caller can forget it;
* `next_due`: the instant of its next threshold (the due index's sort key);
* `view`: the contract's Ticket JSON as of an instant.

Each operation records what it decided as typed events (`chalicelib.domain.events`)
in `events`; services read a ticket, call one operation, and commit it through the
unit of work, which turns the events into history entries and alerts. The store
derives the index attributes (due index, breached marker) from the ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import charges, lifecycle, sla
from chalicelib.domain import events as ev
from chalicelib.domain.calendar import CalendarSpec, Clock, clock_for
from chalicelib.domain.errors import DomainError
from chalicelib.domain.instants import format_instant
from chalicelib.domain.intake import Intake
from chalicelib.domain.planning import Plan, plan_ticket
from chalicelib.domain.sla import Target, Threshold
from chalicelib.domain.terms import SlaBasis


@dataclass
class SlaState:
    """The targets of a ticket and what they were computed from (E9: versions)."""

    policy: str
    policy_version: int
    calendar: CalendarSpec
    calendar_version: str
    first_response_met_by: str
    targets: list[Target] = field(default_factory=list)
    # The tenant terms (tier, contract) the targets were planned with (E7/E9).
    terms_version: str = ""

    @classmethod
    def computed(
        cls,
        basis: SlaBasis,
        first_response_met_by: str,
        targets: list[Target],
        *,
        kept: SlaState | None = None,
    ) -> SlaState:
        """The state of targets computed under `basis`: the one place a ticket's
        versions are stamped (E9). Without a valid calendar in force, the one of
        `kept` (the state it had) stays, with its version."""
        calendar, version = basis.calendar, basis.calendar_version
        if calendar is None or version is None:
            assert kept is not None, "a new plan needs a valid calendar"
            calendar, version = kept.calendar, kept.calendar_version
        return cls(
            policy=basis.policy.id,
            policy_version=basis.policy.version,
            calendar=calendar,
            calendar_version=version,
            terms_version=basis.terms_version,
            first_response_met_by=first_response_met_by,
            targets=targets,
        )


@dataclass(frozen=True)
class Crossing:
    """A threshold of one target crossed by an instant (E8): what its alert says."""

    metric: str
    threshold: Threshold
    at: datetime  # the instant the target's clock reached the threshold
    due_at: datetime | None  # the target's due instant, as of the crossing check


@dataclass(frozen=True)
class Opened:
    """What opening a ticket says besides the ticket itself: the alerts it raises
    (K2 `ticket.prime_opened`, DX5 `commercial.review_required`), the automatic
    reply to post (DX2, in `locale`), and why it waits for the commercial team (DX5)."""

    alerts: tuple[str, ...] = ()
    reply: str | None = None
    review: tuple[str, ...] = ()
    locale: str = "en"


@dataclass
class Ticket:
    id: str
    tenant_id: str
    title: str
    description: str
    kind: str
    priority: str
    channel: str
    status: str
    reported_at: datetime
    created_at: datetime
    updated_at: datetime
    sla: SlaState
    assignee: str | None = None
    contact: str | None = None
    tier: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    integration: dict[str, Any] | None = None
    resolution_cause: str | None = None
    charge: charges.Charge | None = None  # C1-C4, DX1-DX5; None: the policy does not bill
    version: int | None = None  # the store's optimistic lock
    # The id of its newest history event, as read (the store orders new ones after it).
    last_event: str | None = None
    # Whether the store's report counters hold it as read (every commit since the
    # counters exist; older tickets until `cli backfill-report-counts` commits them).
    counted: bool = False
    # What happened since it was read (or opened), in order: the unit of work commits
    # these as history entries and alerts, then clears them.
    events: list[ev.Event] = field(default_factory=list, compare=False, repr=False)

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        *,
        ticket_id: str,
        tenant_id: str,
        title: str,
        intake: Intake,
        basis: SlaBasis,
        reported_at: datetime,
        now: datetime,
        contact: str | None = None,
    ) -> tuple[Ticket, Opened]:
        """A new ticket planned under `basis` (E1), its targets started at
        `reported_at` (E3; DX2 ones pending until payment), its charge (C1-C4,
        DX1-DX5: a DX5 block holds it in `commercial_review`), and what its opening
        raises and says (`Opened`). Raises IntakeError (400) for an intake the
        policy refuses or a calendar that is not valid, ChannelRefused (403, DX2)."""
        basis.require_terms()
        plan = plan_ticket(basis.policy, basis.terms, intake, reported_at)
        basis.require_calendar()
        opening = charges.open_charge(
            basis, intake, plan, reported_at, contact=contact, ticket_id=ticket_id
        )
        ticket = cls(
            id=ticket_id,
            tenant_id=tenant_id,
            title=title,
            description=intake.description or "",
            kind=plan.kind,
            priority=plan.priority,
            channel=intake.channel,
            status=opening.status or plan.status,
            reported_at=reported_at,
            created_at=now,
            updated_at=now,
            contact=contact,
            tier=plan.tier,
            fields=dict(intake.fields),
            integration=dict(intake.integration) if intake.integration else None,
            sla=SlaState.computed(
                basis,
                plan.first_response_met_by,
                sla.start_targets(plan.targets, reported_at),
            ),
            charge=opening.charge,
        )
        opened = Opened(
            alerts=tuple(dict.fromkeys(plan.alerts + opening.alerts)),
            reply=opening.reply,
            review=opening.review,
            locale=opening.locale,
        )
        ticket.events.append(ev.Opened(ticket.status, opened.review))
        ticket._record_charge(None)
        if opened.reply is not None:  # DX2: the automatic reply, a public system comment
            ticket.events.append(ev.AutoReplied(opened.reply, opened.locale))
        for alert in opened.alerts:  # K2, DX5: once per ticket
            ticket.events.append(ev.AlertRaised(alert, now, key=alert))
        return ticket, opened

    # ------------------------------------------------------------------ clocks

    def clock(self, kind: str) -> Clock:
        """The clock of a target: `24x7`, or `business` on the ticket's calendar."""
        return clock_for(kind, self.sla.calendar)

    def target(self, metric: str) -> Target | None:
        return next((t for t in self.sla.targets if t.metric == metric), None)

    # ------------------------------------------------------------------ the lifecycle

    def act(
        self,
        action: str,
        params: Mapping[str, Any],
        role: str,
        now: datetime,
        *,
        basis: SlaBasis | None = None,
    ) -> lifecycle.Outcome:
        """Take one action (`chalicelib.domain.lifecycle`: role, parameters, status,
        then its SLA effect) and apply what it changes. `set_priority` re-targets
        on the new priority (E7) under `basis`, the policy and terms in force, which
        it needs. Then DX4: an assignment or a reply after the due instant waives
        the fee too. Raises DomainError, leaving nothing recorded, when refused."""
        before_status, before_priority, before_charge = self.status, self.priority, self.charge
        outcome = lifecycle.decide(
            action,
            params,
            role,
            self.status,
            self.sla.targets,
            self.clock,
            now,
            fields=self.fields,
            charge=self.charge,
        )
        if action == "set_priority":  # E7: checked before anything changes
            if basis is None:
                raise ValueError("set_priority re-targets: it needs the basis in force")
            self._change_priority(params["priority"], basis, now)
        self.status = outcome.status
        for name, value in outcome.changes.items():
            setattr(self, name, value)
        if action != "set_priority":
            self.sla.targets = outcome.targets
        self.updated_at = now
        details: dict[str, Any] = {}
        if action == "set_priority":  # the policy may force another one (K2, DX6)
            details = {"priority": self.priority, "previous_priority": before_priority}
        elif action == "resolve":  # A4
            details = {"resolution_cause": self.resolution_cause}
        elif action == "log_time":  # C4
            details = {"total_minutes": self.fields[lifecycle.LOGGED_MINUTES]}
        self.events.append(
            ev.Acted(action, dict(params), self.status, before_status, outcome.met, details)
        )
        self._record_charge(before_charge)  # DX2 approve/pay, C4 time, E7 re-plan
        if outcome.alert is not None:
            once = outcome.alert in lifecycle.ONCE_PER_TICKET
            self.events.append(ev.AlertRaised(outcome.alert, now, outcome.alert if once else None))
        self._waive_if_breached(now)
        return outcome

    def _record_charge(self, before: charges.Charge | None) -> None:
        """Every charge change is an event (`charge.<status>` in history)."""
        if self.charge is not None and charges.event_type(before, self.charge) is not None:
            self.events.append(ev.ChargeChanged(before, self.charge))

    def _waive_if_breached(self, now: datetime) -> None:
        """DX4: waive the fee when the target whose breach waives it reads breached
        at `now` (nobody took the ticket in time, or took it late); a paid fee is
        credited. Recorded once: a waived fee stays waived."""
        if self.charge is None or self.charge.waive_on is None:
            return
        states = {v["metric"]: v["state"] for v in self.target_views(now)}
        waived = charges.waive(self.charge, states)
        if waived is None:
            return
        before, self.charge = self.charge, waived
        self.events.append(ev.ChargeWaived(before, waived, before.waive_on, now))

    def comment(self, role: str, public: bool, now: datetime, body: str = "") -> list[str]:
        """A comment's SLA effect (E5, A5), then DX4 (a late first reply waives the
        fee); the metrics it met."""
        targets, met = lifecycle.comment(
            role,
            public,
            self.status,
            self.sla.targets,
            self.sla.first_response_met_by,
            self.clock,
            now,
        )
        self.sla.targets = targets
        self.updated_at = now
        self.events.append(ev.Commented(body, public, role, met))
        self._waive_if_breached(now)
        return met

    def note_partner_event(self, name: str, reasons: list[str]) -> None:
        """A partner event this ticket did not take (one we do not use, or one its
        status refused): kept in its history, nothing else changes."""
        self.events.append(ev.PartnerEventNotApplied(name, list(reasons)))

    # ------------------------------------------------------------------ re-targeting

    def _change_priority(self, priority: str, basis: SlaBasis, now: datetime) -> None:
        """E7: the new priority's targets against the time already elapsed. A
        ticket-level tier is kept (K1); one the policy does not know is the
        tenant's own. The policy may force another priority (K2, DX6)."""
        tier = self.tier if self.tier in basis.policy.tiers else None
        self.replan(basis, now, priority=priority, tier=tier)

    def replan(
        self,
        basis: SlaBasis,
        now: datetime,
        *,
        priority: str | None = None,
        kind: str | None = None,
        tier: str | None = None,
    ) -> None:
        """Re-plan under `basis`: a new priority, kind or tier (E7) and/or the
        current policy, calendar and terms (E9), against the time already elapsed
        (`sla.reconcile`). Raises IntakeError when the new values are not the
        policy's or the calendar is not valid, ChannelRefused when the terms no
        longer cover the ticket's channel; the ticket is left unchanged then."""
        basis.require_terms()
        intake = Intake(
            kind=kind or self.kind,
            priority=priority or self.priority,
            channel=self.channel,
            fields=self.fields,
            integration=self.integration,
            tier=tier,
            description=self.description,
        )
        plan: Plan = plan_ticket(basis.policy, basis.terms, intake, self.reported_at)
        basis.require_calendar()
        # E9 for charges: a quoted or free charge takes the rules in force (a new fee,
        # free actions, nesting period); one approved, paid or waived stays.
        fresh = charges.open_charge(
            basis, intake, plan, self.reported_at, contact=self.contact, ticket_id=self.id
        )
        self.charge = charges.replanned(self.charge, fresh.charge, self.logged_minutes())
        self.kind, self.priority, self.tier = plan.kind, plan.priority, plan.tier
        before = self.sla.targets
        self.sla = SlaState.computed(basis, plan.first_response_met_by, before)
        self.sla.targets = sla.reconcile(before, plan.targets, self.clock, self.reported_at, now)

    def _keep_targets(self, basis: SlaBasis, now: datetime) -> None:
        """The targets stay (metric, clock, duration, ladder), re-measured on the
        calendar now in force (the one it has when there is no valid one); the
        versions become the current ones, so the ticket is not stale any more."""
        before = self.sla
        self.sla = SlaState.computed(
            basis, before.first_response_met_by, before.targets, kept=before
        )
        if basis.calendar is None:  # no valid calendar now: the one it had stays
            return
        self.sla.targets = [
            sla.retarget(
                target,
                sla.TargetSpec(target.metric, target.clock, target.target_seconds, target.ladder),
                self.clock(target.clock),
                now,
            )
            for target in before.targets
        ]

    def is_stale(self, basis: SlaBasis) -> bool:
        """E9: were the targets computed with another policy, an older version of
        it, another calendar (when a valid one is in force), or other tenant terms?"""
        return (
            self.sla.policy != basis.policy.id
            or self.sla.policy_version != basis.policy.version
            or (
                basis.calendar_version is not None
                and self.sla.calendar_version != basis.calendar_version
            )
            or self.sla.terms_version != basis.terms_version
        )

    def refresh(
        self, basis: SlaBasis, now: datetime, cause: str, *, force: bool = False
    ) -> dict[str, Any] | None:
        """E9: re-target an open ticket whose versions are stale (or any open one
        when `force`, after a tenant change). Returns the data of its
        `policy.retargeted` history entry, or None when nothing was to do (closed
        tickets are never re-targeted). A ticket that no longer fits the policy
        (its kind or priority left it, its channel left the contract) keeps its
        targets, and the entry says why: never an error."""
        if self.status == "closed" or not (force or self.is_stale(basis)):
            return None
        before_charge = self.charge
        data: dict[str, Any] = {
            "cause": cause,
            "old_policy": self.sla.policy,
            "old_policy_version": self.sla.policy_version,
            "old_calendar_version": self.sla.calendar_version,
        }
        try:
            self.replan(basis, now)
        except DomainError as e:
            self._keep_targets(basis, now)
            data.update(kept_targets=True, reason=str(e), fields=e.fields)
        self.updated_at = now
        data.update(
            policy=self.sla.policy,
            new_policy_version=self.sla.policy_version,
            new_calendar_version=self.sla.calendar_version,
        )
        self.events.append(ev.Retargeted(dict(data)))
        self._record_charge(before_charge)  # E9 for charges
        return data

    # ------------------------------------------------------------------ alerts (E8)

    def cross_thresholds(self, at: datetime) -> list[Crossing]:
        """Every threshold crossed by `at` and not alerted yet, lowest first per
        target, each marked alerted now (each is alerted once per ticket); then
        DX4 (nobody took it in time waives the fee)."""
        crossings: list[Crossing] = []
        targets: list[Target] = []
        for target in self.sla.targets:
            clock = self.clock(target.clock)
            while (step := sla.next_threshold(target, clock)) is not None and step[0] <= at:
                instant, threshold = step
                due_at = sla.due_instant(target, clock)
                crossings.append(Crossing(target.metric, threshold, instant, due_at))
                target = sla.mark_alerted(target, threshold.pct)
            targets.append(target)
        self.sla.targets = targets
        for c in crossings:
            self.events.append(
                ev.AlertRaised(
                    c.threshold.type,
                    c.at,
                    key=f"{c.metric}#{c.threshold.pct}",
                    metric=c.metric,
                    level=c.threshold.level,
                    threshold_pct=c.threshold.pct,
                    due_at=c.due_at,
                )
            )
        self._waive_if_breached(at)
        return crossings

    def next_due(self) -> datetime | None:
        """The instant of the soonest threshold not alerted yet, or None."""
        return sla.earliest_threshold(self.sla.targets, self.clock)

    def next_deadline(self) -> tuple[datetime, str] | None:
        """The agents' queue key: the earliest due instant among running targets
        (past when breached) and its metric, the first such target on a tie; None
        while no target runs, and always once resolved or closed."""
        if self.status in ("resolved", "closed"):
            return None
        running = [
            (due, t.metric)
            for t in self.sla.targets
            if t.state == "running" and (due := sla.due_instant(t, self.clock(t.clock)))
        ]
        return min(running, key=lambda step: step[0], default=None)

    def logged_minutes(self) -> int:
        """The time agents logged (`fields.logged_minutes`, C4); anything else there
        (a client may open a ticket with any fields) counts as none."""
        value = self.fields.get(lifecycle.LOGGED_MINUTES)
        return max(value, 0) if isinstance(value, int) and not isinstance(value, bool) else 0

    def breach_recorded(self) -> bool:
        """The breach marker the list filter reads (`lifecycle.breach_recorded`)."""
        return lifecycle.breach_recorded(self.sla.targets)

    # ------------------------------------------------------------------ reading

    def target_views(self, now: datetime) -> list[dict[str, Any]]:
        """The contract's `sla.targets` as of `now`."""
        return [sla.view(t, self.clock(t.clock), now) for t in self.sla.targets]

    def view(self, now: datetime) -> dict[str, Any]:
        """The contract's Ticket JSON as of `now`."""
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "title": self.title,
            "description": self.description,
            "kind": self.kind,
            "priority": self.priority,
            "channel": self.channel,
            "status": self.status,
            "assignee": self.assignee,
            "contact": self.contact,
            "tier": self.tier,
            "reported_at": format_instant(self.reported_at),
            "created_at": format_instant(self.created_at),
            "updated_at": format_instant(self.updated_at),
            "fields": self.fields,
            "integration": self.integration,
            "resolution_cause": self.resolution_cause,
            "sla": {
                "policy": self.sla.policy,
                "policy_version": self.sla.policy_version,
                "targets": self.target_views(now),
            },
            "charge": self.charge.to_dict() if self.charge is not None else None,
        }
