"""The dashboard and the alarms query exactly the metrics the code emits: the EMF
a real checker run prints (captured from stdout) names each metric with its
dimensions, and CloudWatch matches a widget only on the same name AND the same
dimension set (Powertools adds `service`)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from infra import build
from tests.integration.helpers import Api, Customer, fresh_t0, open_blocker, run_checker

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
    run_checker(api, t0 + timedelta(hours=2, minutes=1))
    return emitted(capsys.readouterr().out)


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
