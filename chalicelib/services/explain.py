"""GET /tickets/{ticket_id}/sla/explain: why each target of a ticket is due when
it is (`chalicelib.domain.explain`). Reads the ticket (GetItem), its history (one
Query) and the SLA basis in force for its tenant (GetItem tenant and policy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain import explain as domain
from chalicelib.services.auth import Caller
from chalicelib.services.lookups import Lookups
from chalicelib.services.tickets import visible_ticket
from chalicelib.store import tickets as ticket_store


def explain(caller: Caller, ticket_id: str, now: datetime) -> dict[str, Any]:
    ticket = visible_ticket(caller, ticket_id)  # another tenant's: 404
    history = ticket_store.history(ticket.id)
    basis = Lookups().basis(ticket.tenant_id)
    return domain.explain(ticket, history, basis, now)
