"""The service tier: the use cases (`chalicelib.services`) on an in-memory repository
(`tests.services.fakes`), no moto: a rule a service owns is tested here, fast."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.commands import ActionBody, CommentBody, TicketBody
from chalicelib.policies import load_shipped
from chalicelib.services import lifecycle, tickets, unit_of_work
from chalicelib.services.auth import Caller
from tests.services.fakes import InMemoryTickets

BA = ZoneInfo("America/Argentina/Buenos_Aires")
MON_10 = datetime(2026, 3, 9, 10, tzinfo=BA)  # no Argentine holiday that week

TENANTS: dict[str, dict[str, Any]] = {
    "acme": {"id": "acme", "name": "Acme", "policy": "aivo", "locale": "en"},
    "dx": {"id": "dx", "name": "DX", "policy": "digital_express", "contract": {"active": False}},
    "keybe": {"id": "keybe", "name": "K", "policy": "keybe", "tier": "prime"},
    "clever": {
        "id": "clever",
        "name": "C",
        "policy": "clever_ideas",
        "operation_started_on": "2025-01-06",
    },
}
AGENT = Caller(key_id="key_agent", tenant_id="provider", role="agent", contact=None)
ADMIN = Caller(key_id="key_admin", tenant_id="provider", role="admin", contact=None)


def customer(tenant_id: str) -> Caller:
    return Caller(key_id=f"key_{tenant_id}", tenant_id=tenant_id, role="customer", contact=None)


@pytest.fixture
def repo() -> Iterator[InMemoryTickets]:
    fake = InMemoryTickets(load_shipped(), {k: dict(v) for k, v in TENANTS.items()})
    with unit_of_work.configure(fake):
        yield fake


def open_ticket(tenant_id: str, at: datetime = MON_10, **body: Any) -> str:
    """A ticket opened by the tenant's customer at `at` (an incident, unless told)."""
    doc = {"title": "Down", "description": "It is down", "kind": "incident", **body}
    if "priority" not in doc and doc["kind"] == "incident":
        doc["priority"] = "high"
    ticket = tickets.create_ticket(
        tenant_id,
        TENANTS[tenant_id],
        TicketBody.model_validate(doc),
        at,
        at,
        unit_of_work.actor_of(customer(tenant_id)),
    )
    return ticket.id


def action(caller: Caller, ticket_id: str, at: datetime, name: str, **params: Any) -> Any:
    body = ActionBody.model_validate({"action": name, **params})
    return lifecycle.apply_action(caller, ticket_id, body, at)


def comment(caller: Caller, ticket_id: str, at: datetime, text: str, public: bool = True) -> Any:
    return lifecycle.add_comment(caller, ticket_id, CommentBody(body=text, public=public), at)
