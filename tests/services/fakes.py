"""The service tier's in-memory repository: tickets, their history and the outbox
kept in dicts, with the same rules as the table (a new ticket must not exist, a
change must be at the version it was read at, an alert is written once), and the
policies and tenants in force. No moto, no AWS."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.domain.policy import Policy
from chalicelib.domain.report_counts import Counts
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import Collision, Conflict
from chalicelib.services.lookups import Lookups
from chalicelib.store.models import OutboxItem, plain
from chalicelib.store.tickets import TxItem


class FakeLookups(Lookups):
    def __init__(self, repo: InMemoryTickets) -> None:
        super().__init__()
        self._repo = repo

    def policy(self, policy_id: str) -> Policy | None:
        return self._repo.policies.get(policy_id)

    def tenant(self, tenant_id: str) -> dict[str, Any] | None:
        return self._repo.tenants.get(tenant_id)


class InMemoryTickets:
    def __init__(self, policies: dict[str, Policy], tenants: dict[str, dict[str, Any]]) -> None:
        self.policies = policies
        self.tenants = tenants
        self.tickets: dict[str, Ticket] = {}
        self.history: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.outbox: dict[str, dict[str, Any]] = {}
        self.published: list[dict[str, Any]] = []
        self.extra: list[TxItem] = []
        self.counts: list[Counts] = []  # what each write moved in the report counters
        self.races = 0  # the next writes that lose a race (another writer got there first)
        self.collisions = 0  # the next writes that meet another on a shared item (Collision)
        self.writes = 0
        self.publish_fails = False

    # --------------------------------------------------------------- the repository

    def get(self, ticket_id: str) -> Ticket | None:
        stored = self.tickets.get(ticket_id)
        return copy.deepcopy(stored) if stored is not None else None

    def write(
        self,
        ticket: Ticket,
        entries: list[dict[str, Any]],
        alerts: list[OutboxItem],
        *,
        new: bool,
        extra: Sequence[TxItem],
        counts: Counts | None = None,
    ) -> None:
        stored = self.tickets.get(ticket.id)
        if self.collisions:
            self.collisions -= 1
            raise Collision("another transaction held a counter", code="concurrent_update")
        if self.races:
            self.races -= 1
            raise Conflict("another writer won", code="concurrent_update")
        if new and stored is not None:
            raise Conflict("the ticket exists", code="concurrent_update")
        if not new and (stored is None or stored.version != ticket.version):
            raise Conflict("the ticket changed", code="concurrent_update")
        if any(a.alert_id in self.outbox for a in alerts):
            raise Conflict("alert already written", code="concurrent_update")
        self.writes += 1
        ticket.version = (ticket.version or 0) + 1
        ticket.counted = True
        kept = copy.deepcopy(ticket)
        kept.events.clear()
        self.tickets[ticket.id] = kept
        self.history[ticket.id].extend(copy.deepcopy(entries))
        for alert in alerts:
            self.outbox[alert.alert_id] = plain(alert.message)
        self.extra.extend(extra)
        self.counts.append(counts or {})

    def publish(self, alerts: Sequence[OutboxItem], now: datetime) -> None:
        if not self.publish_fails:
            self.published.extend(plain(a.message) for a in alerts)

    def lookups(self) -> Lookups:
        return FakeLookups(self)

    # --------------------------------------------------------------- for the tests

    def types(self, ticket_id: str) -> list[str]:
        return [e["type"] for e in self.history[ticket_id]]

    def entries(self, ticket_id: str, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.history[ticket_id] if e["type"] == type_]
