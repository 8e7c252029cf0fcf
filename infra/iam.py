"""Security: one least-privilege role policy per function (naming this stack's
own resources with Ref/GetAtt), and the KMS key of partner webhook secrets.
tests/integration/test_iam.py checks every operation the integration suite
performs against these."""

from __future__ import annotations

from typing import Any

from infra.common import Json, _arn, _ref, _sub

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


def webhook_key() -> Json:
    """Encrypts partner helpdesks' webhook secrets at rest (only ciphertext is
    stored, bound to its partner by the encryption context); the API's role may
    Encrypt and Decrypt with it, the account administers it."""
    return {
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
    }


def resources() -> Json:
    return {
        **{role: _role(statements) for role, statements in role_policies().items()},
        **webhook_key(),
    }
