"""Writes `infra/resources.json`, the template `chalice package --merge-template`
merges into the generated SAM template: tables (from chalicelib.store.schema, the
same definitions the local stack uses), the alerts topic, the checker's DLQ,
alarms, a dashboard, and the checker's work queue and worker settings. Run
`python -m infra.build`; a test checks the committed file is what this writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from chalicelib.store.schema import IDEMPOTENCY_TABLE, MAIN_TABLE

OUT = Path(__file__).with_name("resources.json")
NAMESPACE = "slaguard"


def _alarm(name: str, metric: dict[str, Any], threshold: float, description: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": f"${{AWS::StackName}}-{name}"},
            "AlarmDescription": description,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "EvaluationPeriods": 1,
            "Period": 300,
            "Statistic": "Sum",
            "Threshold": threshold,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "OpsTopic"}],
            **metric,
        },
    }


def _lambda_metric(function: str, metric: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function}}],
    }


def _environment() -> dict[str, Any]:
    return {
        "Environment": {
            "Variables": {
                "TABLE_NAME": {"Ref": "Table"},
                "IDEMPOTENCY_TABLE_NAME": {"Ref": "IdempotencyTable"},
                "ALERTS_TOPIC_ARN": {"Ref": "AlertsTopic"},
            }
        }
    }


def _dashboard() -> dict[str, Any]:
    widgets = [
        {
            "type": "metric",
            "width": 12,
            "properties": {
                "title": "Alerts published per type",
                "metrics": [
                    [NAMESPACE, "AlertsPublished", "type", t]
                    for t in ("sla.warning", "sla.breached", "sla.escalated")
                ],
                "stat": "Sum",
                "period": 300,
                "region": "${AWS::Region}",
            },
        },
        {
            "type": "metric",
            "width": 12,
            "properties": {
                "title": "Alert lag (s) and tickets evaluated",
                "metrics": [
                    [NAMESPACE, "AlertLagSeconds", {"stat": "Maximum"}],
                    [NAMESPACE, "TicketsEvaluated", {"stat": "Sum"}],
                ],
                "period": 60,
                "region": "${AWS::Region}",
            },
        },
        {
            "type": "metric",
            "width": 24,
            "properties": {
                "title": "Lambda errors",
                "metrics": [
                    ["AWS/Lambda", "Errors", "FunctionName", "${APIHandler}"],
                    ["AWS/Lambda", "Errors", "FunctionName", "${BreachChecker}"],
                    ["AWS/Lambda", "Errors", "FunctionName", "${CheckerWorker}"],
                ],
                "stat": "Sum",
                "period": 300,
                "region": "${AWS::Region}",
            },
        },
    ]
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": {"Fn::Sub": "${AWS::StackName}"},
            "DashboardBody": {"Fn::Sub": json.dumps({"widgets": widgets})},
        },
    }


# The breach checker's fan-out (README, Alerts: the breach checker at burst scale):
# the scheduled run queues one task per worker; Lambda's SQS event source runs one
# `checker_worker` per message. A full vCPU per worker (1,769 MB) is what the
# burst bench's model assumes; 60 s, of which the worker uses up to 52.
WORKER_TIMEOUT = 60
WORKER_MEMORY = 1769


def checker_fanout() -> dict[str, Any]:
    """The work queue and the worker function's settings."""
    return {
        "CheckerWork": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                # The name app.py's event source reads (app.WORK_QUEUE).
                "QueueName": {"Fn::Sub": "${AWS::StackName}-checker-work"},
                # AWS's advice for an SQS event source: 6x the function's timeout.
                "VisibilityTimeout": 6 * WORKER_TIMEOUT,
                # A task not done in 10 minutes is stale: later runs took its tickets.
                "MessageRetentionPeriod": 600,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["CheckerDeadLetters", "Arn"]},
                    "maxReceiveCount": 2,
                },
            },
        },
        "CheckerWorker": {
            # Its event source names the queue by ARN: the queue must exist first.
            "DependsOn": ["CheckerWork"],
            "Properties": {
                **_environment(),
                "Timeout": WORKER_TIMEOUT,
                "MemorySize": WORKER_MEMORY,
            },
        },
        "WorkerErrorsAlarm": _alarm(
            "checker-worker-errors",
            _lambda_metric("CheckerWorker", "Errors"),
            1,
            "A breach checker worker failed (its tickets stay due: the next run retries)",
        ),
    }


def template() -> dict[str, Any]:
    return {
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": MAIN_TABLE,
            },
            "IdempotencyTable": {"Type": "AWS::DynamoDB::Table", "Properties": IDEMPOTENCY_TABLE},
            "AlertsTopic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"TopicName": {"Fn::Sub": "${AWS::StackName}-alerts"}},
            },
            "OpsTopic": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "CheckerDeadLetters": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"MessageRetentionPeriod": 1209600},
            },
            "APIHandler": {"Properties": _environment()},
            "BreachChecker": {
                "Properties": {
                    "Environment": {
                        "Variables": {
                            **_environment()["Environment"]["Variables"],
                            "CHECKER_QUEUE_URL": {"Ref": "CheckerWork"},
                        }
                    },
                    "DeadLetterQueue": {
                        "Type": "SQS",
                        "TargetArn": {"Fn::GetAtt": ["CheckerDeadLetters", "Arn"]},
                    },
                }
            },
            "CheckerErrorsAlarm": _alarm(
                "checker-errors",
                _lambda_metric("BreachChecker", "Errors"),
                1,
                "The breach checker failed",
            ),
            "ApiErrorsAlarm": _alarm(
                "api-errors",
                _lambda_metric("APIHandler", "Errors"),
                5,
                "The API Lambda raised errors",
            ),
            "DeadLettersAlarm": _alarm(
                "checker-dead-letters",
                {
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [
                        {
                            "Name": "QueueName",
                            "Value": {"Fn::GetAtt": ["CheckerDeadLetters", "QueueName"]},
                        }
                    ],
                },
                1,
                "A breach checker invocation was dead-lettered",
            ),
            "Dashboard": _dashboard(),
            **checker_fanout(),
        },
        "Outputs": {
            "AlertsTopicArn": {"Value": {"Ref": "AlertsTopic"}},
            "TableName": {"Value": {"Ref": "Table"}},
        },
    }


def render() -> str:
    return json.dumps(template(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    sys.stdout.write(f"wrote {OUT}\n")
