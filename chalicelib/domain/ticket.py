"""The ticket aggregate and its API view. Pure: `now` is always passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.instants import format_instant


@dataclass
class SlaState:
    """The targets of a ticket and what they were computed from (E9: versions)."""

    policy: str
    policy_version: int
    calendar: dict[str, Any]
    calendar_version: str
    first_response_met_by: str
    targets: list[dict[str, Any]] = field(default_factory=list)
    # The tenant terms (tier, contract) the targets were planned with (E7/E9).
    terms_version: str = ""


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
    charge: dict[str, Any] | None = None
    version: int | None = None
    # Epoch second of the next alert threshold (the due index's sort key), or None.
    due_at: int | None = None
    # The id of its newest history event, as read (the store orders new ones after it).
    last_event: str | None = None

    def view(self, targets: list[dict[str, Any]]) -> dict[str, Any]:
        """The contract's Ticket JSON, with the targets' views as of some instant."""
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
                "targets": targets,
            },
            "charge": self.charge,
        }
