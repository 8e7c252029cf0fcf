"""The stack as CloudFormation creates it: the packaged template with its SAM
transform expanded offline (`make package` writes out/expanded.json) is created
in moto's CloudFormation under a random stack name; then an operator bootstraps
from the stack's outputs, a customer opens a ticket and the breach checker runs
once, in-process, each function with the environment variables the template
gives it. (moto skips a few types it lacks: the API stage, alarms, the e-mail
subscription, the invoke config, the gateway responses; it cannot deploy a REST
API defined by an OpenAPI body, so the test leaves out its deployment and stage.)"""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.helpers import ROOT, reset_connections

EXPANDED = ROOT / "out" / "expanded.json"
SETTINGS = ("TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "ALERTS_TOPIC_ARN")
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS::")
MOTO_CANNOT_CREATE = {"AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"}


def expanded_template() -> dict[str, Any]:
    assert EXPANDED.exists(), "run `make package` first (it writes out/expanded.json)"
    template: dict[str, Any] = json.loads(EXPANDED.read_text())
    return template


def _code_bucket(template: dict[str, Any]) -> None:
    """Upload a stand-in for the function zip where the template says it is."""
    from chalicelib import aws

    s3 = aws.client("s3")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("app.py", "")
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            code = resource["Properties"]["Code"]
            s3.create_bucket(Bucket=code["S3Bucket"])
            s3.put_object(Bucket=code["S3Bucket"], Key=code["S3Key"], Body=buffer.getvalue())


@pytest.fixture(scope="module")
def stack(aws_mock: None) -> dict[str, Any]:
    """The stack, created under a random name; its outputs and each function's
    environment as Lambda holds it."""
    from chalicelib import aws

    template = expanded_template()
    template["Resources"] = {
        k: v for k, v in template["Resources"].items() if v["Type"] not in MOTO_CANNOT_CREATE
    }
    _code_bucket(template)
    name = f"sg-{uuid.uuid4().hex[:10]}"
    cfn = aws.client("cloudformation")
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    (described,) = cfn.describe_stacks(StackName=name)["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE", described
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
        if "PhysicalResourceId" in r  # moto lists the types it skipped without one
    }
    lam = aws.client("lambda")
    env = {
        logical: lam.get_function_configuration(FunctionName=physical[logical])["Environment"][
            "Variables"
        ]
        for logical in ("APIHandler", "BreachChecker")
    }
    return {"name": name, "outputs": outputs, "physical": physical, "env": env}


def test_the_stack_names_its_own_resources_under_any_stack_name(stack: dict[str, Any]) -> None:
    name, outputs, env = stack["name"], stack["outputs"], stack["env"]
    for function_env in env.values():
        assert function_env["TABLE_NAME"] == outputs["TableName"]
        assert function_env["IDEMPOTENCY_TABLE_NAME"] == outputs["IdempotencyTableName"]
        assert function_env["ALERTS_TOPIC_ARN"] == outputs["AlertsTopicArn"]
    assert outputs["AlertsTopicArn"].endswith(f":{name}-alerts")
    assert not outputs["TableName"].startswith("slaguard-")  # generated, not a stage's
    assert stack["physical"]["APIHandler"] == f"{name}-api"
    assert stack["physical"]["BreachChecker"] == f"{name}-breach-checker"
    assert stack["physical"]["CheckerWorker"] == f"{name}-checker-worker"


def test_log_groups_keep_logs_for_a_retention(stack: dict[str, Any]) -> None:
    from chalicelib import aws

    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")
    mine = {
        g["logGroupName"]: g.get("retentionInDays")
        for g in groups["logGroups"]
        if stack["name"] in g["logGroupName"]
    }
    assert mine == {
        f"/aws/lambda/{stack['name']}-api": 30,
        f"/aws/lambda/{stack['name']}-breach-checker": 30,
        f"/aws/lambda/{stack['name']}-checker-worker": 30,
    }


def test_bootstrap_from_the_outputs_then_a_ticket_and_one_checker_run(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalice.config import Config
    from chalice.test import TestHTTPClient, TestLambdaClient

    import app as application
    from chalicelib import aws, cli
    from tests.integration.helpers import Alerts

    for key in SETTINGS:  # bootstrap sets them from the outputs: restored afterwards
        monkeypatch.setenv(key, os.environ.get(key, ""))
    reset_connections()

    # Given an operator who bootstraps against the stack (never a stage's names)
    assert cli.main(["bootstrap", "--stack", stack["name"]]) == 0
    admin = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["api_key"]
    assert os.environ["TABLE_NAME"] == stack["outputs"]["TableName"]
    scan = aws.client("dynamodb").scan(TableName=stack["outputs"]["TableName"], Select="COUNT")
    assert scan["Count"] > 0  # the provider tenant, its key, the shipped policies

    # ... and the functions, each with the environment the template gave it
    config = Config(
        chalice_stage="stack",
        config_from_disk={
            "app_name": "slaguard",
            "stages": {
                "stack": {
                    "environment_variables": stack["env"]["APIHandler"],
                    "lambda_functions": {
                        # in process: without its queue the run calls the workers
                        # itself (the queue path: test_checker.py, queued workers)
                        "breach_checker": {
                            "environment_variables": {
                                k: v
                                for k, v in stack["env"]["BreachChecker"].items()
                                if k != "CHECKER_QUEUE_URL"
                            }
                        }
                    },
                }
            },
        },
    )
    http = TestHTTPClient(application.app, config)
    invoke = TestLambdaClient(application.app, config)
    subscriber = Alerts()  # subscribes to ALERTS_TOPIC_ARN: now the stack's topic

    def call(method: str, path: str, key: str, body: Any) -> tuple[int, Any]:
        response = http.request(
            method,
            path,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            body=json.dumps(body).encode(),
        )
        return response.status_code, json.loads(response.body)

    # When a customer opens a blocker and the checker runs past its first response
    status, _ = call(
        "POST", "/admin/tenants", admin, {"id": "acme", "name": "Acme SA", "policy": "aivo"}
    )
    assert status == 201
    status, issued = call("POST", "/admin/tenants/acme/keys", admin, {"role": "customer"})
    assert status == 201
    status, ticket = call(
        "POST",
        "/tickets",
        issued["api_key"],
        {"title": "Down", "description": "All of it", "kind": "incident", "priority": "blocker"},
    )
    assert status == 201, ticket
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    event = {"id": str(uuid.uuid4()), "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": {}}
    event.update({"source": "aws.events", "detail-type": "Scheduled Event", "resources": []})
    event.update({"version": "0", "account": "123456789012", "region": "us-east-1"})
    result = invoke.invoke("breach_checker", event).payload

    # Then the alerts went out on the stack's own topic, into the stack's own table
    assert result["evaluated"] >= 1, result
    assert result["alerts"] >= 2, result
    got = subscriber.drain({ticket["id"]})
    assert {"sla.warning", "sla.breached"} <= {m["type"] for m in got}
    stored = aws.client("dynamodb").get_item(
        TableName=stack["outputs"]["TableName"],
        Key={"pk": {"S": f"TICKET#{ticket['id']}"}, "sk": {"S": "TICKET"}},
    )
    assert "Item" in stored


def test_every_cli_command_names_the_stack_and_api_url_prints_its_endpoint(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 25: `--stack` instead of three variables set by hand, and the URL
    `make deploy` prints at the end, from the stack's outputs."""
    from chalicelib import cli

    for key in SETTINGS:  # --stack sets them from the outputs: restored afterwards
        monkeypatch.setenv(key, os.environ.get(key, ""))
    reset_connections()
    assert cli.main(["bootstrap", "--stack", stack["name"]]) == 0
    capsys.readouterr()
    assert cli.main(["api-url", "--stack", stack["name"]]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["api_url"] == stack["outputs"]["EndpointURL"]
    assert printed["api_url"].startswith("https://")
    for key in SETTINGS:
        monkeypatch.setenv(key, "not-this-stack")
    tenant = f"t{uuid.uuid4().hex[:8]}"
    args = ["--stack", stack["name"]]
    assert (
        cli.main(["create-tenant", *args, "--id", tenant, "--name", "T", "--policy", "aivo"]) == 0
    )
    assert cli.main(["issue-key", *args, "--tenant-id", tenant, "--role", "customer"]) == 0
    assert os.environ["TABLE_NAME"] == stack["outputs"]["TableName"]
    assert cli.main(["check", *args, "--at", "2026-03-02T14:00:00Z"]) == 0


# What CloudFormation calls to create each resource type the stack has (and to
# delete it on a teardown): the deployer's policy of docs/deploy.md must allow them.
CREATE_ACTIONS = {
    "AWS::ApiGateway::Account": ["apigateway:PATCH", "iam:PassRole"],
    "AWS::ApiGateway::Deployment": ["apigateway:POST"],
    "AWS::ApiGateway::RestApi": ["apigateway:POST", "apigateway:PUT", "apigateway:DELETE"],
    "AWS::ApiGateway::Stage": ["apigateway:POST", "apigateway:PATCH"],
    "AWS::CloudWatch::Alarm": ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"],
    "AWS::CloudWatch::Dashboard": ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"],
    "AWS::DynamoDB::Table": [
        "dynamodb:CreateTable",
        "dynamodb:DescribeTable",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:UpdateTimeToLive",
        "dynamodb:DeleteTable",
    ],
    "AWS::Events::Rule": ["events:PutRule", "events:PutTargets", "events:DeleteRule"],
    "AWS::IAM::Role": ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"],
    "AWS::KMS::Alias": ["kms:CreateAlias", "kms:DeleteAlias"],
    "AWS::KMS::Key": ["kms:CreateKey", "kms:EnableKeyRotation", "kms:PutKeyPolicy"],
    "AWS::Lambda::EventInvokeConfig": ["lambda:PutFunctionEventInvokeConfig"],
    "AWS::Lambda::EventSourceMapping": ["lambda:CreateEventSourceMapping"],
    "AWS::Lambda::Function": ["lambda:CreateFunction", "iam:PassRole", "lambda:DeleteFunction"],
    "AWS::Lambda::Permission": ["lambda:AddPermission", "lambda:RemovePermission"],
    "AWS::Logs::LogGroup": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
    "AWS::Logs::MetricFilter": ["logs:PutMetricFilter", "logs:DeleteMetricFilter"],
    "AWS::SNS::Subscription": ["sns:Subscribe", "sns:Unsubscribe"],
    "AWS::SNS::Topic": ["sns:CreateTopic", "sns:DeleteTopic"],
    "AWS::SQS::Queue": ["sqs:CreateQueue", "sqs:DeleteQueue"],
}


def test_the_deployers_policy_of_the_deploy_guide_covers_every_resource_of_the_stack() -> None:
    """docs/deploy.md's policy: the stack's change set, the SAM transform and every
    resource type the packaged template creates, then `bootstrap --stack`."""
    import re

    page = (ROOT / "docs" / "deploy.md").read_text()
    (document,) = [
        json.loads(b)
        for b in re.findall(r"^```json\n(.*?)^```", page, re.M | re.S)
        if "Statement" in b
    ]
    allowed = {a for s in document["Statement"] for a in s["Action"] if s["Effect"] == "Allow"}
    types = {r["Type"] for r in expanded_template()["Resources"].values()}
    assert types <= set(CREATE_ACTIONS), types - set(CREATE_ACTIONS)  # a new type: add it
    needed = {a for t in types for a in CREATE_ACTIONS[t]}
    needed |= {"cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"}
    needed |= {"cloudformation:DescribeStacks", "s3:PutObject", "s3:CreateBucket"}
    # bootstrap --stack: the provider tenant, the shipped policies, an admin key
    needed |= {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}
    assert needed - allowed == set()
