"""The ticket lifecycle as data: which role may take which action, from which
status to which status, with which parameters, and what each action does to the
SLA targets (E5, E6, A4, A5, A6, K5, DX2). Pure: no I/O, `now` passed in.

The tables are the whole state machine; `decide` reads them and returns what an
action changes, and the Ticket aggregate applies it (`Ticket.act`). Re-targeting
on `set_priority` (E7) needs the policy and the tenant's terms in force: `Ticket.act`
is handed them and re-targets itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from chalicelib.domain import charges, sla
from chalicelib.domain.calendar import Clock
from chalicelib.domain.errors import DomainError

Status = Literal[
    "new",
    "awaiting_approval",
    "awaiting_payment",
    "commercial_review",
    "commercial_quote",
    "queued",
    "open",
    "pending_customer",
    "assessed",
    "resolved",
    "closed",
]
STATUSES: tuple[str, ...] = get_args(Status)
NOT_CLOSED: tuple[str, ...] = tuple(s for s in STATUSES if s != "closed")

CUSTOMER, AGENT, ADMIN = "customer", "agent", "admin"
EVERYONE = frozenset({CUSTOMER, AGENT, ADMIN})
PROVIDER = frozenset({AGENT, ADMIN})


def _to(target: str, *sources: str) -> dict[str, str]:
    return dict.fromkeys(sources, target)


def _stay(*sources: str) -> dict[str, str]:
    return {s: s for s in sources}


# action -> {status it may be taken from: status it leads to}. A status absent
# from an action's row refuses it (422 naming the statuses that allow it).
TRANSITIONS: dict[str, dict[str, str]] = {
    # A5/E5: taking the ticket opens it; taking it again later only re-assigns.
    "assign": {
        **_to("open", "new", "queued", "commercial_review", "commercial_quote", "open"),
        **_stay("pending_customer", "assessed"),
    },
    "set_priority": _stay(*NOT_CLOSED),  # E7
    # E6/A6: also from new/queued, asking for details before anyone takes it.
    "wait_on_customer": _to("pending_customer", "new", "queued", "open", "assessed"),
    "resume": _to("open", "pending_customer"),
    "assess": _to("assessed", "new", "queued", "open"),  # K5
    "resolve": _to("resolved", "open", "pending_customer", "assessed"),  # E5, A4
    "reopen": _to("open", "resolved"),  # E6
    "close": _to("closed", *NOT_CLOSED),
    "approve_charge": _to("awaiting_payment", "awaiting_approval"),  # DX2
    "mark_paid": _to("queued", "awaiting_payment"),  # DX2
    "log_time": _stay(*NOT_CLOSED),  # C4
    "transfer_commercial": _to(  # DX2: extra services go to the commercial team
        "commercial_quote",
        "new",
        "awaiting_approval",
        "commercial_review",
        "queued",
        "open",
        "assessed",
    ),
}

# action -> roles that may take it (docs/api.md: customers approve, answer, reopen,
# close; agents everything but mark_paid; admins everything).
ROLES: dict[str, frozenset[str]] = {
    "assign": PROVIDER,
    "set_priority": PROVIDER,
    "wait_on_customer": PROVIDER,
    "resume": EVERYONE,
    "assess": PROVIDER,
    "resolve": PROVIDER,
    "reopen": EVERYONE,
    "close": EVERYONE,
    "approve_charge": EVERYONE,
    "mark_paid": frozenset({ADMIN}),
    "log_time": PROVIDER,
    "transfer_commercial": PROVIDER,
}

# action -> (required parameters, optional parameters); any other is a 400.
PARAMETERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    name: (frozenset(), frozenset()) for name in TRANSITIONS
}
PARAMETERS.update(
    assign=(frozenset({"agent"}), frozenset()),
    set_priority=(frozenset({"priority"}), frozenset()),
    assess=(frozenset(), frozenset({"requires_quote"})),
    resolve=(frozenset(), frozenset({"resolution_cause"})),
    log_time=(frozenset({"minutes"}), frozenset()),
)
ALL_PARAMETERS = frozenset(p for req, opt in PARAMETERS.values() for p in req | opt)

# Comments are taken in every status but closed.
COMMENT_STATUSES: tuple[str, ...] = NOT_CLOSED

# The alert an action raises (docs/api.md, Alerts), through the outbox.
ALERTS: dict[str, str] = {
    "approve_charge": "billing.order",  # DX2: a billing order goes to administration
    "transfer_commercial": "commercial.review_required",  # DX2: the commercial team quotes
}

# Alerts raised at most once per ticket (one approval per ticket) are keyed by
# their type; others (a ticket may go back to the commercial team) per action.
ONCE_PER_TICKET = frozenset({"billing.order"})

LOGGED_MINUTES = "logged_minutes"  # fields.logged_minutes: total time logged (C4)


# ---------------------------------------------------------------------- errors


class ActionForbidden(DomainError):
    """This role may not take this action: HTTP 403."""

    status = 403
    code = "action_forbidden"


class ActionInvalid(DomainError):
    """Missing or foreign parameters for the action: HTTP 400 naming each one."""

    status = 400
    code = "invalid_request"


class ActionRefused(DomainError):
    """The ticket's status does not allow the action: HTTP 422 naming the
    statuses that do."""

    status = 422
    code = "action_not_allowed"


def _statuses_text(statuses: Iterable[str]) -> str:
    return ", ".join(s for s in STATUSES if s in set(statuses))


def check_request(action: str, role: str, params: Mapping[str, Any]) -> None:
    """Refuse what is wrong whatever the ticket: the role (403), then the
    parameters (400: each missing one and each the action does not take)."""
    if role not in ROLES[action]:
        allowed = ", ".join(sorted(ROLES[action]))
        raise ActionForbidden(
            f"{action} needs a key of role {allowed}; this one is {role}",
            {"action": f"allowed for {allowed}"},
        )
    required, optional = PARAMETERS[action]
    errors = dict.fromkeys(sorted(required - set(params)), f"required for {action}")
    errors.update(
        dict.fromkeys(sorted(set(params) - required - optional), f"not a parameter of {action}")
    )
    if errors:
        raise ActionInvalid(f"invalid parameters for {action}", errors)


def check_status(action: str, status: str) -> str:
    """The status the action leads to from `status`, or ActionRefused naming the
    statuses that allow it."""
    row = TRANSITIONS[action]
    if status not in row:
        allowed = _statuses_text(row)
        raise ActionRefused(
            f"{action} is not allowed while the ticket is {status}; allowed when {allowed}",
            {"action": f"allowed when status is one of: {allowed}"},
        )
    return row[status]


# ---------------------------------------------------------------------- SLA effects

ClockOf = Callable[[str], Clock]


def _each(
    targets: Sequence[sla.Target],
    metrics: Iterable[str] | None,
    step: Callable[[sla.Target, Clock, datetime], sla.Target],
    clocks: ClockOf,
    now: datetime,
) -> list[sla.Target]:
    wanted = None if metrics is None else frozenset(metrics)
    return [
        step(t, clocks(t.clock), now) if wanted is None or t.metric in wanted else t
        for t in targets
    ]


def _stop(target: sla.Target, clock: Clock, now: datetime) -> sla.Target:
    """A live target of a ticket being closed: cancelled; but a breach stays a
    breach, so a breached one is stopped where it is (paused: it raises nothing
    more and still reads `breached`). Closed tickets are never re-targeted (E9)."""
    if target.state in ("met", "cancelled"):
        return target
    if sla.is_breached(target, clock, now):
        return sla.pause(target, clock, now)
    return sla.cancel(target, clock, now)


def _met(before: Sequence[sla.Target], after: Sequence[sla.Target]) -> list[str]:
    return [b.metric for b, a in zip(before, after, strict=True) if b.state != a.state == "met"]


@dataclass(frozen=True)
class Outcome:
    """What an action changes on a ticket (`Ticket.act` applies it)."""

    status: str
    targets: list[sla.Target]
    changes: dict[str, Any] = field(default_factory=dict)  # ticket attributes to set
    met: list[str] = field(default_factory=list)  # metrics this action met
    alert: str | None = None  # the alert type it raises


def decide(
    action: str,
    params: Mapping[str, Any],
    role: str,
    status: str,
    targets: Sequence[sla.Target],
    clocks: ClockOf,
    now: datetime,
    *,
    fields: Mapping[str, Any],
    charge: charges.Charge | None = None,
) -> Outcome:
    """Apply one action to a ticket's status and targets: role and parameters
    (`check_request`), status (`check_status`), then the action's SLA effect.
    `set_priority` leaves the targets to the re-targeting (E7)."""
    check_request(action, role, params)
    to = check_status(action, status)
    changes: dict[str, Any] = {}
    new = list(targets)
    if action == "assign":  # E5, A5: assignment meets first response
        new = _each(targets, ["first_response"], sla.meet, clocks, now)
        changes["assignee"] = params["agent"]
    elif action == "wait_on_customer":  # E6, A6: first_response and study keep running
        new = _each(targets, sla.PAUSING_METRICS, sla.pause, clocks, now)
    elif action == "resume":
        new = _each(targets, sla.PAUSING_METRICS, sla.resume, clocks, now)
    elif action == "assess":  # E5, K5: the assessment meets study
        new = _each(targets, ["study"], sla.meet, clocks, now)
        if "requires_quote" in params:
            changes["fields"] = {**fields, "requires_quote": bool(params["requires_quote"])}
    elif action == "resolve":  # E5, A4: fixed or external, resolution is met
        # Reading: the resolution answers the customer, so every target still live
        # is met with it (one past due stays breached); none is left running on a
        # resolved ticket, and a policy change (E9) leaves met targets alone.
        new = _each(targets, None, sla.meet, clocks, now)
        changes["resolution_cause"] = params.get("resolution_cause") or "fixed"
    elif action == "reopen":  # E6: back to running from where it stopped
        new = _each(targets, ["resolution"], sla.reopen_resolution, clocks, now)
        changes["resolution_cause"] = None
    elif action == "close":
        new = _each(targets, None, _stop, clocks, now)
    elif action == "mark_paid":  # DX2: the clock starts on payment
        new = _each(targets, None, lambda t, _c, at: sla.start_pending(t, at), clocks, now)
    elif action == "log_time":  # C4: the total stays on the ticket, each entry in history
        logged = fields.get(LOGGED_MINUTES)  # a client may have opened it with anything there
        before = logged if isinstance(logged, int) and not isinstance(logged, bool) else 0
        total = max(before, 0) + int(params["minutes"])
        changes["fields"] = {**fields, LOGGED_MINUTES: total}
        # C4: an hours charge counts the minutes agents log on it (its own count: a
        # client may have put anything in fields.logged_minutes when opening).
        logged = charges.add_minutes(charge, int(params["minutes"]))
        if logged != charge:
            changes["charge"] = logged
    if action in charges.ACTIONS and charge is not None:  # DX2: approved, then paid
        settled = charges.ACTIONS[action](charge)
        if settled != charge:
            changes["charge"] = settled
    return Outcome(
        status=to, targets=new, changes=changes, met=_met(targets, new), alert=ALERTS.get(action)
    )


def comment(
    role: str,
    public: bool,
    status: str,
    targets: Sequence[sla.Target],
    first_response_met_by: str,
    clocks: ClockOf,
    now: datetime,
) -> tuple[list[sla.Target], list[str]]:
    """A comment's SLA effect: an agent's public reply meets first response (E5,
    unless the policy counts only assignment, A5) and next response. Returns the
    targets and the metrics it met; a closed ticket takes no comments (422)."""
    if status not in COMMENT_STATUSES:
        raise ActionRefused(
            f"a {status} ticket takes no comments; allowed when {_statuses_text(COMMENT_STATUSES)}"
        )
    if role == CUSTOMER and not public:
        raise ActionForbidden(
            "internal notes are for agents; a customer's comment is public",
            {"public": "customers post public comments only"},
        )
    if role not in PROVIDER or not public:
        return list(targets), []
    metrics = ["next_response"]
    if first_response_met_by != "assignment":
        metrics.append("first_response")
    new = _each(targets, metrics, sla.meet, clocks, now)
    return new, _met(targets, new)


def breach_recorded(targets: Iterable[sla.Target]) -> bool:
    """Whether a stored ticket shows a breach without reading the clock: a live
    or met target with `breached_at` set, or one whose 100 % threshold was
    alerted. The list filter `breached=true` reads this marker, kept at every
    write; a running target reaching its due instant shows up when the breach
    checker writes the ticket at that threshold (within its one-minute period).
    Cancelled targets no longer count, as in `sla.view`."""
    return any(
        t.state != "cancelled" and (t.breached_at is not None or any(p >= 100 for p in t.alerted))
        for t in targets
    )
