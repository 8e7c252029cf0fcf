"""A proposal of the provider's register of requested new functionality (Aivo A8):
shared by every customer, followed by subscriptions, decided by an admin. No date,
no SLA (A7). Pure: the caller passes the instant."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from chalicelib.domain.errors import DomainError
from chalicelib.domain.instants import format_instant

Status = Literal["registered", "under_review", "approved", "declined"]
Decision = Literal["under_review", "approved", "declined"]
REGISTERED: Status = "registered"
APPROVED: Status = "approved"
FINAL: frozenset[str] = frozenset({"approved", "declined"})
# The one decision whose subscribers hear of it (A8): nothing for the others.
NOTIFIED: Status = APPROVED
# The ticket kind of a request for new functionality (A7: no target, no date): the
# answer that opens one points to the register, where it is followed (A8).
REQUEST_KIND = "feature_request"


class ProposalDecided(DomainError):
    """A proposal already approved or declined takes no decision and no new
    subscription: HTTP 422."""

    code = "proposal_decided"

    def __init__(self, proposal_id: str, status: str) -> None:
        super().__init__(
            f"proposal {proposal_id} is already {status}: that decision is final",
            {"status": f"already {status}"},
        )


@dataclass(frozen=True)
class Proposal:
    """One entry of the register. `subscribers` counts every subscription (kept
    in the same transaction as each subscription's write)."""

    id: str
    title: str
    description: str
    status: Status
    created_at: datetime
    decided_at: datetime | None = None
    note: str | None = None
    subscribers: int = 0

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def check_open(self) -> None:
        """A decided proposal takes no new subscription (its subscribers were
        notified, or never will be): ProposalDecided."""
        if self.final:
            raise ProposalDecided(self.id, self.status)

    def decide(self, status: Decision, note: str | None, now: datetime) -> Proposal:
        """An admin's decision (A8): `under_review` while it is open, then
        `approved` or `declined`, both final. `decided_at` is the final one's."""
        self.check_open()
        return replace(
            self,
            status=status,
            note=note if note is not None else self.note,
            decided_at=now if status in FINAL else None,
        )

    def view(self, subscribed: bool) -> dict[str, Any]:
        """The contract's Proposal (docs/api.md, Proposals): the count of every
        subscription, and whether the caller's tenant holds one; never who."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "created_at": format_instant(self.created_at),
            "decided_at": format_instant(self.decided_at) if self.decided_at else None,
            "note": self.note,
            "subscribers": self.subscribers,
            "subscribed": subscribed,
        }
