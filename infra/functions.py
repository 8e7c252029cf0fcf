"""The functions (API, scheduled run, workers) and what they run with: their
environment, log groups with a retention, the checker's queues, the topics."""

from __future__ import annotations

from typing import Any

from infra.common import FUNCTIONS, Json, _arn, _ref, _sub

CHECKER_MAX_EVENT_AGE = 180  # s: a run for an instant older than 3 minutes is useless
# The checker's fan-out: the run queues one task per worker on `<stack>-checker-work`
# (app.WORK_QUEUE); Lambda's SQS event source runs one `checker_worker` per message.
# A full vCPU per worker (1,769 MB) is what bench/burst.py's model assumes; it works
# up to 52 s of its 60 (checker.STOP_MARGIN_SECONDS).
WORKER_TIMEOUT = 60
WORKER_MEMORY = 1769


def _environment() -> Json:
    return {
        "Variables": {
            "TABLE_NAME": _ref("Table"),
            "IDEMPOTENCY_TABLE_NAME": _ref("IdempotencyTable"),
            "ALERTS_TOPIC_ARN": _ref("AlertsTopic"),
            "WEBHOOK_KEY_ID": _ref("WebhookKey"),
            "TICKET_LISTS": _ref("TicketLists"),
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


def topics() -> Json:
    return {
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
    }


def queues() -> Json:
    return {
        "CheckerDeadLetters": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
        },
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
    }


def functions() -> Json:
    return {
        "ApiLogs": _log_group("APIHandler"),
        "CheckerLogs": _log_group("BreachChecker"),
        "WorkerLogs": _log_group("CheckerWorker"),
        "CheckerWorker": {
            **_function("CheckerWorker", Timeout=WORKER_TIMEOUT, MemorySize=WORKER_MEMORY),
            # Its event source names the queue by ARN: the queue must exist first.
            "DependsOn": ["WorkerLogs", "CheckerWork"],
        },
        "APIHandler": _function("APIHandler"),
        "BreachChecker": _function(
            "BreachChecker",
            Environment={
                "Variables": {
                    **_environment()["Variables"],
                    "CHECKER_QUEUE_URL": _ref("CheckerWork"),  # fan out (docs/alerts.md)
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
    }


def resources() -> Json:
    return {**topics(), **queues(), **functions()}
