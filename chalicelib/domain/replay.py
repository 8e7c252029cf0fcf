"""Replaying a ticket's recorded history through the aggregate (what-if, issue 23).

A stored ticket and its history entries (GET /tickets/{id}/events: `type`, `data`,
`actor`, `at`) are mapped back onto the aggregate's public operations, in order,
under an SLA basis (a policy and the tenant's terms): `Ticket.open` for the opening,
`act` for `action.<name>` (a priority change re-targets inside it, E7), `comment`
for an agent's or a customer's comment (DX4 is applied inside both),
`cross_thresholds` for a waiver a checker run recorded (DX4), `refresh` for
`policy.retargeted` (E9). What the aggregate derives itself (charge
entries, alerts, not-applied partner events) is not replayed: it follows.

Under the basis the ticket was planned with, the replay must give exactly the
stored ticket (`differences` is empty): if it does not, a rule lives outside the
aggregate, or the history does not carry what replay needs (`Replayed.gaps`).
Under a draft policy it says what that policy would have done with the same
history (`target_changes`).

`_apply` is the one place that calls into the aggregate for recorded entries.
Pure: no I/O, no clock (`now` is passed in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain import lifecycle
from chalicelib.domain.errors import DomainError
from chalicelib.domain.instants import parse_instant
from chalicelib.domain.intake import Intake
from chalicelib.domain.terms import SlaBasis, tier_for
from chalicelib.domain.ticket import Ticket

Entry = Mapping[str, Any]  # a history entry: {"id", "at", "type", "actor", "data"}

# What replay cannot know from today's history (see `gaps`).
GAP_RETARGETED = "policy.retargeted: the policy version or tenant terms before it are not kept"


@dataclass
class Replayed:
    """The outcome of a replay: the ticket as the basis makes it (None when the
    basis refuses to open it, `refused` says why), the entries the aggregate
    refused under this basis (`skipped`: entry id -> why), and what the history
    lacks for an exact replay (`gaps`)."""

    ticket: Ticket | None
    refused: str | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)


def _params(name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters an `action.<name>` entry was taken with (its data holds them,
    next to what the action changed)."""
    required, optional = lifecycle.PARAMETERS[name]
    return {k: data[k] for k in sorted(required | optional) if k in data}


def _role(entry: Entry) -> str:
    """The lifecycle role of an entry's author: a partner's agents act as agents."""
    data = entry.get("data") or {}
    role = str(data.get("author_role") or (entry.get("actor") or {}).get("role") or "")
    return lifecycle.AGENT if role == "partner" else role


def opening(stored: Ticket, history: Sequence[Entry], basis: SlaBasis) -> Intake:
    """The intake the ticket was opened with, as far as the stored ticket and its
    history tell: the priority before its first `set_priority`, the fields before
    `assess` and `log_time` wrote into them, its own tier only when it is not the
    tenant's (so a draft's tiers apply)."""
    changes = [e for e in history if e.get("type") == "action.set_priority"]
    priority = (
        str(changes[0]["data"].get("previous_priority") or stored.priority)
        if changes
        else stored.priority
    )
    fields = dict(stored.fields)
    logged = [e["data"] for e in history if e.get("type") == "action.log_time"]
    if logged:
        before = int(logged[0].get("total_minutes", 0)) - int(logged[0].get("minutes", 0))
        if before > 0:
            fields[lifecycle.LOGGED_MINUTES] = before
        else:
            fields.pop(lifecycle.LOGGED_MINUTES, None)
    if any("requires_quote" in e["data"] for e in history if e.get("type") == "action.assess"):
        fields.pop("requires_quote", None)
    tenant_tier = tier_for(basis.policy, basis.terms)
    return Intake(
        kind=stored.kind,
        priority=priority,
        channel=stored.channel,
        fields=fields,
        integration=stored.integration,
        tier=stored.tier if stored.tier != tenant_tier else None,
        description=stored.description,
    )


def replay(stored: Ticket, history: Sequence[Entry], basis: SlaBasis, now: datetime) -> Replayed:
    """The ticket its history makes under `basis`, as of `now` (entries after
    `now` are not replayed). Never raises a DomainError: an opening the basis
    refuses is `refused`, an entry it refuses is `skipped`."""
    ordered = sorted(history, key=lambda e: str(e.get("id") or ""))
    created = next((e for e in ordered if e.get("type") == "created"), None)
    gaps = _gaps(ordered)
    try:
        ticket, _ = Ticket.open(
            ticket_id=stored.id,
            tenant_id=stored.tenant_id,
            title=stored.title,
            intake=opening(stored, ordered, basis),
            basis=basis,
            reported_at=stored.reported_at,
            now=parse_instant(created["at"]) if created is not None else stored.created_at,
            contact=stored.contact,
        )
    except DomainError as e:
        return Replayed(None, refused=_why(e), gaps=gaps)
    out = Replayed(ticket, gaps=gaps)
    for entry in ordered:
        at = parse_instant(str(entry["at"]))
        if entry.get("type") == "created" or at > now:
            continue
        try:
            _apply(ticket, entry, basis, at)
        except DomainError as e:
            out.skipped[str(entry.get("id"))] = _why(e)
    return out


def _why(e: DomainError) -> str:
    """A refusal in one line: its message and each field it names."""
    fields = "; ".join(f"{k}: {v}" for k, v in e.fields.items())
    return f"{e} ({fields})" if fields else str(e)


def _apply(ticket: Ticket, entry: Entry, basis: SlaBasis, at: datetime) -> None:
    """One recorded entry as the aggregate's operation, the way the services call
    it (services/lifecycle.py, services/webhooks.py, services/checker.py)."""
    kind = str(entry.get("type"))
    data: Mapping[str, Any] = entry.get("data") or {}
    if kind == "comment":
        if data.get("automatic"):  # DX2's automatic reply: part of the opening
            return
        ticket.comment(_role(entry), bool(data.get("public", True)), at)  # and DX4
    elif kind.startswith("action."):
        name = kind.removeprefix("action.")
        if name not in lifecycle.TRANSITIONS:
            raise lifecycle.ActionInvalid(f"unknown action {name}")
        params = _params(name, data)
        ticket.act(name, params, _role(entry), at, basis=basis)  # E7 and DX4 inside
    elif kind == "charge.waived":  # DX4 at a checker run, which crosses thresholds
        ticket.cross_thresholds(at)
    elif kind == "policy.retargeted":  # E9: under one basis, nothing is stale
        ticket.refresh(basis, at, str(data.get("cause") or "stale"))
    # Anything else the aggregate derives (`charge.<status>`, alerts: `sla.*`,
    # `ticket.prime_opened`, `billing.order`, ...) or changed nothing (`webhook.*`).


def _gaps(history: Sequence[Entry]) -> list[str]:
    """What today's history does not carry for an exact replay of this ticket."""
    found: list[str] = []
    if any(e.get("type") == "policy.retargeted" for e in history):
        found.append(GAP_RETARGETED)
    return found


# ------------------------------------------------------------------ comparing


def _state(ticket: Ticket, now: datetime) -> dict[str, Any]:
    view = ticket.view(now)
    return {
        "status": view["status"],
        "priority": view["priority"],
        "kind": view["kind"],
        "tier": view["tier"],
        "assignee": view["assignee"],
        "resolution_cause": view["resolution_cause"],
        "sla": view["sla"],
        "charge": view["charge"],
    }


def differences(stored: Ticket, replayed: Replayed, now: datetime) -> list[str]:
    """What the replay got differently from the stored ticket, as of `now` (its
    status, priority, kind, tier, assignee, resolution cause, SLA targets with
    their policy version, charge): empty when replay equals reality."""
    if replayed.ticket is None:
        return [f"not opened: {replayed.refused}"]
    want, got = _state(stored, now), _state(replayed.ticket, now)
    found = [f"{k}: stored {want[k]!r}, replayed {got[k]!r}" for k in want if want[k] != got[k]]
    found += [f"entry {i} refused: {why}" for i, why in replayed.skipped.items()]
    return found


def target_views(ticket: Ticket | None, now: datetime) -> dict[str, dict[str, Any]]:
    """A ticket's targets as of `now`, by metric (none for a ticket not opened)."""
    return {} if ticket is None else {v["metric"]: v for v in ticket.target_views(now)}


def target_changes(
    ticket_id: str, current: Ticket | None, draft: Ticket | None, now: datetime
) -> list[dict[str, Any]]:
    """The targets whose due instant or state differ between two versions of a
    ticket (docs: what-if `changed`), in the current one's metric order, then the
    metrics only the draft has."""
    before, after = target_views(current, now), target_views(draft, now)
    out: list[dict[str, Any]] = []
    for metric in [*before, *(m for m in after if m not in before)]:
        a, b = before.get(metric, {}), after.get(metric, {})
        if (a.get("due_at"), a.get("state")) != (b.get("due_at"), b.get("state")):
            out.append(
                {
                    "ticket_id": ticket_id,
                    "metric": metric,
                    "current_due_at": a.get("due_at"),
                    "draft_due_at": b.get("due_at"),
                    "current_state": a.get("state"),
                    "draft_state": b.get("state"),
                }
            )
    return out
