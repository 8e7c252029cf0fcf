"""Helpers the pure domain tests share (a plain module: tests import it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.intake import Intake
from chalicelib.domain.policy import Policy
from chalicelib.domain.terms import SlaBasis
from chalicelib.domain.ticket import Ticket


def open_ticket(
    policy: Policy, intake: Intake, reported_at: datetime, tenant: dict[str, Any] | None = None
) -> tuple[Ticket, tuple[str, ...]]:
    """A real ticket aggregate opened under `policy` for a tenant document (docs/api.md,
    Tenant), and the alerts its opening raises."""
    ticket, opened = Ticket.open(
        ticket_id="tkt_unit",
        tenant_id="acme",
        title="A ticket",
        intake=intake,
        basis=SlaBasis.of(policy, tenant or {}),
        reported_at=reported_at,
        now=reported_at,
    )
    return ticket, opened.alerts
