"""The cloud template carries the same table definitions the local stack uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.store import schema
from infra import build

ROOT = Path(__file__).resolve().parents[2]


def test_committed_template_is_what_infra_build_writes() -> None:
    committed = (ROOT / "infra" / "resources.json").read_text()
    assert committed == build.render(), "run: python -m infra.build"


def test_the_template_tables_are_the_store_schema() -> None:
    resources = json.loads(build.render())["Resources"]
    assert resources["Table"]["Properties"] == schema.MAIN_TABLE
    assert resources["IdempotencyTable"]["Properties"] == schema.IDEMPOTENCY_TABLE
    index_names = {i["IndexName"] for i in schema.MAIN_TABLE["GlobalSecondaryIndexes"]}
    assert {schema.DUE_INDEX, schema.OUTBOX_INDEX, schema.BY_TENANT_INDEX} <= index_names


def test_every_stage_names_its_tables_and_topic() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in ("dev", "test", "prod"):
        env = config["stages"][stage]["environment_variables"]
        assert {"TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "ALERTS_TOPIC_ARN"} <= set(env)
    assert config["stages"]["dev"]["environment_variables"]["ALERTS_TOPIC_ARN"].endswith(
        ":slaguard-alerts"
    )


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = build.template()["Resources"]
    return resources


def test_unknown_routes_and_missing_tokens_answer_the_contracts_404_echoing_nothing() -> None:
    responses = _resources()["RestAPI"]["Properties"]["GatewayResponses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    body = json.loads(missing["ResponseTemplates"]["application/json"])
    assert body == {"error": {"code": "not_found", "message": "no such route", "fields": {}}}
    # Nothing the caller sent comes back: no $context.error.message (which quotes the
    # Authorization header of an unsigned request), no $input, no request mapping.
    text = json.dumps(responses)
    for echo in ("$context", "$input", "method.request", "$util"):
        assert echo not in text
    assert responses["THROTTLED"]["StatusCode"] == "429"
    assert "Retry-After" in responses["THROTTLED"]["ResponseParameters"]["Headers"]


def test_every_alarm_notifies_the_ops_topic_and_the_email_parameter_subscribes_it() -> None:
    resources = _resources()
    alarms = {k: v for k, v in resources.items() if v.get("Type") == "AWS::CloudWatch::Alarm"}
    watched = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms.values()
    }
    assert watched == {
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "Latency"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "Invocations"),
        ("slaguard", "AlertLagSeconds"),
        ("slaguard", "OutboxBacklog"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    }
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "OpsTopic"}]
    lag = alarms["AlertLagAlarm"]["Properties"]
    assert (lag["Threshold"], lag["Statistic"]) == (120, "Maximum")
    silent = alarms["CheckerNotRunningAlarm"]["Properties"]
    assert silent["TreatMissingData"] == "breaching"  # no invocation at all is the signal
    assert silent["Period"] * silent["EvaluationPeriods"] == 300
    email = resources["OpsEmail"]
    assert email["Properties"] == {
        "TopicArn": {"Ref": "OpsTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlertEmail"},
    }
    assert email["Condition"] == "HasAlertEmail"


def test_each_role_names_only_the_stacks_own_resources() -> None:
    resources = _resources()
    for role in ("ApiHandlerRole", "BreachCheckerRole"):
        (policy,) = resources[role]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]:
            for resource in statement["Resource"]:
                if resource == "*":  # only X-Ray, which has no resource-level permissions
                    assert all(a.startswith("xray:") for a in statement["Action"]), statement
                else:
                    assert isinstance(resource, dict), resource  # Ref / GetAtt / Sub
    checker = resources["BreachCheckerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert {
        "Sid": "DeadLetters",
        "Effect": "Allow",
        "Action": ["sqs:SendMessage"],
        "Resource": [{"Fn::GetAtt": ["CheckerDeadLetters", "Arn"]}],
    } in checker["Statement"]


def test_functions_time_out_before_api_gateway_and_trace() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["lambda_timeout"] < 29  # API Gateway's own limit
    assert config["xray"] is True
    api = _resources()["RestAPI"]["Properties"]
    assert api["TracingEnabled"] is True
    (throttle,) = api["MethodSettings"]
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(throttle)


def test_a_late_checker_run_is_dropped_not_retried_for_hours() -> None:
    checker = _resources()["BreachChecker"]["Properties"]
    assert checker["EventInvokeConfig"]["MaximumEventAgeInSeconds"] <= 300
    retry = checker["Events"]["BreachCheckerEvent"]["Properties"]["RetryPolicy"]
    assert retry["MaximumEventAgeInSeconds"] <= 300


def test_expiring_items_have_a_ttl_the_table_recovers_and_the_topic_is_encrypted() -> None:
    resources = _resources()
    table = resources["Table"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    idempotency = resources["IdempotencyTable"]["Properties"]
    assert idempotency["TimeToLiveSpecification"]["AttributeName"] == "expiration"  # Powertools'
    assert resources["AlertsTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    for group in ("ApiLogs", "CheckerLogs"):
        assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_the_outputs_name_what_bootstrap_reads() -> None:
    from chalicelib.cli import STACK_OUTPUTS

    assert set(STACK_OUTPUTS) <= set(build.template()["Outputs"])
