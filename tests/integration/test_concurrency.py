"""Concurrent updates of one ticket: optimistic locking on `version`, the loser
re-reads and re-applies (a few times) or is answered 409; no update is lost.

The threads call the service functions (the Chalice test client keeps the
current request on the app object, so it is not safe across threads). moto is
not atomic across threads either (a transaction deep-copies the whole table and
restores that copy when it fails, undoing other threads' writes), while
DynamoDB is atomic per request: `atomic_requests` serializes moto's requests,
so the races under test are the real ones, between a read and its write."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.api.http import utcnow
from chalicelib.commands import ActionBody, CommentBody
from chalicelib.errors import Conflict
from chalicelib.services import lifecycle
from chalicelib.services.auth import authenticate
from chalicelib.store import tickets as store
from tests.integration.helpers import INCIDENT, Api, Customer

THREADS = 20


@pytest.fixture
def atomic_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    handle = BotocoreStubber.__call__
    one_at_a_time = threading.Lock()

    def atomic(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        with one_at_a_time:
            return handle(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", atomic)


def all_events(api: Api, key: str, ticket_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = ""
    while True:
        status, page = api.get(f"/tickets/{ticket_id}/events?limit=100{cursor}", key)
        assert status == 200, page
        events += page["items"]
        if page["next_cursor"] is None:
            return events
        cursor = f"&cursor={page['next_cursor']}"


def test_twenty_concurrent_updates_lose_none(
    api: Api,
    customer: Customer,
    agent_key: str,
    monkeypatch: pytest.MonkeyPatch,
    atomic_requests: None,
) -> None:
    status, ticket = api.post("/tickets", customer.key, {**INCIDENT, "priority": "blocker"})
    assert status == 201, ticket
    tid = ticket["id"]
    agent = authenticate(f"Bearer {agent_key}")
    client = authenticate(f"Bearer {customer.key}")

    lost_races = 0
    lock = threading.Lock()

    write = store.write

    def counting_write(*args: Any, **kwargs: Any) -> Any:
        nonlocal lost_races
        try:
            return write(*args, **kwargs)
        except Conflict:
            with lock:
                lost_races += 1
            raise

    monkeypatch.setattr(store, "write", counting_write)
    start = threading.Barrier(THREADS)

    def work(i: int) -> tuple[str, Any] | None:
        """Half log time (agent), half comment (agent or customer)."""
        calls: dict[int, tuple[str, Any, Callable[[], Any]]] = {
            0: (
                "action.log_time",
                i + 1,
                lambda: lifecycle.apply_action(
                    agent, tid, ActionBody(action="log_time", minutes=i + 1), utcnow()
                ),
            ),
            1: (
                "comment",
                f"reply {i}",
                lambda: lifecycle.add_comment(
                    agent if i % 4 == 1 else client, tid, CommentBody(body=f"reply {i}"), utcnow()
                ),
            ),
        }
        kind, value, call = calls[i % 2]
        start.wait()
        try:
            call()
        except Conflict:
            return None  # answered 409: must have had no effect
        return kind, value

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    accepted = [r for r in results if r is not None]
    print(f"\n{len(accepted)}/{THREADS} accepted, {lost_races} lost races retried")

    events = all_events(api, agent_key, tid)
    minutes = sorted(e["data"]["minutes"] for e in events if e["type"] == "action.log_time")
    bodies = sorted(e["data"]["body"] for e in events if e["type"] == "comment")
    assert minutes == sorted(v for k, v in accepted if k == "action.log_time")
    assert bodies == sorted(v for k, v in accepted if k == "comment")
    assert len({e["id"] for e in events}) == len(events)
    _, final = api.get(f"/tickets/{tid}", agent_key)
    assert final["fields"]["logged_minutes"] == sum(minutes)  # no lost update
    assert lost_races > 0  # the threads did race
    assert len(accepted) >= THREADS * 3 // 4  # retries absorb most of them
