"""What happened to a ticket: the typed events the aggregate records.

Every operation of `Ticket` appends what it decided to `ticket.events`
(cosmicpython's model: `Product.allocate` appends `OutOfStock`). Nothing else
decides them; `chalicelib.services.records` turns them into history entries and
outbox alerts, and the unit of work commits both with the ticket. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.charges import Charge


@dataclass(frozen=True)
class Event:
    """Base of a ticket's events."""


@dataclass(frozen=True)
class Opened(Event):
    """The ticket was opened (E1, E3) in `status`; a DX5 block names its reasons."""

    status: str
    commercial_review: tuple[str, ...] = ()


@dataclass(frozen=True)
class AutoReplied(Event):
    """DX2: the automatic reply posted on opening, a public system comment."""

    body: str
    locale: str


@dataclass(frozen=True)
class Acted(Event):
    """A lifecycle action was taken (`chalicelib.domain.lifecycle`): its parameters,
    the status before and after, the metrics it met, and what else it settled
    (`details`: the priority a set_priority led to (E7, K2, DX6), a resolution's
    cause (A4), the total time logged (C4))."""

    action: str
    params: dict[str, Any]
    status: str
    previous_status: str
    met: list[str]
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Commented(Event):
    """A comment, by `role`; the metrics it met (E5, A5)."""

    body: str
    public: bool
    role: str
    met: list[str]


@dataclass(frozen=True)
class ChargeChanged(Event):
    """The charge changed (C1-C4, DX1-DX5; E7/E9 re-planning)."""

    before: Charge | None
    after: Charge


@dataclass(frozen=True)
class ChargeWaived(Event):
    """DX4: the fee was waived because `metric` was breached; once per ticket."""

    before: Charge
    after: Charge
    metric: str | None
    at: datetime


@dataclass(frozen=True)
class Retargeted(Event):
    """E9: the targets were re-planned under the policy, calendar and terms in
    force (or kept, saying why); `data` is what the history entry says."""

    data: dict[str, Any]


@dataclass(frozen=True)
class AlertRaised(Event):
    """An alert to publish (docs/api.md, Alerts). `key` makes it once per ticket
    (`<ticket>:<key>`); None: once per occurrence, keyed on the change that raised
    it (a ticket may go back to the commercial team more than once)."""

    type: str
    at: datetime
    key: str | None
    metric: str | None = None
    level: int | None = None
    threshold_pct: int | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class PartnerEventNotApplied(Event):
    """A partner event the ticket did not take (one we do not use, or one its
    status refused), kept in its history with the reasons."""

    name: str
    reasons: list[str]
