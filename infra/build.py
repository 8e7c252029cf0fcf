"""Writes `infra/resources.json`, the template `chalice package --merge-template`
merges into the SAM template Chalice generates: the tables (from
chalicelib.store.schema, the same definitions the local stack uses; the main
table takes warm throughput from two parameters when they are set), the topics,
the checker's dead-letter queue, one least-privilege role policy per function
(naming this stack's own resources with Ref/GetAtt), log groups with a
retention, the schedule's retry limits, the API's throttling and gateway
responses, the alarms and the dashboard. Run `python -m infra.build`; a test
checks the committed file is what this writes.

Chalice's merge is a deep merge of objects (lists are replaced), so the entries
for `APIHandler`, `BreachChecker`, `RestAPI` and the two roles below complete or
override what Chalice generated.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from chalicelib.store import schema

OUT = Path(__file__).with_name("resources.json")
NAMESPACE = "slaguard"
# The `service` dimension Powertools adds to the checker's EMF metrics
# (chalicelib/services/checker.py: Metrics(service=...)).
CHECKER_SERVICE = "breach_checker"
# ... but its `single_metric` AlertsPublished takes the environment's
# POWERTOOLS_SERVICE_NAME (.chalice/config.json). tests/integration/test_dashboard.py
# compares both with the EMF a checker run prints.
APP_SERVICE = "slaguard"
API_STAGE = "api"  # .chalice/config.json: api_gateway_stage
CHECKER_MAX_EVENT_AGE = 180  # s: a run for an instant older than 3 minutes is useless
SENT_ALERT_TYPES = ("sla.warning", "sla.breached", "sla.escalated")  # what the checker raises

Json = dict[str, Any]


def _sub(text: str) -> Json:
    return {"Fn::Sub": text}


def _ref(name: str) -> Json:
    return {"Ref": name}


def _arn(name: str) -> Json:
    return {"Fn::GetAtt": [name, "Arn"]}


FUNCTIONS: dict[str, Json] = {
    # logical id -> what the function is called and where it logs
    "APIHandler": {
        "name": "${AWS::StackName}-api",
        "role": "ApiHandlerRole",
        "logs": "ApiLogs",
    },
    "BreachChecker": {
        "name": "${AWS::StackName}-breach-checker",
        "role": "BreachCheckerRole",
        "logs": "CheckerLogs",
    },
    # One per task of a run (README, Alerts: the breach checker at burst scale).
    "CheckerWorker": {
        "name": "${AWS::StackName}-checker-worker",
        "role": "CheckerWorkerRole",
        "logs": "WorkerLogs",
    },
}

# The checker's fan-out: the run queues one task per worker on `<stack>-checker-work`
# (app.WORK_QUEUE); Lambda's SQS event source runs one `checker_worker` per message.
# A full vCPU per worker (1,769 MB) is what bench/burst.py's model assumes; it works
# up to 52 s of its 60 (checker.STOP_MARGIN_SECONDS).
WORKER_TIMEOUT = 60
WORKER_MEMORY = 1769
# Lambda's event source polls the queue with the function's role (not the code).
QUEUE_POLLER_ACTIONS = ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]

# What each function calls on the main table (PynamoDB also describes a table
# before its first call). The IAM test (tests/integration/test_iam.py) checks every
# operation the integration suite performs against these.
API_TABLE_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]
# The scheduled run plans and queues the workers, and continues re-targeting (E9):
# it reads tickets, commits re-targeted ones (transactions of puts), keeps each
# job's progress and drops a finished job; it raises no alert. It also continues an
# approved proposal's notices (A8): writes them, publishes them and marks them sent.
CHECKER_TABLE_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",  # proposal notices marked sent (A8)
    "dynamodb:DeleteItem",  # a finished re-targeting or notice job (E9, A8)
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",  # a re-targeting job's progress
]
# A worker evaluates its shards' due tickets (checker.work): transactions of puts,
# its outbox shards' claims (UpdateItem) and alerts marked sent (BatchWriteItem).
WORKER_TABLE_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]
# Powertools' idempotency layer: conditional put, read, update, delete of a record.
IDEMPOTENCY_ACTIONS = [
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
]


def _statement(sid: str, actions: list[str], resources: list[Any]) -> Json:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _common_statements(logs: str) -> list[Json]:
    return [
        _statement("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], [_arn(logs)]),
        # X-Ray has no resource-level permissions: its actions only take "*".
        _statement("Traces", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]),
    ]


def _alerts_statement() -> Json:
    """Publishing alerts: the API (a request's own alerts), the workers and the
    scheduled run (an approved proposal's notices, A8)."""
    return _statement("Alerts", ["sns:Publish"], [_ref("AlertsTopic")])


def _table_statement(actions: list[str]) -> Json:
    return _statement("Table", actions, [_arn("Table"), _sub("${Table.Arn}/index/*")])


def role_policies() -> dict[str, list[Json]]:
    """Each function's own policy document (by role logical id)."""
    api = [
        *_common_statements("ApiLogs"),
        _alerts_statement(),
        _table_statement(API_TABLE_ACTIONS),
        _statement("Idempotency", IDEMPOTENCY_ACTIONS, [_arn("IdempotencyTable")]),
        # Partner webhook secrets (store/partners.py): encrypted on registration and
        # rotation, decrypted to verify a delivery; under this key only.
        _statement("WebhookSecrets", ["kms:Encrypt", "kms:Decrypt"], [_arn("WebhookKey")]),
    ]
    checker = [
        *_common_statements("CheckerLogs"),
        _alerts_statement(),  # an approved proposal's notices (A8)
        _table_statement(CHECKER_TABLE_ACTIONS),
        # Lambda delivers a failed run's event to the dead-letter queue with the
        # function's own role: without this it refuses to create the function.
        _statement("DeadLetters", ["sqs:SendMessage"], [_arn("CheckerDeadLetters")]),
        # The run queues its workers' tasks (SendMessageBatch).
        _statement("Work", ["sqs:SendMessage"], [_arn("CheckerWork")]),
    ]
    # A worker runs the checker's evaluation (checker.work) and publishes its alerts.
    worker = [
        *_common_statements("WorkerLogs"),
        _alerts_statement(),
        _table_statement(WORKER_TABLE_ACTIONS),
        _statement("Work", QUEUE_POLLER_ACTIONS, [_arn("CheckerWork")]),
    ]
    return {"ApiHandlerRole": api, "BreachCheckerRole": checker, "CheckerWorkerRole": worker}


def _role(statements: list[Json]) -> Json:
    return {
        "Properties": {
            "Policies": [
                {
                    "PolicyName": "least-privilege",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ]
        }
    }


def _environment() -> Json:
    return {
        "Variables": {
            "TABLE_NAME": _ref("Table"),
            "IDEMPOTENCY_TABLE_NAME": _ref("IdempotencyTable"),
            "ALERTS_TOPIC_ARN": _ref("AlertsTopic"),
            "WEBHOOK_KEY_ID": _ref("WebhookKey"),
        }
    }


def _function(logical_id: str, **more: Any) -> Json:
    spec = FUNCTIONS[logical_id]
    return {
        # The log group exists (with its retention) before the function can log.
        "DependsOn": [spec["logs"]],
        "Properties": {
            "FunctionName": _sub(spec["name"]),
            "Environment": _environment(),
            **more,
        },
    }


def _log_group(logical_id: str) -> Json:
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Delete",
        "Properties": {
            "LogGroupName": _sub("/aws/lambda/" + FUNCTIONS[logical_id]["name"]),
            "RetentionInDays": _ref("LogRetentionDays"),
        },
    }


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
    return {
        "Namespace": namespace,
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
    }


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


# The indexes a checker alert's writes touch, beside the table: every index the
# ticket item appears in whole (ProjectionType ALL: the item is rewritten there on
# each change), the due index (its next instant moves) and the outbox's unsent
# index (the alert's item comes and goes). A burst writes them all at once.
WARM_INDEXES = (
    schema.BY_TENANT_INDEX,
    schema.BY_STATUS_INDEX,
    schema.BY_PRIORITY_INDEX,
    schema.BREACHED_INDEX,
    schema.BY_REPORTED_INDEX,
    schema.DUE_INDEX,
    schema.OUTBOX_INDEX,
)


def _warm(condition: str, parameter: str) -> Json:
    """`WarmThroughput` from a parameter when its condition holds, else no property."""
    return {"Fn::If": [condition, {"WriteUnitsPerSecond": _ref(parameter)}, _ref("AWS::NoValue")]}


def main_table() -> Json:
    """The main table as the stack declares it: schema.MAIN_TABLE (the local stack's
    definition, left as it is) plus the warm throughput the stack's parameters ask
    for (docs/operations.md, Deploy). With the parameters at 0 it is MAIN_TABLE."""
    table: Json = copy.deepcopy(schema.MAIN_TABLE)
    table["WarmThroughput"] = _warm("HasWarmTable", "WarmTableWriteUnits")
    for index in table["GlobalSecondaryIndexes"]:
        if index["IndexName"] in WARM_INDEXES:
            index["WarmThroughput"] = _warm("HasWarmIndexes", "WarmIndexWriteUnits")
    return table


def _nonzero(parameter: str) -> Json:
    return {"Fn::Not": [{"Fn::Equals": [_ref(parameter), "0"]}]}


def _gateway_response(status: str | None, code: str, message: str, **headers: str) -> Json:
    """The contract's error shape, with a fixed message: never `$context.error.message`,
    which echoes the caller's Authorization header for an unsigned request."""
    body = json.dumps({"error": {"code": code, "message": message, "fields": {}}})
    quoted = {"Content-Type": "'application/json'", **{k: f"'{v}'" for k, v in headers.items()}}
    response: Json = {
        "ResponseParameters": {"Headers": quoted},
        "ResponseTemplates": {"application/json": body},
    }
    if status is not None:  # else API Gateway's own status stays
        response["StatusCode"] = status
    return response


def gateway_responses() -> Json:
    return {
        # API Gateway's answer to a route or method it does not know (a 403
        # "Missing Authentication Token" by default).
        "MISSING_AUTHENTICATION_TOKEN": _gateway_response("404", "not_found", "no such route"),
        "THROTTLED": _gateway_response(
            "429", "throttled", "too many requests; retry later", **{"Retry-After": "1"}
        ),
        "REQUEST_TOO_LARGE": _gateway_response("413", "too_large", "the body is too large"),
        # Any other answer of API Gateway itself, in the same shape and status.
        "DEFAULT_4XX": _gateway_response(None, "rejected", "the request was refused"),
        "DEFAULT_5XX": _gateway_response(
            None, "unavailable", "the service is unavailable; retry later", **{"Retry-After": "5"}
        ),
    }


def template() -> Json:
    return {
        "Parameters": {
            "AlertEmail": {
                "Type": "String",
                "Default": "",
                "Description": "E-mail for the ops alarms (confirm the mail SNS sends)",
            },
            "LogRetentionDays": {
                "Type": "Number",
                "Default": 30,
                "AllowedValues": [7, 14, 30, 60, 90, 180, 365],
            },
            "ApiRateLimit": {
                "Type": "Number",
                "Default": 50,
                "Description": "Steady requests per second the API accepts (then 429)",
            },
            "ApiBurstLimit": {"Type": "Number", "Default": 100},
            # On-demand capacity a burst of checker writes finds ready (README, sizing).
            "WarmTableWriteUnits": {
                "Type": "Number",
                "Default": 0,
                "MinValue": 0,
                "Description": "Write units/s the main table takes at once (0: DynamoDB's own)",
            },
            "WarmIndexWriteUnits": {
                "Type": "Number",
                "Default": 0,
                "MinValue": 0,
                "Description": "Write units/s each index a checker alert writes takes at once",
            },
        },
        "Conditions": {
            "HasAlertEmail": {"Fn::Not": [{"Fn::Equals": [_ref("AlertEmail"), ""]}]},
            "HasWarmTable": _nonzero("WarmTableWriteUnits"),
            "HasWarmIndexes": _nonzero("WarmIndexWriteUnits"),
        },
        "Resources": {
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": main_table(),
            },
            "IdempotencyTable": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Delete",
                "Properties": schema.IDEMPOTENCY_TABLE,
            },
            # The AWS managed key's own policy lets this account's principals use it
            # through SNS, so publishers need no KMS statement (a customer managed
            # key would: kms:GenerateDataKey* and kms:Decrypt for both roles).
            "AlertsTopic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {
                    "TopicName": _sub("${AWS::StackName}-alerts"),
                    "KmsMasterKeyId": "alias/aws/sns",
                },
            },
            # Not encrypted: CloudWatch alarms cannot publish to a topic encrypted
            # with the AWS managed key, and it carries alarm states, no ticket data.
            "OpsTopic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"TopicName": _sub("${AWS::StackName}-ops")},
            },
            "OpsEmail": {
                "Type": "AWS::SNS::Subscription",
                "Condition": "HasAlertEmail",
                "Properties": {
                    "TopicArn": _ref("OpsTopic"),
                    "Protocol": "email",
                    "Endpoint": _ref("AlertEmail"),
                },
            },
            # Encrypts partner helpdesks' webhook secrets at rest (only ciphertext is
            # stored, bound to its partner by the encryption context); the API's role
            # may Encrypt and Decrypt with it, the account administers it.
            "WebhookKey": {
                "Type": "AWS::KMS::Key",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "Description": _sub("${AWS::StackName}: partner webhook secrets"),
                    "EnableKeyRotation": True,
                    "KeyPolicy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "Account",
                                "Effect": "Allow",
                                "Principal": {
                                    "AWS": _sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
                                },
                                "Action": "kms:*",
                                "Resource": "*",
                            }
                        ],
                    },
                },
            },
            "WebhookKeyAlias": {
                "Type": "AWS::KMS::Alias",
                "Properties": {
                    "AliasName": _sub("alias/${AWS::StackName}-webhooks"),
                    "TargetKeyId": _ref("WebhookKey"),
                },
            },
            "CheckerDeadLetters": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
            },
            "ApiLogs": _log_group("APIHandler"),
            "CheckerLogs": _log_group("BreachChecker"),
            "WorkerLogs": _log_group("CheckerWorker"),
            "CheckerWork": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": _sub("${AWS::StackName}-checker-work"),  # app.WORK_QUEUE
                    "SqsManagedSseEnabled": True,
                    # AWS's advice for an SQS event source: 6x the function's timeout.
                    "VisibilityTimeout": 6 * WORKER_TIMEOUT,
                    # A task not done within 10 minutes is stale: later runs took its tickets.
                    "MessageRetentionPeriod": 600,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": _arn("CheckerDeadLetters"),
                        "maxReceiveCount": 2,
                    },
                },
            },
            "CheckerWorker": {
                **_function("CheckerWorker", Timeout=WORKER_TIMEOUT, MemorySize=WORKER_MEMORY),
                # Its event source names the queue by ARN: the queue must exist first.
                "DependsOn": ["WorkerLogs", "CheckerWork"],
            },
            **{role: _role(statements) for role, statements in role_policies().items()},
            "APIHandler": _function("APIHandler"),
            "BreachChecker": _function(
                "BreachChecker",
                Environment={
                    "Variables": {
                        **_environment()["Variables"],
                        "CHECKER_QUEUE_URL": _ref("CheckerWork"),  # fan out (README, Alerts)
                    }
                },
                DeadLetterQueue={"Type": "SQS", "TargetArn": _arn("CheckerDeadLetters")},
                # Lambda's own retries of a failed run (it is invoked asynchronously).
                EventInvokeConfig={
                    "MaximumRetryAttempts": 1,
                    "MaximumEventAgeInSeconds": CHECKER_MAX_EVENT_AGE,
                },
                Events={
                    "BreachCheckerEvent": {
                        "Properties": {
                            # EventBridge's retries when it cannot hand the event to Lambda.
                            "RetryPolicy": {
                                "MaximumRetryAttempts": 2,
                                "MaximumEventAgeInSeconds": CHECKER_MAX_EVENT_AGE,
                            }
                        }
                    }
                },
            ),
            "RestAPI": {
                "Properties": {
                    "Name": _sub("${AWS::StackName}"),
                    "TracingEnabled": True,
                    "MethodSettings": [
                        {
                            "ResourcePath": "/*",
                            "HttpMethod": "*",
                            "ThrottlingRateLimit": _ref("ApiRateLimit"),
                            "ThrottlingBurstLimit": _ref("ApiBurstLimit"),
                        }
                    ],
                    "GatewayResponses": gateway_responses(),
                }
            },
            **alarms(),
            "Dashboard": _dashboard(),
        },
        "Outputs": {
            "TableName": {"Value": _ref("Table")},
            "IdempotencyTableName": {"Value": _ref("IdempotencyTable")},
            "AlertsTopicArn": {"Value": _ref("AlertsTopic")},
            "OpsTopicArn": {"Value": _ref("OpsTopic")},
            "DeadLetterQueueUrl": {"Value": _ref("CheckerDeadLetters")},
            "BreachCheckerName": {"Value": _ref("BreachChecker")},
            "DashboardUrl": {
                "Value": _sub(
                    "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home"
                    "?region=${AWS::Region}#dashboards:name=${AWS::StackName}"
                )
            },
        },
    }


def render() -> str:
    return json.dumps(template(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    sys.stdout.write(f"wrote {OUT}\n")
