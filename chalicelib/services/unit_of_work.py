"""One way to change a ticket: read it, let the aggregate decide, commit.

    def attempt(uow: UnitOfWork) -> Ticket:
        ticket = uow.get(ticket_id)
        ticket.act("assign", {"agent": "ana"}, "agent", now)
        uow.commit()
        return ticket

    unit_of_work.run(attempt, now, actor)

`commit` turns the events the aggregate recorded (`chalicelib.services.records`)
into history entries and outbox alerts and writes them with the ticket, any
extra items (a partner's link and delivery) and what the change moves in the
report counters (`domain.report_counts`: the ticket as read against as written)
in ONE transaction conditioned on the version the ticket was read at (optimistic
locking), then publishes the alerts. A retry reads again, so it counts again.
A writer that lost the race gets Conflict; `run` reads, decides and commits again
by the one retry policy. The API routes, the partner webhooks, the breach checker
and the E9 jobs all change tickets this way.

Where tickets are kept is a `TicketRepository`: DynamoDB (`chalicelib.store`) in
the product, an in-memory one in the service tests (`configure`).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from chalicelib.domain import report_counts
from chalicelib.domain.instants import format_instant
from chalicelib.domain.ticket import Ticket
from chalicelib.errors import Collision, Conflict
from chalicelib.services.auth import Caller
from chalicelib.services.lookups import Lookups
from chalicelib.services.outbox import claim_until, publish_items
from chalicelib.services.records import SYSTEM_ACTOR, records
from chalicelib.store import outbox
from chalicelib.store import tickets as store
from chalicelib.store.models import OutboxItem

__all__ = ["SYSTEM_ACTOR", "UnitOfWork", "actor_of", "configure", "run", "start"]

# The one retry policy for a lost optimistic-lock race (actions, comments, partner
# events, the breach checker, E9 re-targeting): up to MAX_ATTEMPTS attempts, each
# retry after a random wait of up to BACKOFF_SECONDS * 2**n ("full jitter"), so
# writers that collided spread out; then the Conflict stands (a 409 for a request).
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 0.025

T = TypeVar("T")


class TicketRepository(Protocol):
    """Where tickets are read and written (`DynamoTickets`, or the tests' fake)."""

    def get(self, ticket_id: str) -> Ticket | None: ...

    def write(
        self,
        ticket: Ticket,
        entries: list[dict[str, Any]],
        alerts: list[OutboxItem],
        *,
        new: bool,
        extra: Sequence[store.TxItem],
        counts: report_counts.Counts,
    ) -> None:
        """All or nothing; Conflict when the ticket moved on or a condition failed."""

    def publish(self, alerts: Sequence[OutboxItem], now: datetime) -> None: ...

    def lookups(self) -> Lookups:
        """A fresh per-request memo of the policies and tenants in force."""


class DynamoTickets:
    """The product's repository: the table (`chalicelib.store.tickets`) and SNS."""

    def get(self, ticket_id: str) -> Ticket | None:
        return store.get(ticket_id)

    def write(
        self,
        ticket: Ticket,
        entries: list[dict[str, Any]],
        alerts: list[OutboxItem],
        *,
        new: bool,
        extra: Sequence[store.TxItem],
        counts: report_counts.Counts,
    ) -> None:
        store.write(ticket, entries, alerts, new=new, extra=extra, counts=counts)

    def publish(self, alerts: Sequence[OutboxItem], now: datetime) -> None:
        publish_items(alerts, now)

    def lookups(self) -> Lookups:
        return Lookups()


_repository: TicketRepository | None = None


def repository() -> TicketRepository:
    global _repository
    if _repository is None:
        _repository = DynamoTickets()
    return _repository


@contextmanager
def configure(repo: TicketRepository) -> Iterator[TicketRepository]:
    """Use `repo` instead of DynamoDB while in the block (the service tests)."""
    global _repository
    before, _repository = _repository, repo
    try:
        yield repo
    finally:
        _repository = before


def actor_of(caller: Caller) -> dict[str, Any]:
    """A history entry's `actor` for an API key."""
    return {"role": caller.role, "key_id": caller.key_id, "partner_id": None}


@dataclass(frozen=True)
class Committed:
    entries: list[dict[str, Any]]  # the history entries written, with their ids
    alerts: list[OutboxItem]  # the alerts written to the outbox


class UnitOfWork:
    """One ticket's change: what it reads, then one `commit` of all it recorded."""

    def __init__(
        self,
        repo: TicketRepository,
        now: datetime,
        actor: dict[str, Any],
        *,
        lookups: Lookups | None = None,
        context: dict[str, Any] | None = None,
        publish: bool = True,
    ) -> None:
        self._repo = repo
        self.now = now
        self.actor = actor
        self.lookups = lookups if lookups is not None else repo.lookups()
        self.context = context
        self._publish = publish
        self._ticket: Ticket | None = None
        self._new = False
        self._extra: list[store.TxItem] = []
        self._counted: report_counts.Counts = {}  # the ticket's counters as read

    def get(self, ticket_id: str) -> Ticket | None:
        """The ticket as stored now (a consistent read), tracked for `commit`."""
        ticket = self._repo.get(ticket_id)
        if ticket is not None:
            self.track(ticket)
        return ticket

    def track(self, ticket: Ticket) -> None:
        """Commit this ticket, as read elsewhere (a batch read) at its version."""
        self._ticket, self._new = ticket, False
        self._counted = report_counts.counts(ticket) if ticket.counted else {}

    def add(self, ticket: Ticket) -> None:
        """A new ticket (`Ticket.open`): the commit fails if its id exists."""
        self._ticket, self._new, self._counted = ticket, True, {}

    def also(self, *items: store.TxItem) -> None:
        """Items of other stores written in the same transaction (a partner's link
        and delivery), each with its condition."""
        self._extra.extend(items)

    def commit(self) -> Committed:
        """Write the ticket, the history entries and alerts of what it recorded and
        the extra items, all or nothing (Conflict when the ticket moved on
        meanwhile), then publish the alerts (unless told not to: the checker
        publishes in chunks). Returns the entries and alerts written."""
        ticket = self._ticket
        if ticket is None:
            raise RuntimeError("nothing to commit: no ticket was read or added")
        read_last = ticket.last_event
        done = records(ticket, ticket.events, self.actor, self.now, context=self.context)
        stamp, claim = format_instant(self.now), claim_until()
        counted = report_counts.counts(ticket)
        moved = report_counts.delta(self._counted, counted)
        items = [
            outbox.new_item(ticket.id, m["id"].split(":", 1)[1], m, stamp, claim)
            for m in done.alerts
        ]
        write = functools.partial(
            self._repo.write,
            ticket,
            done.entries,
            items,
            new=self._new,
            extra=self._extra,
            counts=moved,
        )
        try:
            if self._new:  # no read to redo (`run` retries a change): the same write again
                retrying(write, on=Collision)  # when it met another on a shared counter
            else:
                write()
        except Conflict:
            ticket.last_event = read_last
            raise
        ticket.events.clear()
        self._counted = counted
        if self._publish and items:
            self._repo.publish(items, self.now)
        return Committed(done.entries, items)


def run(
    attempt: Callable[[UnitOfWork], T],
    now: datetime,
    actor: dict[str, Any],
    *,
    lookups: Lookups | None = None,
    context: dict[str, Any] | None = None,
    publish: bool = True,
    deadline: float | None = None,
) -> T:
    """Run a read-decide-commit `attempt` in a fresh unit of work, and again while
    another writer wins the race (Conflict), by the policy above; with a
    `deadline` (a `time.monotonic()` instant), the Conflict stands once waiting
    would pass it."""
    lookups = lookups if lookups is not None else repository().lookups()

    def once() -> T:
        return attempt(start(now, actor, lookups=lookups, context=context, publish=publish))

    return retrying(once, deadline=deadline)


def start(
    now: datetime,
    actor: dict[str, Any],
    *,
    lookups: Lookups | None = None,
    context: dict[str, Any] | None = None,
    publish: bool = True,
) -> UnitOfWork:
    """A unit of work on the configured repository (no retry: for a new ticket, or
    inside `run`)."""
    repo = repository()
    return UnitOfWork(repo, now, actor, lookups=lookups, context=context, publish=publish)


def retrying(
    attempt: Callable[[], T], *, deadline: float | None = None, on: type[Conflict] = Conflict
) -> T:
    """The retry policy itself (`run` uses it; so does a caller whose attempt
    commits something other than a ticket), on a Conflict of kind `on`."""
    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            return attempt()
        except on:
            wait = random.uniform(0, BACKOFF_SECONDS * 2**number)  # noqa: S311 (jitter only)
            if number == MAX_ATTEMPTS or (
                deadline is not None and time.monotonic() + wait > deadline
            ):
                raise
            time.sleep(wait)
    raise AssertionError("unreachable")
