"""The breach checker through the real scheduled handler (issue 6): the E8 ladder,
exactly once per (ticket, metric, threshold) under repeats, concurrency, a kill
between write and publish and SNS outages; messages counted on an SQS queue
subscribed to the alerts topic."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.helpers import (
    Alerts,
    Api,
    Customer,
    fresh_t0,
    iso,
    open_blocker,
    run_checker,
)


@pytest.fixture
def alerts() -> Alerts:
    return Alerts()


class Wall:
    """The publishers' real-time clock (outbox claims), moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> Wall:
    from chalicelib.services import outbox

    clock = Wall()
    monkeypatch.setattr(outbox, "wall_clock", clock)
    return clock


def keys(messages: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return sorted((m["ticket_id"], m["metric"], m["threshold_pct"]) for m in messages)


@pytest.fixture
def aivo(customer: Customer) -> Customer:
    return customer


def test_e8_ladder_each_threshold_once_with_the_contract_message(
    api: Api, agent_key: str, aivo: Customer, alerts: Alerts
) -> None:
    t0 = fresh_t0()
    tid = open_blocker(api, agent_key, aivo.tenant_id, t0)

    assert run_checker(api, t0 + timedelta(minutes=44))["alerts"] >= 0
    assert alerts.drain({tid}) == []

    run_checker(api, t0 + timedelta(minutes=45))  # 75 % of 1 h
    (warning,) = alerts.drain({tid})
    assert warning["type"] == "sla.warning"
    assert (warning["metric"], warning["threshold_pct"], warning["level"]) == (
        "first_response",
        75,
        1,
    )
    assert warning["tenant_id"] == aivo.tenant_id
    assert warning["priority"] == "blocker"
    assert warning["occurred_at"] == iso(t0 + timedelta(minutes=45))
    assert warning["due_at"] == iso(t0 + timedelta(hours=1))
    assert warning["_attributes"] == {
        "type": "sla.warning",
        "tenant_id": aivo.tenant_id,
        "priority": "blocker",
        "level": "1",
    }

    run_checker(api, t0 + timedelta(minutes=45))  # the same instant again: nothing
    assert alerts.drain({tid}) == []

    run_checker(api, t0 + timedelta(hours=1))  # E5: breached at the due instant itself
    (breach,) = alerts.drain({tid})
    assert (breach["type"], breach["threshold_pct"]) == ("sla.breached", 100)

    run_checker(api, t0 + timedelta(hours=2, minutes=1))  # 150 % and 200 %, levels 2 and 3
    escalations = alerts.drain({tid})
    assert [(m["type"], m["threshold_pct"], m["level"]) for m in escalations] == [
        ("sla.escalated", 150, 2),
        ("sla.escalated", 200, 3),
    ]

    _, page = api.get(f"/tickets/{tid}/events", aivo.key)
    types = [e["type"] for e in page["items"]]
    assert types.count("sla.escalated") == 2
    assert types.count("sla.breached") == 1


def test_a_late_run_raises_every_crossed_threshold_once(
    api: Api, agent_key: str, aivo: Customer, alerts: Alerts
) -> None:
    t0 = fresh_t0()
    tid = open_blocker(api, agent_key, aivo.tenant_id, t0)
    run_checker(api, t0 + timedelta(hours=5))
    run_checker(api, t0 + timedelta(hours=5))
    assert keys(alerts.drain({tid})) == [
        (tid, "first_response", 75),
        (tid, "first_response", 100),
        (tid, "first_response", 150),
        (tid, "first_response", 200),
        (tid, "resolution", 75),
    ]


@pytest.fixture
def atomic_aws_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB executes each request (a TransactWriteItems included) atomically;
    moto in-process does not across threads. Serialising each call restores the
    guarantee the code relies on, without serialising the checkers themselves."""
    import botocore.client

    lock = threading.Lock()
    original = botocore.client.BaseClient._make_api_call

    def atomic(self: Any, operation: str, params: Any) -> Any:
        with lock:
            return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", atomic)


def test_two_checkers_at_once_publish_each_alert_once(
    api: Api, agent_key: str, aivo: Customer, alerts: Alerts, atomic_aws_calls: None
) -> None:
    t0 = fresh_t0()
    ids = {open_blocker(api, agent_key, aivo.tenant_id, t0) for _ in range(6)}
    from chalicelib.services.checker import check

    at = t0 + timedelta(minutes=61)
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        check(at)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = keys(alerts.drain(ids))
    assert got == sorted((i, "first_response", p) for i in ids for p in (75, 100))


def test_a_run_killed_between_write_and_publish_loses_nothing(
    api: Api,
    agent_key: str,
    aivo: Customer,
    alerts: Alerts,
    monkeypatch: pytest.MonkeyPatch,
    wall: Wall,
) -> None:
    from chalicelib.services import checker

    t0 = fresh_t0()
    tid = open_blocker(api, agent_key, aivo.tenant_id, t0)

    class Killed(BaseException):
        pass

    def die(*args: Any, **kwargs: Any) -> int:
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(checker, "publish_items", die)
        with pytest.raises(Killed):
            run_checker(api, t0 + timedelta(minutes=46))
    assert alerts.drain({tid}) == []

    run_checker(api, t0 + timedelta(minutes=46))  # same minute: the dead run's claim holds
    assert alerts.drain({tid}) == []
    wall.advance(60)
    run_checker(api, t0 + timedelta(minutes=47))  # the next run publishes the outbox
    wall.advance(60)
    run_checker(api, t0 + timedelta(minutes=48))
    assert keys(alerts.drain({tid})) == [(tid, "first_response", 75)]


def test_sns_down_for_several_runs_then_every_alert_once(
    api: Api,
    agent_key: str,
    aivo: Customer,
    alerts: Alerts,
    monkeypatch: pytest.MonkeyPatch,
    wall: Wall,
) -> None:
    from chalicelib import aws

    t0 = fresh_t0()
    tid = open_blocker(api, agent_key, aivo.tenant_id, t0)

    def outage(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, "PublishBatch")

    with monkeypatch.context() as m:
        m.setattr(aws.client("sns"), "publish_batch", outage)
        for minute in (45, 46, 60, 61):
            run_checker(api, t0 + timedelta(minutes=minute))
            wall.advance(60)
    assert alerts.drain({tid}) == []
    for minute in (62, 63):
        run_checker(api, t0 + timedelta(minutes=minute))
        wall.advance(60)
    assert keys(alerts.drain({tid})) == [(tid, "first_response", 75), (tid, "first_response", 100)]


def test_subscription_filter_policy_on_type_and_priority(
    api: Api, agent_key: str, aivo: Customer
) -> None:
    oncall = Alerts({"type": ["sla.breached"], "priority": ["blocker"]})
    everything = Alerts()
    t0 = fresh_t0()
    blocker = open_blocker(api, agent_key, aivo.tenant_id, t0)
    status, high = api.post(
        "/tickets",
        agent_key,
        {
            "tenant_id": aivo.tenant_id,
            "title": "Slow",
            "description": "Partial outage",
            "kind": "incident",
            "priority": "high",
            "reported_at": iso(t0),
        },
    )
    assert status == 201
    run_checker(api, t0 + timedelta(days=10))
    ids = {blocker, high["id"]}
    assert {(m["type"], m["priority"]) for m in oncall.drain(ids)} == {("sla.breached", "blocker")}
    assert len(oncall.drain(ids)) == 0
    assert {m["priority"] for m in everything.drain(ids)} == {"blocker", "high"}


def test_cli_check_prints_one_json_line(
    api: Api, agent_key: str, aivo: Customer, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib.cli import main

    t0 = fresh_t0()
    open_blocker(api, agent_key, aivo.tenant_id, t0)
    assert main(["check", "--at", iso(t0 + timedelta(minutes=50))]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(line)
    assert set(result) == {"workers", "queued", "evaluated", "alerts", "stopped"}
    assert result["alerts"] >= 1
    # the CLI's one error shape: one line, exit 1, no traceback
    assert main(["check", "--at", "yesterday"]) == 1
    err = capsys.readouterr().err
    assert err == "error: --at: not an RFC 3339 instant: 'yesterday'\n"


@pytest.fixture(autouse=True)
def _quiet_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def test_e9_the_checker_finishes_retargeting_a_policy_put_left(
    api: Api, admin_key: str, new_customer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A policy PUT re-targets a bounded batch; the next checker runs re-target
    the open tickets it did not reach, a batch each, even those with no threshold
    due."""
    from chalicelib.services import retarget
    from chalicelib.store import jobs

    monkeypatch.setattr(retarget, "BATCH_SIZE", 2)
    status, doc = api.get("/admin/policies/aivo", admin_key)
    policy_id = f"aivo-e9-{uuid.uuid4().hex[:8]}"
    status, stored = api.put(f"/admin/policies/{policy_id}", admin_key, {**doc, "id": policy_id})
    assert status == 200, stored
    tenant = new_customer(policy=policy_id)
    opened = [
        api.post(
            "/tickets",
            tenant.key,
            {"title": "Slow", "description": "Partial", "kind": "incident", "priority": "high"},
        )[1]["id"]
        for _ in range(5)
    ]
    changed = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    high = next(r for r in changed["target_rules"] if r["id"] == "A2.high")
    high["targets"][0]["hours"] = 3
    status, result = api.put(f"/admin/policies/{policy_id}", admin_key, changed)
    assert (result["retargeted"], result["remaining"]) == (2, 3)

    def versions() -> list[int]:
        return [api.get(f"/tickets/{t}", tenant.key)[1]["sla"]["policy_version"] for t in opened]

    run_checker(api, datetime.now(UTC))  # a batch (BATCH_SIZE) a run
    assert sorted(versions()) == [1, 2, 2, 2, 2]
    run_checker(api, datetime.now(UTC))

    for ticket_id in opened:
        _, ticket = api.get(f"/tickets/{ticket_id}", tenant.key)
        assert ticket["sla"]["policy_version"] == 2, ticket_id
        first = next(t for t in ticket["sla"]["targets"] if t["metric"] == "first_response")
        assert first["target_seconds"] == 3 * 3600
    assert all(job.policy_id != policy_id for job in jobs.pending())


def test_e9_a_tier_change_reaches_tickets_the_patch_did_not(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """K1 + E9: a tenant PATCH re-plans a bounded batch; a ticket it did not reach
    carries the old terms version, so the checker re-targets it before alerting."""
    from chalicelib.services import retarget

    keybe = new_customer(policy="keybe", tier="on_demand")
    t0 = fresh_t0()
    older, newer = (
        api.post(
            "/tickets",
            agent_key,
            {
                "tenant_id": keybe.tenant_id,
                "title": "Chats down",
                "description": "Since 9",
                "kind": "query",
                "reported_at": iso(t0),
            },
        )[1]["id"]
        for _ in range(2)
    )
    monkeypatch.setattr(retarget, "BATCH_SIZE", 1)
    status, _ = api.patch(f"/admin/tenants/{keybe.tenant_id}", admin_key, {"tier": "premium"})
    assert status == 200
    resolution = {
        tid: next(
            t
            for t in api.get(f"/tickets/{tid}", keybe.key)[1]["sla"]["targets"]
            if t["metric"] == "resolution"
        )["target_seconds"]
        for tid in (older, newer)
    }
    assert resolution == {newer: 2 * 3600, older: 48 * 3600}  # K1: the batch took the newest

    run_checker(api, t0 + timedelta(hours=36))  # 75 % of the OLD 48 h target
    _, ticket = api.get(f"/tickets/{older}", keybe.key)
    target = next(t for t in ticket["sla"]["targets"] if t["metric"] == "resolution")
    assert target["target_seconds"] == 2 * 3600
    assert target["state"] == "breached"


def _keybe_tickets(api: Api, agent_key: str, tenant_id: str, n: int) -> list[str]:
    body = {"tenant_id": tenant_id, "title": "Chats down", "description": "Since 9"}
    return [api.post("/tickets", agent_key, {**body, "kind": "query"})[1]["id"] for _ in range(n)]


def _resolution_hours(api: Api, key: str, ticket_id: str) -> float:
    targets = api.get(f"/tickets/{ticket_id}", key)[1]["sla"]["targets"]
    return float(next(t["target_seconds"] / 3600 for t in targets if t["metric"] == "resolution"))


def _tenant_job(tenant_id: str) -> Any:
    """The tenant's pending re-targeting job, None when there is none."""
    from chalicelib.store import jobs

    return next((j for j in jobs.pending() if j.tenant_id == tenant_id), None)


def test_e9_a_run_out_of_time_for_jobs_goes_on_from_where_it_stopped(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """K1 + E9: the tickets a tenant PATCH left are a job; a run with no time left
    for jobs moves nothing (the job keeps its place), the next runs finish it."""
    from chalicelib.services import retarget

    keybe = new_customer(policy="keybe", tier="on_demand")
    opened = _keybe_tickets(api, agent_key, keybe.tenant_id, 3)

    def resolution_hours() -> list[float]:
        return [_resolution_hours(api, keybe.key, tid) for tid in opened]

    def job() -> Any:
        return _tenant_job(keybe.tenant_id)

    monkeypatch.setattr(retarget, "BATCH_SIZE", 1)
    assert api.patch(f"/admin/tenants/{keybe.tenant_id}", admin_key, {"tier": "premium"})[0] == 200
    assert resolution_hours() == [48, 48, 2]  # the request took the newest
    left = job().after
    assert left == opened[2]

    monkeypatch.setattr(retarget, "JOBS_SECONDS", 0.0)
    run_checker(api, datetime.now(UTC))
    assert (resolution_hours(), job().after) == ([48, 48, 2], left)

    monkeypatch.setattr(retarget, "JOBS_SECONDS", 12.0)
    run_checker(api, datetime.now(UTC))
    assert resolution_hours() == [48, 2, 2]
    run_checker(api, datetime.now(UTC))
    assert resolution_hours() == [2, 2, 2]
    assert job() is None


def test_e9_a_run_never_overwrites_a_newer_changes_job(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that read a tenant's job before a second PATCH replaced it records
    its progress on the job it read only: the newer job stands, with its own
    place, and goes over the older tickets with the newer terms itself."""
    from chalicelib.services import retarget
    from chalicelib.store import jobs

    keybe = new_customer(policy="keybe", tier="on_demand")
    opened = _keybe_tickets(api, agent_key, keybe.tenant_id, 3)
    monkeypatch.setattr(retarget, "BATCH_SIZE", 1)
    path = f"/admin/tenants/{keybe.tenant_id}"
    assert api.patch(path, admin_key, {"tier": "premium"})[0] == 200
    (read,) = [j for j in jobs.pending() if j.tenant_id == keybe.tenant_id]
    assert api.patch(path, admin_key, {"tier": "standard"})[0] == 200
    (newer,) = [j for j in jobs.pending() if j.tenant_id == keybe.tenant_id]
    assert newer.version > read.version

    jobs.advance(read, opened[0], 0, "2026-11-30T10:00:00Z")  # the older run's progress

    (kept,) = [j for j in jobs.pending() if j.tenant_id == keybe.tenant_id]
    assert (kept.version, kept.after) == (newer.version, opened[2])


def test_e9_a_throttled_job_waits_and_the_runs_alerts_still_go_out(
    api: Api,
    admin_key: str,
    agent_key: str,
    aivo: Customer,
    alerts: Alerts,
    new_customer: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Jobs run after the run has sent what is due, and a job AWS throttles is
    left as it is for the next run: it never costs a minute's alerts."""
    from pynamodb.exceptions import QueryError

    from chalicelib.services import retarget
    from chalicelib.store import jobs
    from chalicelib.store import tickets as store

    keybe = new_customer(policy="keybe", tier="on_demand")
    _keybe_tickets(api, agent_key, keybe.tenant_id, 2)
    monkeypatch.setattr(retarget, "BATCH_SIZE", 1)
    assert api.patch(f"/admin/tenants/{keybe.tenant_id}", admin_key, {"tier": "premium"})[0] == 200
    (job,) = [j for j in jobs.pending() if j.tenant_id == keybe.tenant_id]
    t0 = fresh_t0()
    due = open_blocker(api, agent_key, aivo.tenant_id, t0)

    def throttled(*args: Any, **kwargs: Any) -> Any:
        error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
        raise QueryError("throttled", cause=ClientError(error, "Query"))

    monkeypatch.setattr(store, "open_for_tenant", throttled)
    run_checker(api, t0 + timedelta(minutes=46))

    assert keys(alerts.drain({due})) == [(due, "first_response", 75)]
    (waiting,) = [j for j in jobs.pending() if j.tenant_id == keybe.tenant_id]
    assert (waiting.version, waiting.after) == (job.version, job.after)


def test_e9_a_ticket_that_keeps_failing_is_passed_over_after_three_runs(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job stops at a ticket that fails; after MAX_STUCK runs stopped at the
    same one it passes over it (logged), so the older tickets still get the
    change."""
    from chalicelib.errors import Conflict
    from chalicelib.services import retarget, unit_of_work
    from chalicelib.store import tickets as store

    keybe = new_customer(policy="keybe", tier="on_demand")
    oldest, stuck, newest = _keybe_tickets(api, agent_key, keybe.tenant_id, 3)
    monkeypatch.setattr(retarget, "BATCH_SIZE", 1)
    monkeypatch.setattr(unit_of_work, "BACKOFF_SECONDS", 0.0)
    write = store.write

    def failing(ticket: Any, *args: Any, **kwargs: Any) -> None:
        if ticket.id == stuck:
            raise Conflict("it keeps changing", code="concurrent_update")
        write(ticket, *args, **kwargs)

    monkeypatch.setattr(store, "write", failing)
    assert api.patch(f"/admin/tenants/{keybe.tenant_id}", admin_key, {"tier": "premium"})[0] == 200

    def hours(ticket_id: str) -> float:
        return _resolution_hours(api, keybe.key, ticket_id)

    def job() -> Any:
        return _tenant_job(keybe.tenant_id)

    for run in range(1, retarget.MAX_STUCK + 1):
        run_checker(api, datetime.now(UTC))
        assert (hours(oldest), hours(stuck)) == (48, 48), run
    assert job().after == stuck  # passed over: the next run goes on after it
    run_checker(api, datetime.now(UTC))
    assert (hours(oldest), hours(stuck), hours(newest)) == (2, 48, 2)
    assert job() is None


# --- issue 14: the fan-out (docs/performance.md: the breach checker at burst scale) -------


def test_queued_workers_publish_every_alert_once_even_when_sqs_delivers_twice(
    api: Api,
    agent_key: str,
    aivo: Customer,
    alerts: Alerts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a work queue, the scheduled run only queues one task per worker; each
    `checker_worker` (SQS event source) evaluates its shards. SQS delivers at least
    once: a task delivered again publishes nothing more."""
    from chalicelib import aws
    from chalicelib.services import checker

    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName=f"checker-work-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    monkeypatch.setenv("CHECKER_QUEUE_URL", queue)
    monkeypatch.setenv("CHECKER_WORKERS", "4")
    monkeypatch.setattr(checker, "STOP_MARGIN_SECONDS", 0.0)  # the test client's 3 s clock
    t0 = fresh_t0()
    ids = {open_blocker(api, agent_key, aivo.tenant_id, t0) for _ in range(8)}

    result = run_checker(api, t0 + timedelta(minutes=61))
    assert (result["workers"], result["queued"], result["alerts"]) == (4, 4, 0)
    assert alerts.drain(ids) == []  # nothing published by the scheduled run itself

    bodies = []
    while got := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
        bodies += [m["Body"] for m in got]
    assert len(bodies) == 4
    tasks = [json.loads(b) for b in bodies]
    assert sorted(s for t in tasks for s in t["shards"]) == list(range(8))  # every shard once
    for body in bodies + bodies:  # every task delivered twice
        event = api.client.events.generate_sqs_event(message_bodies=[body])
        api.client.lambda_.invoke("checker_worker", event)
    expected = sorted((i, "first_response", p) for i in ids for p in (75, 100))
    assert keys(alerts.drain(ids)) == expected


def test_a_worker_stops_before_its_deadline_and_the_next_run_takes_the_rest(
    api: Api,
    agent_key: str,
    aivo: Customer,
    alerts: Alerts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker takes tickets a page at a time and stops when its deadline is near;
    what it left is still due, so the next run publishes it, each alert once."""
    from chalicelib.services import checker

    monkeypatch.setenv("CHECKER_WORKERS", "1")
    monkeypatch.setattr(checker, "BATCH_GET", 2)
    pages = iter(range(100))
    monkeypatch.setattr(checker.Deadline, "near", lambda self: next(pages) >= 1)  # one page
    t0 = fresh_t0()
    ids = {open_blocker(api, agent_key, aivo.tenant_id, t0) for _ in range(6)}
    at = t0 + timedelta(minutes=61)

    first = run_checker(api, at)
    assert (first["stopped"], first["evaluated"]) == (1, 2)
    assert len(alerts.drain(ids)) == 4  # two tickets, two thresholds each

    monkeypatch.setattr(checker.Deadline, "near", lambda self: False)
    second = run_checker(api, at + timedelta(minutes=1))
    assert (second["stopped"], second["evaluated"]) == (0, 4)
    assert len(alerts.drain(ids)) == 8
    run_checker(api, at + timedelta(minutes=2))
    assert alerts.drain(ids) == []


def test_a_transaction_dynamodb_cancels_for_throughput_is_throttling_not_a_lost_race(
    api: Api,
    agent_key: str,
    aivo: Customer,
    alerts: Alerts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DynamoDB throttles a transaction by cancelling it (TransactionCanceledException,
    reason ThrottlingError), as it cancels a lost race: the store tells them apart,
    so the worker leaves the ticket due at once instead of retrying it as a race
    (unit_of_work.retrying) and then dropping it as "kept changing"."""
    from pynamodb.connection import Connection
    from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

    t0 = fresh_t0()
    ids = sorted(open_blocker(api, agent_key, aivo.tenant_id, t0) for _ in range(3))
    original = Connection.transact_write_items
    refused: list[str] = []

    def cancelled(self: Any, *args: Any, **kwargs: Any) -> Any:
        puts = kwargs.get("put_items") or args[2]
        if not refused and any(ids[0] in str(item) for item in puts):
            refused.append(ids[0])
            error = {"Error": {"Code": "TransactionCanceledException", "Message": "throttled"}}
            reasons = [CancellationReason(code="ThrottlingError")] + [None] * (len(puts) - 1)
            cause = VerboseClientError(error, "TransactWriteItems", cancellation_reasons=reasons)
            raise TransactWriteError("throttled", cause=cause)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "transact_write_items", cancelled)
    at = t0 + timedelta(minutes=46)
    run_checker(api, at)
    assert refused == [ids[0]]  # refused once: a retry as a lost race would have passed
    assert {m["ticket_id"] for m in alerts.drain(set(ids))} == set(ids[1:])
    run_checker(api, at + timedelta(minutes=1))
    assert keys(alerts.drain(set(ids))) == [(ids[0], "first_response", 75)]


def test_a_throttled_ticket_is_left_for_the_next_run_not_the_whole_worker(
    api: Api,
    agent_key: str,
    aivo: Customer,
    alerts: Alerts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A burst can outrun DynamoDB's on-demand capacity: a transaction still
    throttled after botocore's retries leaves its ticket due; the others go out."""
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.store import tickets as ticket_store

    t0 = fresh_t0()
    ids = sorted(open_blocker(api, agent_key, aivo.tenant_id, t0) for _ in range(4))
    write = ticket_store.write

    def throttled_once(ticket: Any, *args: Any, **kwargs: Any) -> None:
        if ticket.id == ids[0] and not getattr(throttled_once, "done", False):
            throttled_once.done = True  # type: ignore[attr-defined]
            error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
            raise TransactWriteError("throttled", ClientError(error, "TransactWriteItems"))
        write(ticket, *args, **kwargs)

    monkeypatch.setattr(ticket_store, "write", throttled_once)
    at = t0 + timedelta(minutes=46)
    run_checker(api, at)
    assert {m["ticket_id"] for m in alerts.drain(set(ids))} == set(ids[1:])
    run_checker(api, at + timedelta(minutes=1))
    assert keys(alerts.drain(set(ids))) == [(ids[0], "first_response", 75)]
