"""Monitoring: the alarms (each notifies the ops topic; docs/operations.md says
what each means and what to do) and the dashboard."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.store.schema import UNREADABLE_LOG_FIELD
from infra.common import API_STAGE, FUNCTIONS, Json, _ref, _sub

NAMESPACE = "slaguard"
# The `service` dimension Powertools adds to the checker's EMF metrics
# (chalicelib/services/checker.py: Metrics(service=...)).
CHECKER_SERVICE = "breach_checker"
# ... but its `single_metric` AlertsPublished takes the environment's
# POWERTOOLS_SERVICE_NAME (.chalice/config.json). tests/integration/test_dashboard.py
# compares both with the EMF a checker run prints.
APP_SERVICE = "slaguard"
SENT_ALERT_TYPES = ("sla.warning", "sla.breached", "sla.escalated")  # what the checker raises
# Metrics the stack counts from the functions' log lines (metric filters), not
# from the app's EMF: their own namespace.
LOGS_NAMESPACE = "slaguard/logs"
UNREADABLE_ITEMS = "UnreadableItems"


def _alarm(
    name: str,
    description: str,
    metric: Json,
    *,
    threshold: float,
    period: int = 60,
    evaluation_periods: int = 1,
    datapoints: int | None = None,
    statistic: str = "Sum",
    comparison: str = "GreaterThanOrEqualToThreshold",
    missing: str = "notBreaching",
) -> Json:
    stat: Json = (
        {"ExtendedStatistic": statistic} if statistic.startswith("p") else {"Statistic": statistic}
    )
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": _sub(f"${{AWS::StackName}}-{name}"),
            "AlarmDescription": description,
            "ComparisonOperator": comparison,
            "EvaluationPeriods": evaluation_periods,
            "DatapointsToAlarm": datapoints or evaluation_periods,
            "Period": period,
            "Threshold": threshold,
            "TreatMissingData": missing,
            "AlarmActions": [_ref("OpsTopic")],
            "OKActions": [_ref("OpsTopic")],
            **stat,
            **metric,
        },
    }


def _metric(namespace: str, name: str, dimensions: dict[str, Any]) -> Json:
    metric: Json = {"Namespace": namespace, "MetricName": name}
    if dimensions:
        metric["Dimensions"] = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    return metric


def _api_metric(name: str) -> Json:
    return _metric(
        "AWS/ApiGateway", name, {"ApiName": _sub("${AWS::StackName}"), "Stage": API_STAGE}
    )


def _checker_metric(name: str, function: str = "BreachChecker") -> Json:
    return _metric("AWS/Lambda", name, {"FunctionName": _ref(function)})


def _app_metric(name: str) -> Json:
    return _metric(NAMESPACE, name, {"service": CHECKER_SERVICE})


def alarms() -> dict[str, Json]:
    """What pages on-call (docs/operations.md says what each means and what to do)."""
    return {
        "ApiServerErrorsAlarm": _alarm(
            "api-5xx",
            "The API answered 5XX (API Gateway's count, whatever the Lambda said)",
            _api_metric("5XXError"),
            threshold=5,
            period=300,
        ),
        "ApiLatencyAlarm": _alarm(
            "api-latency-p99",
            "The API's p99 latency stayed above 3 s for 15 minutes",
            _api_metric("Latency"),
            statistic="p99",
            threshold=3000,
            period=300,
            evaluation_periods=3,
        ),
        "WorkerErrorsAlarm": _alarm(
            "checker-worker-errors",
            "A checker worker failed in 2 of the last 5 minutes (its tickets stay due)",
            _checker_metric("Errors", "CheckerWorker"),
            threshold=1,
            evaluation_periods=5,
            datapoints=2,
        ),
        "CheckerErrorsAlarm": _alarm(
            "checker-errors",
            "The breach checker failed in 2 of the last 5 minutes",
            _checker_metric("Errors"),
            threshold=1,
            evaluation_periods=5,
            datapoints=2,
        ),
        "CheckerThrottlesAlarm": _alarm(
            "checker-throttles",
            "The breach checker was throttled (account concurrency exhausted)",
            _checker_metric("Throttles"),
            threshold=1,
            period=300,
        ),
        # A worker throttled by the account's concurrency leaves its tickets' alerts
        # late (SQS hands its task back, and Lambda tries again later).
        "WorkerThrottlesAlarm": _alarm(
            "checker-worker-throttles",
            "A checker worker was throttled (account concurrency exhausted): alerts late",
            _checker_metric("Throttles", "CheckerWorker"),
            threshold=1,
            period=300,
        ),
        "CheckerNotRunningAlarm": _alarm(
            "checker-not-running",
            "The breach checker has not run for 5 minutes: no alert goes out",
            _checker_metric("Invocations"),
            threshold=1,
            period=300,
            comparison="LessThanThreshold",
            missing="breaching",
        ),
        "AlertLagAlarm": _alarm(
            "alert-lag",
            "An alert went out more than 2 minutes after its threshold instant",
            _app_metric("AlertLagSeconds"),
            statistic="Maximum",
            threshold=120,
            comparison="GreaterThanThreshold",
        ),
        # Each worker reports the alerts no publisher holds in its own outbox shards
        # (services/outbox.py: retry_unsent): their sum is the stack's backlog. A
        # minimum across workers would be 0 whenever one worker's shards are clean.
        "OutboxBacklogAlarm": _alarm(
            "outbox-backlog",
            "Alerts no publisher holds stayed unpublished in 3 of the last 5 minutes "
            "(SNS refusing?)",
            _app_metric("OutboxBacklog"),
            statistic="Sum",
            threshold=1,
            # not 5 of 5: a retry claims what it tries for 55 s, so a run that starts
            # early sees those claims still held and reads 0 during an outage
            evaluation_periods=5,
            datapoints=3,
        ),
        "UnreadableItemsAlarm": _alarm(
            "unreadable-items",
            "An item did not map (a hand-edited ticket, a missing or broken SLA rules "
            "item): its tickets are left out of lists and checker runs",
            _metric(LOGS_NAMESPACE, UNREADABLE_ITEMS, {}),
            threshold=1,
            period=300,
        ),
        "DeadLettersAlarm": _alarm(
            "checker-dead-letters",
            "A breach checker run failed every retry and was dead-lettered",
            _metric(
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": {"Fn::GetAtt": ["CheckerDeadLetters", "QueueName"]}},
            ),
            statistic="Maximum",
            threshold=1,
            period=300,
        ),
    }


def _widget(title: str, metrics: list[list[Any]], *, width: int = 12, **props: Any) -> Json:
    return {
        "type": "metric",
        "width": width,
        "height": 6,
        "properties": {
            "title": title,
            "metrics": metrics,
            "region": "${AWS::Region}",
            "period": 60,
            "stat": "Sum",
            **props,
        },
    }


def dashboard_widgets() -> list[Json]:
    api = ["AWS/ApiGateway"]
    api_dims = ["ApiName", "${AWS::StackName}", "Stage", API_STAGE]
    fn = ["FunctionName", "${BreachChecker}"]
    worker = ["FunctionName", "${CheckerWorker}"]
    svc = ["service", CHECKER_SERVICE]
    return [
        _widget(
            "Alerts published per type",
            [
                [NAMESPACE, "AlertsPublished", "service", APP_SERVICE, "type", t]
                for t in SENT_ALERT_TYPES
            ],
        ),
        _widget(
            "Alert lag (s, max) and outbox backlog (unheld unsent alerts, all workers)",
            [
                [NAMESPACE, "AlertLagSeconds", *svc, {"stat": "Maximum"}],
                # Each worker reports its own outbox shards: the backlog is their sum.
                [NAMESPACE, "OutboxBacklog", *svc, {"stat": "Sum", "yAxis": "right"}],
            ],
        ),
        _widget("Tickets evaluated per run", [[NAMESPACE, "TicketsEvaluated", *svc]]),
        _widget(
            "Breach checker: runs, errors, throttles",
            [
                ["AWS/Lambda", "Invocations", *fn],
                ["AWS/Lambda", "Errors", *fn],
                ["AWS/Lambda", "Throttles", *fn],
            ],
        ),
        _widget(
            "Checker workers: tasks, errors, throttles; duration (ms, max)",
            [
                ["AWS/Lambda", "Invocations", *worker],
                ["AWS/Lambda", "Errors", *worker],
                ["AWS/Lambda", "Throttles", *worker],
                ["AWS/Lambda", "Duration", *worker, {"stat": "Maximum", "yAxis": "right"}],
            ],
        ),
        _widget(
            "Checker queues: dead-lettered runs and tasks; oldest waiting task (s)",
            [
                [
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    "QueueName",
                    "${CheckerDeadLetters.QueueName}",
                ],
                # A task that waits is a worker that could not start (throttled?).
                [
                    "AWS/SQS",
                    "ApproximateAgeOfOldestMessage",
                    "QueueName",
                    "${CheckerWork.QueueName}",
                    {"yAxis": "right"},
                ],
            ],
            stat="Maximum",
        ),
        _widget(
            "API requests and errors",
            [
                [*api, "Count", *api_dims],
                [*api, "4XXError", *api_dims],
                [*api, "5XXError", *api_dims],
            ],
        ),
        _widget(
            "API latency (ms)",
            [
                [*api, "Latency", *api_dims, {"stat": "p99"}],
                [*api, "Latency", *api_dims, {"stat": "p50"}],
            ],
        ),
    ]


def _dashboard() -> Json:
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": _sub("${AWS::StackName}"),
            "DashboardBody": _sub(json.dumps({"widgets": dashboard_widgets()})),
        },
    }


def unreadable_filters() -> dict[str, Json]:
    """One metric filter per function's log group: each line that says an item did
    not map (`"unreadable": true`, chalicelib/store/schema.py) counts 1."""
    return {
        f"{logical_id}UnreadableItems": {
            "Type": "AWS::Logs::MetricFilter",
            "Properties": {
                "LogGroupName": _ref(spec["logs"]),
                "FilterPattern": f"{{ $.{UNREADABLE_LOG_FIELD} IS TRUE }}",
                "MetricTransformations": [
                    {
                        "MetricNamespace": LOGS_NAMESPACE,
                        "MetricName": UNREADABLE_ITEMS,
                        "MetricValue": "1",
                    }
                ],
            },
        }
        for logical_id, spec in FUNCTIONS.items()
    }


def resources() -> Json:
    return {**alarms(), **unreadable_filters(), "Dashboard": _dashboard()}
