"""Least privilege, proven (issue 13): every AWS operation the integration suite
performed from a function's code (recorded by a botocore event hook, see
conftest.py) is allowed by THAT function's role in the deployed template, with
the ARNs the template resolves to under a random stack name; and each role
grants no data action the suite never needed. Runs last (conftest orders it)."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import uuid
from typing import Any

import pytest

from tests.integration.helpers import ROOT
from tests.integration.operations import Operations
from tests.integration.test_stack import expanded_template

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS::")
REGION, ACCOUNT = "eu-west-3", "210987654321"
# Granted for what the Lambda runtime does with the role, not the code: logs,
# traces, the dead-letter delivery of a failed asynchronous run, and the SQS event
# source polling the work queue for the worker.
RUNTIME_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
    "sqs:SendMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
}
# PynamoDB describes a table on a cold start (its first call per container); the
# suite's session-wide connection does that once, outside any function.
COLD_START_ACTIONS = {"dynamodb:DescribeTable"}


class Stack:
    """Resolves Ref / GetAtt / Sub the way CloudFormation would for this stack."""

    def __init__(self, name: str) -> None:
        suffix = uuid.uuid4().hex[:12].upper()
        self.name = name
        self.table = f"{name}-Table-{suffix}"
        self.idempotency = f"{name}-IdempotencyTable-{suffix}"
        self.refs = {
            "Table": self.table,
            "IdempotencyTable": self.idempotency,
            "AlertsTopic": self.arn("sns", f"{name}-alerts"),
            "CheckerDeadLetters": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/dlq-{suffix}",
            "CheckerWork": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}-checker-work",
            "WebhookKey": str(uuid.uuid4()),
            "AWS::StackName": name,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
        }
        self.attrs = {
            "Table.Arn": self.arn("dynamodb", f"table/{self.table}"),
            "IdempotencyTable.Arn": self.arn("dynamodb", f"table/{self.idempotency}"),
            "CheckerDeadLetters.Arn": self.arn("sqs", f"dlq-{suffix}"),
            "CheckerWork.Arn": self.arn("sqs", f"{name}-checker-work"),
            "ApiLogs.Arn": self.arn("logs", f"log-group:/aws/lambda/{name}-api:*"),
            "CheckerLogs.Arn": self.arn("logs", f"log-group:/aws/lambda/{name}-breach-checker:*"),
            "WorkerLogs.Arn": self.arn("logs", f"log-group:/aws/lambda/{name}-checker-worker:*"),
            "WebhookKey.Arn": self.arn("kms", f"key/{uuid.uuid4()}"),
        }

    @staticmethod
    def arn(service: str, resource: str) -> str:
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self.refs[value["Ref"]]
        if "Fn::GetAtt" in value:
            return self.attrs[".".join(value["Fn::GetAtt"])]
        if "Fn::Sub" in value:
            names = {**self.refs, **self.attrs}
            return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], value["Fn::Sub"])
        return {k: self.resolve(v) for k, v in value.items()}


def role_statements(template: dict[str, Any], function: str, stack: Stack) -> list[dict[str, Any]]:
    resources = template["Resources"]
    role = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in resources[role]["Properties"]["Policies"]:
        statements += stack.resolve(policy["PolicyDocument"]["Statement"])
    return statements


def allowed(statements: list[dict[str, Any]], action: str, arn: str) -> bool:
    def listed(value: Any) -> list[str]:
        return value if isinstance(value, list) else [value]

    return any(
        s["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in listed(s["Action"]))
        and any(fnmatch.fnmatchcase(arn, r) for r in listed(s["Resource"]))
        for s in statements
    )


def test_every_operation_the_suite_performed_is_allowed_and_nothing_more(
    request: pytest.FixtureRequest, record_operations: Operations
) -> None:
    others = [i for i in request.session.items if "tests/integration/" in i.nodeid]
    if len(others) < 20:
        pytest.skip("reads what the whole integration suite did: run it with the suite")
    template = expanded_template()
    stack = Stack(f"sg-{uuid.uuid4().hex[:8]}")
    # The names the code used, by the template resource they stand for: the test
    # stage's (.chalice/config.json) and those of the stack test_stack.py created.
    names = {
        os.environ["TABLE_NAME"]: "Table",
        os.environ["IDEMPOTENCY_TABLE_NAME"]: "IdempotencyTable",
    }
    topics = {os.environ["ALERTS_TOPIC_ARN"]}
    from chalicelib import aws

    cfn = aws.client("cloudformation")
    for summary in cfn.list_stacks()["StackSummaries"]:
        for r in cfn.describe_stack_resources(StackName=summary["StackName"])["StackResources"]:
            if r.get("LogicalResourceId") in ("Table", "IdempotencyTable"):
                names[r["PhysicalResourceId"]] = r["LogicalResourceId"]
            if r.get("LogicalResourceId") == "AlertsTopic":
                topics.add(r["PhysicalResourceId"])

    def as_deployed(resource: str) -> str:
        if resource in topics:
            return str(stack.refs["AlertsTopic"])
        if resource.startswith(("http://", "https://")):  # a queue URL: the work queue's
            return str(stack.attrs["CheckerWork.Arn"])
        if resource == "kms:webhook-key":
            return str(stack.attrs["WebhookKey.Arn"])
        match = re.fullmatch(r"table/([^/]+)(/index/.+)?", resource)
        assert match, f"an operation on {resource}: not a resource of the stack"
        assert match.group(1) in names, f"table {match.group(1)} is not one of the stack's"
        table = stack.refs[names[match.group(1)]]
        return stack.arn("dynamodb", f"table/{table}{match.group(2) or ''}")

    seen = sorted(record_operations.seen)
    functions = {f for f, _, _ in seen}
    assert functions == {"APIHandler", "BreachChecker", "CheckerWorker"}, functions
    denied = []
    for function, action, resource in seen:
        statements = role_statements(template, function, stack)
        if not allowed(statements, action, as_deployed(resource)):
            denied.append((function, action, resource))
    assert denied == [], denied

    # Least privilege: no data action granted that no call of the suite needed.
    for function in functions:
        used = {a for f, a, _ in seen if f == function} | RUNTIME_ACTIONS | COLD_START_ACTIONS
        granted = {a for s in role_statements(template, function, stack) for a in s["Action"]}
        assert granted - used == set(), (function, granted - used)
    # What each function calls, for a reader of the roles (and the figures).
    report = [{"function": f, "action": a, "resource": r} for f, a, r in seen]
    (ROOT / "out" / "iam-operations.json").write_text(json.dumps(report, indent=1) + "\n")
