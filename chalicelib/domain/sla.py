"""SLA target clocks (E3-E9): pure functions over immutable `Target` values.

A target runs on a clock (`business` or `24x7`, see `chalicelib.domain.calendar`).
It remembers the intervals of real time during which it ran (`runs`, closed, plus
the open one since `running_since`), and caches `elapsed_seconds`, the clock
seconds of the closed runs on its own clock. Keeping the runs, not only the count,
lets a re-target (E7) or a calendar change (E9) measure "the time already elapsed"
again on the new clock, pauses excluded.

Every function returns a new `Target`; none reads the clock (`now` is passed in)
and all instants are truncated to the whole second, as the clocks count.

Which metrics pause is the caller's choice: E6 pauses `resolution` and
`next_response` while the ticket waits on the customer (`PAUSING_METRICS`);
`first_response` and `study` keep running.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal, cast

from chalicelib.domain.calendar import Clock, walk
from chalicelib.domain.instants import format_instant, parse_instant, to_utc

TargetState = Literal["pending", "running", "paused", "met", "cancelled"]
ThresholdType = Literal["sla.warning", "sla.breached", "sla.escalated"]

# E6: the clocks that stop while the ticket waits on the customer.
PAUSING_METRICS = frozenset({"resolution", "next_response"})


@dataclass(frozen=True)
class Threshold:
    """One rung of an alert ladder (E8): `pct` of the target's clock duration.

    Levels: `sla.warning` and `sla.breached` are level 1; each `sla.escalated`
    rung carries its own level (2 at 150 %, 3 at 200 % by default; K3: 2 at 300 %).
    """

    pct: int
    type: ThresholdType
    level: int

    def to_dict(self) -> dict[str, Any]:
        return {"pct": self.pct, "type": self.type, "level": self.level}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Threshold:
        return cls(
            pct=int(doc["pct"]),
            type=cast(ThresholdType, str(doc["type"])),
            level=int(doc["level"]),
        )


DEFAULT_LADDER: tuple[Threshold, ...] = (
    Threshold(75, "sla.warning", 1),
    Threshold(100, "sla.breached", 1),
    Threshold(150, "sla.escalated", 2),
    Threshold(200, "sla.escalated", 3),
)


@dataclass(frozen=True)
class TargetSpec:
    """What a policy commits to for one metric of one ticket (E1)."""

    metric: str
    clock: str  # "business" | "24x7"
    seconds: int
    ladder: tuple[Threshold, ...] = DEFAULT_LADDER
    starts_on: str = "reported"  # "reported" | "payment" (DX2)


@dataclass(frozen=True)
class Target:
    """The live state of one target of one ticket.

    `state` is the stored state; `view` derives the contract's state (a running
    target past its due instant is `breached`). `due_at` is kept only for met
    targets (the due instant that applied when it was met); for running ones it
    is computed. `alerted` holds the ladder percentages already alerted (E8).
    """

    metric: str
    clock: str
    target_seconds: int
    state: TargetState
    started_at: datetime | None
    ladder: tuple[Threshold, ...] = DEFAULT_LADDER
    runs: tuple[tuple[datetime, datetime], ...] = ()
    running_since: datetime | None = None
    elapsed_seconds: int = 0
    due_at: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None
    alerted: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-able dict for storage (instants as RFC 3339 `Z` strings)."""
        return {
            "metric": self.metric,
            "clock": self.clock,
            "target_seconds": self.target_seconds,
            "state": self.state,
            "started_at": _fmt(self.started_at),
            "ladder": [t.to_dict() for t in self.ladder],
            "runs": [[format_instant(a), format_instant(b)] for a, b in self.runs],
            "running_since": _fmt(self.running_since),
            "elapsed_seconds": self.elapsed_seconds,
            "due_at": _fmt(self.due_at),
            "met_at": _fmt(self.met_at),
            "breached_at": _fmt(self.breached_at),
            "alerted": list(self.alerted),
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Target:
        """Inverse of `to_dict`; numbers may come back as Decimal (DynamoDB)."""
        return cls(
            metric=str(doc["metric"]),
            clock=str(doc["clock"]),
            target_seconds=int(doc["target_seconds"]),
            state=cast(TargetState, str(doc["state"])),
            started_at=_parse(doc.get("started_at")),
            ladder=tuple(Threshold.from_dict(t) for t in doc.get("ladder") or ()),
            runs=tuple((parse_instant(a), parse_instant(b)) for a, b in doc.get("runs") or ()),
            running_since=_parse(doc.get("running_since")),
            elapsed_seconds=int(doc.get("elapsed_seconds") or 0),
            due_at=_parse(doc.get("due_at")),
            met_at=_parse(doc.get("met_at")),
            breached_at=_parse(doc.get("breached_at")),
            alerted=tuple(int(p) for p in doc.get("alerted") or ()),
        )


def _fmt(at: datetime | None) -> str | None:
    return None if at is None else format_instant(at)


def _parse(text: Any) -> datetime | None:
    return None if text is None else parse_instant(str(text))


def _at(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("SLA instants must be timezone-aware")
    return to_utc(at)


# ------------------------------------------------------------------ starting


def start_target(spec: TargetSpec, reported_at: datetime) -> Target:
    """A target as the ticket is opened (E3): running from `reported_at`, or
    `pending` until `start_pending` when the policy starts it on payment (DX2)."""
    if spec.starts_on == "payment":
        return Target(
            metric=spec.metric,
            clock=spec.clock,
            target_seconds=spec.seconds,
            state="pending",
            started_at=None,
            ladder=spec.ladder,
        )
    start = _at(reported_at)
    return Target(
        metric=spec.metric,
        clock=spec.clock,
        target_seconds=spec.seconds,
        state="running",
        started_at=start,
        ladder=spec.ladder,
        running_since=start,
    )


def start_targets(specs: Iterable[TargetSpec], reported_at: datetime) -> list[Target]:
    """The targets of a new ticket, one per spec (E3). A back-dated `reported_at`
    simply counts: the elapsed time is derived from the clock when viewed."""
    return [start_target(spec, reported_at) for spec in specs]


def start_pending(target: Target, now: datetime) -> Target:
    """DX2: the invoice is paid, the pending clock starts now. Other states are
    returned unchanged."""
    if target.state != "pending":
        return target
    start = _at(now)
    return replace(target, state="running", started_at=start, running_since=start)


# ------------------------------------------------------------------ internals


def _due_running(target: Target, clock: Clock) -> datetime:
    """Due instant of a running target (E4): where its clock reaches the duration."""
    assert target.running_since is not None
    left = target.target_seconds - target.elapsed_seconds
    if left > 0:
        return clock.add(target.running_since, left)
    # Already used up when the open run began (resumed or re-targeted past due).
    return target.breached_at or target.running_since


def _elapsed(target: Target, clock: Clock, now: datetime) -> int:
    if target.state == "running" and target.running_since is not None:
        return target.elapsed_seconds + clock.elapsed(target.running_since, now)
    return target.elapsed_seconds


def _close_run(target: Target, clock: Clock, now: datetime) -> Target:
    """Stop the open run at `now`, folding its clock time into `elapsed_seconds`
    and recording the breach instant if the duration was reached during it."""
    if target.state != "running" or target.running_since is None:
        return target
    since = target.running_since
    end = max(since, now)
    elapsed = target.elapsed_seconds + clock.elapsed(since, end)
    breached_at = target.breached_at
    if breached_at is None and elapsed >= target.target_seconds:
        breached_at = _due_running(target, clock)
    runs = (*target.runs, (since, end)) if end > since else target.runs
    return replace(
        target, runs=runs, running_since=None, elapsed_seconds=elapsed, breached_at=breached_at
    )


# ------------------------------------------------------------------ transitions


def pause(target: Target, clock: Clock, now: datetime) -> Target:
    """E6: stop the clock (the ticket waits on the customer). Only a running target
    pauses; the caller pauses only `PAUSING_METRICS` (first_response never)."""
    if target.state != "running":
        return target
    return replace(_close_run(target, clock, _at(now)), state="paused")


def resume(target: Target, clock: Clock, now: datetime) -> Target:
    """E6: the customer answered; a paused clock runs again from what it had."""
    del clock  # same signature as the other transitions; resuming needs no clock math
    if target.state != "paused":
        return target
    return replace(target, state="running", running_since=_at(now))


def meet(target: Target, clock: Clock, now: datetime) -> Target:
    """E5: the target is met at `now`. Met at or after its due instant it stays
    breached (`breached_at` kept, `met_at` recorded). Met and cancelled targets are
    returned unchanged (the first meeting event counts)."""
    now = _at(now)
    if target.state in ("met", "cancelled"):
        return target
    due_at: datetime | None = None
    if target.state == "running":
        due_at = _due_running(target, clock)
    closed = _close_run(target, clock, now)
    return replace(closed, state="met", met_at=now, due_at=due_at)


def cancel(target: Target, clock: Clock, now: datetime) -> Target:
    """The target no longer applies (its metric left the policy's plan, or the
    ticket closed without it). Met targets stay met."""
    if target.state in ("met", "cancelled"):
        return target
    return replace(_close_run(target, clock, _at(now)), state="cancelled")


def reopen_resolution(target: Target, clock: Clock, now: datetime) -> Target:
    """E6: a resolved ticket is reopened; its met target runs again from the elapsed
    time it had when met. `met_at` is cleared; a breach stays a breach."""
    del clock  # same signature as the other transitions
    if target.state != "met":
        return target
    return replace(target, state="running", running_since=_at(now), met_at=None, due_at=None)


def retarget(target: Target, spec: TargetSpec, clock: Clock, now: datetime) -> Target:
    """E7/E9: apply a new duration, ladder and clock (`clock` is the clock of
    `spec.clock`, built on the calendar now in force) to a live target.

    The time already elapsed is measured again on `clock` over the runs the target
    had (pauses excluded). If the new duration is already used up the target is
    breached at once: `breached_at = now`. A target already breached under its old
    terms stays breached, at the instant it was (also when the new duration is
    longer). Alerted thresholds stay alerted (each threshold is alerted once per
    ticket and metric).
    Met and cancelled targets are returned unchanged; a pending one takes the new
    values and stays pending.
    """
    now = _at(now)
    if target.state in ("met", "cancelled"):
        return target
    changed = replace(target, clock=spec.clock, target_seconds=spec.seconds, ladder=spec.ladder)
    if target.state == "pending":
        return changed
    # A breach under the old terms stays, at the instant it happened. It can be
    # measured only on the same kind of clock; across kinds it is judged anew.
    breached_at = target.breached_at
    if (
        breached_at is None
        and target.state == "running"
        and target.clock == spec.clock
        and _elapsed(target, clock, now) >= target.target_seconds
    ):
        breached_at = _due_running(target, clock)
    elapsed = sum(clock.elapsed(a, b) for a, b in target.runs)
    changed = replace(changed, elapsed_seconds=elapsed, breached_at=breached_at)
    if breached_at is None and _elapsed(changed, clock, now) >= spec.seconds:
        changed = replace(changed, breached_at=now)
    return changed


def reconcile(
    targets: Sequence[Target],
    specs: Sequence[TargetSpec],
    clock_of: Callable[[str], Clock],
    reported_at: datetime,
    now: datetime,
) -> list[Target]:
    """E7/E9 for a whole ticket: reconcile its targets with a new plan.

    One target per metric comes out. A metric of the plan that the ticket already
    has is re-targeted (`retarget`); a new metric (or one whose target was
    cancelled) starts as if it had run since `reported_at`; a live target whose
    metric is no longer planned is cancelled (met ones stay met). A pending target
    whose new spec starts on `reported` starts from `reported_at`.
    """
    now = _at(now)
    by_metric = {t.metric: t for t in targets}
    out: list[Target] = []
    for spec in specs:
        current = by_metric.pop(spec.metric, None)
        clock = clock_of(spec.clock)
        fresh = current is None or current.state == "cancelled"
        if not fresh and current is not None and current.state == "pending":
            fresh = spec.starts_on != "payment"
        if fresh:
            started = start_target(spec, reported_at)
            if current is not None:
                # E8: each (ticket, metric, threshold) is alerted once, also across a
                # cancel and re-add: the thresholds already alerted stay alerted.
                started = replace(started, alerted=current.alerted)
            out.append(retarget(started, spec, clock, now))
        else:
            assert current is not None
            out.append(retarget(current, spec, clock, now))
    for left in by_metric.values():
        out.append(cancel(left, clock_of(left.clock), now))
    return out


# ------------------------------------------------------------------ reading


def view(target: Target, clock: Clock, now: datetime) -> dict[str, Any]:
    """The contract's target JSON (docs/api.md, Ticket `sla.targets[]`) as of `now`.

    `state` precedence: cancelled, then breached (a breach recorded, or a running
    target whose elapsed time reached its duration: E5, due instant included), then
    the stored state (`pending`, `running`, `paused`, `met`). `due_at` is null
    while paused or pending; for a met target it is the due instant that applied.
    """
    now = _at(now)
    elapsed = _elapsed(target, clock, now)
    due_at = due_instant(target, clock)
    breached_at = target.breached_at
    if breached_at is None and target.state == "running" and elapsed >= target.target_seconds:
        breached_at = due_at
    state = shown_state(target, breached_at)
    return {
        "metric": target.metric,
        "clock": target.clock,
        "target_seconds": target.target_seconds,
        "started_at": _fmt(target.started_at),
        "due_at": _fmt(due_at),
        "state": state,
        "elapsed_seconds": elapsed,
        "remaining_seconds": target.target_seconds - elapsed,
        "met_at": _fmt(target.met_at),
        "breached_at": _fmt(breached_at),
    }


def shown_state(target: Target, breached_at: datetime | None) -> str:
    """A target's `state` given its breach instant (`view`'s precedence: cancelled,
    then breached, then the stored state); with `target.breached_at`, the state
    its stored item alone shows (the report counters, `domain.report_counts`)."""
    if target.state != "cancelled" and breached_at is not None:
        return "breached"
    return target.state


def due_instant(target: Target, clock: Clock) -> datetime | None:
    """The due instant (E4) of a running target; for a met one the due instant
    that applied when it was met; None while paused, pending or cancelled."""
    if target.state == "running":
        return _due_running(target, clock)
    if target.state == "met":
        return target.due_at
    return None


def is_breached(target: Target, clock: Clock, now: datetime) -> bool:
    """Whether the target counts as breached at `now` (reports, filters)."""
    state: str = view(target, clock, now)["state"]
    return state == "breached"


def _threshold_seconds(target: Target, threshold: Threshold) -> int:
    # Ceiling: a threshold is crossed once the clock has reached the exact fraction.
    return -(-threshold.pct * target.target_seconds // 100)


def _open_rungs(target: Target) -> list[Threshold]:
    return sorted((t for t in target.ladder if t.pct not in target.alerted), key=lambda t: t.pct)


def next_threshold(target: Target, clock: Clock) -> tuple[datetime, Threshold] | None:
    """E8: the instant of the lowest not-yet-alerted threshold of a running target
    (e.g. 75 % of 7200 s is the instant its clock reaches 5400 s), or None for a
    pending, paused, met or cancelled target or an exhausted ladder. An instant in
    the past (a re-target past due) means "due now"."""
    if target.state != "running" or target.running_since is None:
        return None
    rungs = _open_rungs(target)
    if not rungs:
        return None
    rung = rungs[0]
    needed = _threshold_seconds(target, rung) - target.elapsed_seconds
    if needed <= 0:
        return target.running_since, rung
    return clock.add(target.running_since, needed), rung


def due_thresholds(target: Target, clock: Clock, now: datetime) -> list[Threshold]:
    """E8: every not-yet-alerted threshold a running target has crossed at `now`,
    lowest first. Pending, paused, met and cancelled targets raise nothing."""
    if target.state != "running":
        return []
    elapsed = _elapsed(target, clock, _at(now))
    return [t for t in _open_rungs(target) if elapsed >= _threshold_seconds(target, t)]


def mark_alerted(target: Target, pct: int) -> Target:
    """Record that the threshold at `pct` was alerted (idempotent)."""
    if pct in target.alerted:
        return target
    return replace(target, alerted=(*target.alerted, pct))


def earliest_threshold(
    targets: Iterable[Target], clock_of: Callable[[str], Clock]
) -> datetime | None:
    """The soonest `next_threshold` instant among a ticket's targets (the due
    index's sort key), or None when no target has an alert pending."""
    instants = [
        step[0]
        for target in targets
        if (step := next_threshold(target, clock_of(target.clock))) is not None
    ]
    return min(instants, default=None)


# ------------------------------------------------------------------ explaining


@dataclass(frozen=True)
class Step:
    """One step of a target's way from its start to its due instant: a stretch of
    the clock (`business hours`, `outside hours`, `weekend`, `holiday` with its
    `day`, `24x7`) or a pause (`paused`, with the ticket's `status` then)."""

    start: datetime
    end: datetime
    counted: int
    why: str
    day: date | None = None
    status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "from": format_instant(self.start),
            "to": format_instant(self.end),
            "counted_seconds": self.counted,
            "why": self.why,
        }
        if self.day is not None:
            out["date"] = self.day.isoformat()
        if self.why == "paused":
            out["status"] = self.status
        return out


def steps(
    target: Target,
    clock: Clock,
    now: datetime,
    status_at: Callable[[datetime], str | None] = lambda _at: None,
) -> list[Step]:
    """Why the target is due when it is (E2-E6): the steps from `started_at` to its
    due instant (to `now` while paused; to `met_at` for one met while paused; to
    the end of its last run when cancelled), in order and without gaps. The runs
    of the target are walked on its clock (`calendar.walk`); the time between runs
    is `paused`, with the status `status_at` gives for its start. A met target's
    last run continues, as counted when it was met, up to the due instant that
    applied. For a target with a due instant the counted seconds add up to
    `target_seconds` (E4: the due instant is where the clock reaches it). A
    pending target (DX2, not started) has no steps."""
    now = _at(now)
    if target.started_at is None:
        return []
    due = due_instant(target, clock)
    runs: list[tuple[datetime, datetime | None]] = list(target.runs)
    if target.state == "running" and target.running_since is not None:
        runs.append((target.running_since, None))
    elif target.state == "met" and due is not None:
        last = target.runs[-1][1] if target.runs else target.started_at
        runs.append((last, None))  # as counted when it was met, on to the due instant
    if due is not None:
        end = due
    elif target.state == "met" and target.met_at is not None:
        end = target.met_at
    elif target.state == "paused":
        end = max(now, target.runs[-1][1] if target.runs else target.started_at)
    else:
        end = target.runs[-1][1] if target.runs else target.started_at
    out: list[Step] = []
    at = target.started_at
    for begin, finish in runs:
        if at >= end:
            break
        if begin > at:
            pause_end = min(begin, end)
            out.append(Step(at, pause_end, 0, "paused", status=status_at(at)))
            at = pause_end
        stop = end if finish is None else min(finish, end)
        out += [Step(s.start, s.end, s.counted, s.why, s.day) for s in walk(clock, at, stop)]
        at = max(at, stop)
    if at < end:
        out.append(Step(at, end, 0, "paused", status=status_at(at)))
    return _merged(out)


def _merged(found: list[Step]) -> list[Step]:
    """Adjacent steps of one kind (a run that ends where the next begins) as one."""
    out: list[Step] = []
    for step in found:
        last = out[-1] if out else None
        if (
            last is not None
            and last.end == step.start
            and (last.why, last.day, last.status) == (step.why, step.day, step.status)
        ):
            out[-1] = replace(last, end=step.end, counted=last.counted + step.counted)
        else:
            out.append(step)
    return out
