"""The dashboard and the alarms query exactly the metrics the code emits: the EMF
a real checker run prints (captured from stdout) names each metric with its
dimensions, and CloudWatch matches a widget only on the same name AND the same
dimension set (Powertools adds `service`)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra import build
from tests.integration.helpers import (
    Api,
    Customer,
    RequestClock,
    fresh_t0,
    open_blocker,
    run_checker,
)

QUERY = {"title": "Question", "description": "How do I export?", "kind": "query"}

Metric = tuple[str, str, frozenset[tuple[str, str]]]  # namespace, name, dimensions


def emitted(stdout: str) -> set[Metric]:
    """Every (namespace, metric, dimensions) in the EMF lines of a run's output."""
    found: set[Metric] = set()
    for line in stdout.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dims = frozenset((d, str(blob[d])) for d in dimension_set)
                for metric in directive["Metrics"]:
                    found.add((directive["Namespace"], metric["Name"], dims))
    return found


def dashboard_metrics() -> set[Metric]:
    """The app's metrics the dashboard's widgets query (AWS/* ones are AWS's)."""
    found: set[Metric] = set()
    for widget in build.dashboard_widgets():
        for row in widget["properties"]["metrics"]:
            parts = [p for p in row if not isinstance(p, dict)]
            namespace, name, flat = parts[0], parts[1], parts[2:]
            if namespace == build.NAMESPACE:
                found.add((namespace, name, frozenset(zip(flat[::2], flat[1::2], strict=True))))
    return found


def alarm_metrics() -> set[Metric]:
    found: set[Metric] = set()
    for alarm in build.alarms().values():
        props = alarm["Properties"]
        if props["Namespace"] == build.NAMESPACE:
            dims = frozenset((d["Name"], d["Value"]) for d in props["Dimensions"])
            found.add((props["Namespace"], props["MetricName"], dims))
    return found


@pytest.fixture
def run_output(
    api: Api, agent_key: str, customer: Customer, capsys: pytest.CaptureFixture[str]
) -> set[Metric]:
    """A checker run that raises every alert type it can: a blocker past 200 %."""
    t0 = fresh_t0()
    open_blocker(api, agent_key, customer.tenant_id, t0)
    capsys.readouterr()
    result = run_checker(api, t0 + timedelta(hours=2, minutes=1))
    out = capsys.readouterr().out
    # (a run that raised nothing emits no alert metric: say so, not just which is missing)
    assert result["alerts"] >= 4, (result, out[-2000:])
    assert result["stopped"] == 0, (result, out[-2000:])
    return emitted(out)


def test_every_dashboard_widget_and_alarm_queries_a_metric_a_checker_run_emits(
    run_output: set[Metric],
) -> None:
    assert run_output, "no EMF captured"
    assert dashboard_metrics() - run_output == set()
    assert alarm_metrics() - run_output == set()


def test_every_metric_the_checker_emits_is_on_the_dashboard(run_output: set[Metric]) -> None:
    ours = {m for m in run_output if m[0] == build.NAMESPACE}
    assert {name for _, name, _ in ours} >= {
        "AlertsPublished",
        "AlertLagSeconds",
        "TicketsEvaluated",
        "OutboxBacklog",
    }
    assert ours - dashboard_metrics() == set()


def backlog_values(stdout: str) -> list[float]:
    """Each OutboxBacklog value in a run's EMF, in the order the workers flushed."""
    values: list[float] = []
    for line in stdout.splitlines():
        if '"_aws"' in line and '"OutboxBacklog"' in line:
            value = json.loads(line)["OutboxBacklog"]
            values += value if isinstance(value, list) else [value]
    return values


def test_outbox_backlog_counts_alerts_no_publisher_holds_and_the_workers_add_up(
    api: Api,
    agent_key: str,
    customer: Customer,
    new_customer: Any,
    clock: RequestClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SNS refuses every alert. The alerts a run wrote and could not publish are
    the backlog once their run's claim lapses; an alert a request claimed seconds ago
    is not (its publisher is alive). Each worker reports its own outbox shards, so
    the backlog is the SUM of the workers' values (what the alarm and widget read)."""
    from chalicelib import aws
    from chalicelib.services import outbox
    from chalicelib.store.outbox import outbox_shard

    workers = 3
    monkeypatch.setenv("CHECKER_WORKERS", str(workers))  # in process, one after another
    wall = [time.time()]
    monkeypatch.setattr(outbox, "wall_clock", lambda: wall[0])
    t0 = fresh_t0()
    wall[0] += 3600  # whatever earlier tests left unsent has lapsed: publish it now
    run_checker(api, t0)

    ids = [open_blocker(api, agent_key, customer.tenant_id, t0) for _ in range(8)]

    def refused(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, "PublishBatch")

    with monkeypatch.context() as sns_down:
        sns_down.setattr(aws.client("sns"), "publish_batch", refused)
        run_checker(api, t0 + timedelta(minutes=46))  # 8 warnings written, none published
        wall[0] += 60  # that run's claims lapse
        # DX5: a request raises an alert, claims it and (SNS down) cannot publish it.
        clock.set("2026-11-10T13:00:00Z")
        blocked = new_customer(
            policy="digital_express", contract={"active": False}, flags=["disabled"]
        )
        status, review = api.post("/tickets", blocked.key, {**QUERY, "channel": "email"})
        assert (status, review["status"]) == (201, "commercial_review")
        capsys.readouterr()
        run_checker(api, t0 + timedelta(minutes=47))
        stuck = backlog_values(capsys.readouterr().out)

    # One value per worker: the stuck warnings of the outbox shards it retries
    # (checker.plan deals shard s to worker s % workers); the request's is not one.
    shard_of = [int(outbox_shard(i).split("#")[1]) for i in ids]
    assert stuck == [sum(1 for s in shard_of if s % workers == k) for k in range(workers)]
    assert sum(stuck) == len(ids)

    wall[0] += 60  # SNS back: the next run publishes them all (the request's too)
    capsys.readouterr()
    run_checker(api, t0 + timedelta(minutes=48))
    assert sum(backlog_values(capsys.readouterr().out)) == len(ids) + 1
    run_checker(api, t0 + timedelta(minutes=49))
    assert sum(backlog_values(capsys.readouterr().out)) == 0


def test_a_run_flushes_only_its_own_metrics(
    api: Api, agent_key: str, customer: Customer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Powertools' `Metrics` share one set per process: a run flushing it would
    also flush (or empty) what another run or thread was collecting, which two
    overlapping runs on the local stack did ("No application metrics to
    publish"). Each worker records into its own set."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    shared = Metrics(namespace=build.NAMESPACE)
    shared.add_metric(name="SomeoneElses", unit=MetricUnit.Count, value=1)
    try:
        t0 = fresh_t0()
        open_blocker(api, agent_key, customer.tenant_id, t0)
        capsys.readouterr()
        run_checker(api, t0 + timedelta(minutes=46))
        names = {name for _, name, _ in emitted(capsys.readouterr().out)}
        assert "TicketsEvaluated" in names
        assert "SomeoneElses" not in names
        assert "SomeoneElses" in shared.metric_set  # still there for its owner
    finally:
        shared.clear_metrics()
