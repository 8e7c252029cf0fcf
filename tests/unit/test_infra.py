"""The cloud template carries the same table definitions the local stack uses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store import schema
from infra import build, tables

ROOT = Path(__file__).resolve().parents[2]


def test_committed_template_is_what_infra_build_writes() -> None:
    committed = (ROOT / "infra" / "resources.json").read_text()
    assert committed == build.render(), "run: python -m infra.build"


def _without_warm_throughput(value: Any) -> Any:
    """The template with every `WarmThroughput` property taken out."""
    if isinstance(value, dict):
        return {k: _without_warm_throughput(v) for k, v in value.items() if k != "WarmThroughput"}
    if isinstance(value, list):
        return [_without_warm_throughput(v) for v in value]
    return value


def test_the_template_tables_are_the_store_schema() -> None:
    resources = json.loads(build.render())["Resources"]
    assert _without_warm_throughput(resources["Table"]["Properties"]) == schema.MAIN_TABLE
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
        ("slaguard/logs", "UnreadableItems"),
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


def test_the_api_function_has_one_vcpu_for_what_if() -> None:
    """A what-if of 2,000 tickets takes about 10 s of one vCPU (docs/writing-policies.md,
    Cost); Lambda gives one vCPU at 1,769 MB, a third of one at 512 MB."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["lambda_functions"]["api_handler"]["lambda_memory_size"] >= 1769
    from chalicelib.services import whatif

    assert config["lambda_timeout"] > whatif.REPLAY_SECONDS


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


# --- issue 14: the checker's workers (docs/performance.md: the breach checker at burst scale)


def _alarms() -> dict[str, Any]:
    return {k: v for k, v in _resources().items() if v.get("Type") == "AWS::CloudWatch::Alarm"}


def _rows(metric: str) -> list[list[Any]]:
    return [
        row
        for widget in build.dashboard_widgets()
        for row in widget["properties"]["metrics"]
        if row[1] == metric
    ]


def test_the_outbox_backlog_alarm_adds_up_the_workers_backlogs() -> None:
    """Each worker reports the alerts no publisher holds in its own outbox shards:
    only their sum says whether the stack has a backlog (a minimum across workers is
    0 as soon as one worker's shards are clean, and the alarm would never fire)."""
    props = _alarms()["OutboxBacklogAlarm"]["Properties"]
    assert props["AlarmName"] == {"Fn::Sub": "${AWS::StackName}-outbox-backlog"}
    assert (props["Statistic"], props["Period"]) == ("Sum", 60)
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (5, 3)
    assert (props["ComparisonOperator"], props["Threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        1,
    )
    (row,) = _rows("OutboxBacklog")
    assert row[-1]["stat"] == "Sum"


def test_throttles_alarm_for_the_checker_and_for_its_workers() -> None:
    throttles = {
        props["Dimensions"][0]["Value"]["Ref"]: props["AlarmName"]
        for props in (a["Properties"] for a in _alarms().values())
        if props["MetricName"] == "Throttles"
    }
    assert set(throttles) == {"BreachChecker", "CheckerWorker"}
    for alarm in _alarms().values():
        assert alarm["Properties"]["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-")


def test_the_dashboard_shows_the_workers_and_their_queue() -> None:
    worker = {
        row[1]: row[4] if len(row) > 4 else {}
        for widget in build.dashboard_widgets()
        for row in widget["properties"]["metrics"]
        if row[0] == "AWS/Lambda" and row[2:4] == ["FunctionName", "${CheckerWorker}"]
    }
    assert set(worker) == {"Invocations", "Errors", "Throttles", "Duration"}
    assert worker["Duration"]["stat"] == "Maximum"
    (queues,) = (
        w["properties"]
        for w in build.dashboard_widgets()
        if any(row[1] == "ApproximateAgeOfOldestMessage" for row in w["properties"]["metrics"])
    )
    (age,) = (row for row in queues["metrics"] if row[1] == "ApproximateAgeOfOldestMessage")
    assert age[:4] == [
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "QueueName",
        "${CheckerWork.QueueName}",
    ]
    assert queues["stat"] == "Maximum"  # the oldest task's age, not a sum of samples
    # Every ${Resource} or ${Resource.Attribute} the body names is in the template.
    body = _resources()["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    named = {n.split(".")[0] for n in re.findall(r"\$\{([^}]+)\}", body)}
    assert {n for n in named if not n.startswith("AWS::")} <= set(_resources())


# --- warm throughput (docs/operations.md, Deploy): resolved here as CloudFormation does


def _condition(expr: Any, parameters: dict[str, str]) -> bool:
    (function, args), *_ = expr.items()
    if function == "Fn::Not":
        return not _condition(args[0], parameters)
    assert function == "Fn::Equals", expr
    return bool(_resolve(args[0], {}, parameters) == str(args[1]))


def _resolve(value: Any, conditions: dict[str, bool], parameters: dict[str, str]) -> Any:
    """`value` with each Fn::If taken by its condition, AWS::NoValue properties dropped
    and parameter Refs replaced by the parameter's value."""
    if isinstance(value, list):
        return [_resolve(v, conditions, parameters) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::If" in value:
        condition, yes, no = value["Fn::If"]
        return _resolve(yes if conditions[condition] else no, conditions, parameters)
    if set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    resolved = {k: _resolve(v, conditions, parameters) for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v != {"Ref": "AWS::NoValue"}}


def _deployed(template: dict[str, Any] | None = None, **given: str) -> dict[str, Any]:
    """The template's resources for these parameter values (the others default)."""
    template = template or build.template()
    parameters = {k: str(p.get("Default", "")) for k, p in template["Parameters"].items()}
    parameters.update(given)
    conditions = {k: _condition(c, parameters) for k, c in template["Conditions"].items()}
    resources: dict[str, Any] = _resolve(template["Resources"], conditions, parameters)
    return resources


def _warm_places(resources: dict[str, Any]) -> dict[str, Any]:
    """Where a WarmThroughput property is: the table itself and its indexes by name."""
    found = {}
    for logical, resource in resources.items():
        props = resource.get("Properties", {})
        if "WarmThroughput" in props:
            found[logical] = props["WarmThroughput"]
        for index in props.get("GlobalSecondaryIndexes", []):
            if "WarmThroughput" in index:
                found[f"{logical}/{index['IndexName']}"] = index["WarmThroughput"]
    return found


def test_by_default_no_table_or_index_is_pre_warmed() -> None:
    resources = _deployed()
    assert "WarmThroughput" not in json.dumps(resources)
    assert resources["Table"]["Properties"] == schema.MAIN_TABLE  # the local stack's table


def test_warm_throughput_parameters_pre_warm_the_table_and_every_index_an_alert_writes() -> None:
    ticket_indexes = {
        i["IndexName"]
        for i in schema.MAIN_TABLE["GlobalSecondaryIndexes"]
        if {k["AttributeName"] for k in i["KeySchema"]} & {"ticket_id", "reported_sk"}
        # an alert never closes a ticket, nor moves its reported instant (keys only)
        and i["IndexName"] not in (schema.OPEN_BY_POLICY_INDEX, "tickets_by_reported")
    }
    alert_writes = {"due", "outbox_unsent", "unsettled"}  # a breach leaves `unsettled`
    assert ticket_indexes == {
        "tickets_by_tenant",
        "tickets_by_status",
        "tickets_by_priority",
        "tickets_breached",
    }
    # `by_reported` (ALL: an alert rewrites the whole item there) while an upgrade keeps it
    kept = tables.upgrade_step(build.template(), keep=["by_reported"])
    assert "Table/by_reported" in _warm_places(_deployed(kept, WarmIndexWriteUnits="20000"))

    warm = _warm_places(_deployed(WarmTableWriteUnits="40000", WarmIndexWriteUnits="20000"))
    assert warm == {
        "Table": {"WriteUnitsPerSecond": "40000"},
        **{f"Table/{i}": {"WriteUnitsPerSecond": "20000"} for i in ticket_indexes | alert_writes},
    }
    assert _warm_places(_deployed(WarmTableWriteUnits="40000")) == {
        "Table": {"WriteUnitsPerSecond": "40000"}
    }
    only_indexes = _warm_places(_deployed(WarmIndexWriteUnits="20000"))
    assert set(only_indexes) == {f"Table/{i}" for i in ticket_indexes | alert_writes}


def _checkov_exceptions() -> dict[str, str]:
    """infra/checkov.yaml's accepted exceptions: check id -> reason."""
    text = (ROOT / "infra" / "checkov.yaml").read_text()
    return dict(re.findall(r"^  - (CKV2?_AWS_\d+)  # (.+)$", text, re.MULTILINE))


def test_every_accepted_checkov_exception_has_a_reason_and_is_in_the_operations_page() -> None:
    exceptions = _checkov_exceptions()
    listed = re.findall(r"^  - CKV", (ROOT / "infra" / "checkov.yaml").read_text(), re.MULTILINE)
    assert len(exceptions) == len(listed) >= 1  # none without its one-line reason
    page = (ROOT / "docs" / "operations.md").read_text()
    documented = dict(re.findall(r"^\| `(CKV2?_AWS_\d+)` \| (.+) \|$", page, re.MULTILINE))
    assert documented.keys() == exceptions.keys()


def test_the_api_stage_writes_a_json_access_log_to_a_group_with_a_retention() -> None:
    resources = _resources()
    setting = resources["RestAPI"]["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    fields = json.loads(setting["Format"])
    assert {"request_id", "route", "status", "latency_ms"} <= set(fields)
    assert fields["request_id"] == "$context.requestId"
    group = resources["ApiAccessLogs"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # API Gateway logs with the account's CloudWatch role, set before the stage
    assert resources["RestAPI"]["DependsOn"] == ["ApiGatewayAccount"]
    assert resources["ApiGatewayAccount"]["Properties"]["CloudWatchRoleArn"] == {
        "Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]
    }


def test_the_pynamodb_indexes_are_the_schemas() -> None:
    """Every index a model queries is declared by the table with the same key and
    projection (PynamoDB only reads: the table is created from the schema)."""
    from pynamodb.models import Model

    from chalicelib.store import models

    declared = {i["IndexName"]: i for i in schema.MAIN_TABLE["GlobalSecondaryIndexes"]}
    declared.update(schema.RETIRED_INDEXES)  # read while an upgrade keeps them
    seen = set()
    for model in vars(models).values():
        if not (isinstance(model, type) and issubclass(model, Model) and model is not Model):
            continue
        for index in model._indexes.values():
            meta = index.Meta
            table = declared[meta.index_name]
            keys = [
                {"AttributeName": a.attr_name, "KeyType": "HASH" if a.is_hash_key else "RANGE"}
                for a in meta.attributes.values()
            ]
            assert sorted(keys, key=lambda k: k["KeyType"]) == table["KeySchema"], meta.index_name
            projection = {"ProjectionType": meta.projection.projection_type}
            if meta.projection.non_key_attributes:
                projection["NonKeyAttributes"] = meta.projection.non_key_attributes
            assert projection == table["Projection"], meta.index_name
            seen.add(meta.index_name)
    assert {"tickets_by_tenant", "tickets_breached", "by_tenant", "queue"} <= seen
    assert {"tickets_by_reported", "by_reported"} <= seen


def test_an_upgrade_step_leaves_out_the_indexes_it_names_and_the_lists_follow_a_parameter() -> None:
    """docs/deploy.md, upgrading an existing stack: `python -m infra.build --without
    ... --keep ...` writes the template without those new indexes and with those
    retired ones (one created or deleted per update), and every function reads
    which indexes to use from the `TicketLists` parameter."""
    later = ["tickets_by_priority", "tickets_breached", "tickets_by_reported"]
    step = json.loads(build.render(later, ["by_reported"]))["Resources"]["Table"]["Properties"]
    full = json.loads(build.render())["Resources"]["Table"]["Properties"]
    names = [i["IndexName"] for i in full["GlobalSecondaryIndexes"]]
    assert [i["IndexName"] for i in step["GlobalSecondaryIndexes"]] == [
        *(n for n in names if n not in later),
        "by_reported",
    ]
    assert "by_reported" not in names  # a new stack has it no more
    assert step["AttributeDefinitions"] == full["AttributeDefinitions"]  # all still used
    with pytest.raises(ValueError, match="tickets_by_customer"):
        build.render(["tickets_by_customer"])
    with pytest.raises(ValueError, match="by_tenant"):
        build.render(keep=["by_tenant"])  # not retired: a new stack has it

    resources = build.template()["Resources"].values()
    functions = [r for r in resources if "Environment" in r.get("Properties", {})]
    assert functions
    for function in functions:
        env = function["Properties"]["Environment"]["Variables"]
        assert env["TICKET_LISTS"] == {"Ref": "TicketLists"}
    assert build.template()["Parameters"]["TicketLists"]["Default"] == "own"


# Which indexes the code reads under each `TicketLists` value (store.tickets:
# `_list_index`, `_reported`), and those it reads under both.
READS = {
    "legacy": {"by_tenant", "by_status", "by_priority", "breached", "by_reported"},
    "own": {
        "tickets_by_tenant",
        "tickets_by_status",
        "tickets_by_priority",
        "tickets_breached",
        "tickets_by_reported",
    },
}
ALWAYS_READ = {"unsettled", "due", "outbox_unsent", "queue", "queue_by_tenant"}


def _replay(block: str, had: set[str]) -> tuple[set[str], list[tuple[str, set[str]]]]:
    """A deploy.md sequence replayed on a stack whose table has `had`: each deploy
    creates or deletes one index at most, keeps at most 20 and names its
    `TICKET_LISTS`. Returns the indexes at the end and, per deploy, its comment and
    the indexes its code reads that are not ACTIVE meanwhile (being created, or gone)."""
    indexes = {i["IndexName"] for i in schema.MAIN_TABLE["GlobalSecondaryIndexes"]}
    unready: list[tuple[str, set[str]]] = []
    for line in block.splitlines():
        if line.startswith(".venv/bin/python -m infra.build"):
            args = re.split(r" --(without|keep) ", " " + line.split("infra.build", 1)[1])
            named = dict(zip(args[1::2], (a.split() for a in args[2::2]), strict=True))
            rendered = build.render(named.get("without", []), named.get("keep", []))
            table = json.loads(rendered)["Resources"]["Table"]["Properties"]
            indexes = {i["IndexName"] for i in table["GlobalSecondaryIndexes"]}
        elif line.startswith("make deploy"):
            lists = re.search(r"TICKET_LISTS=(\w+)\s+# (.*)$", line)
            assert lists is not None, line
            assert len(indexes ^ had) <= 1, (line, indexes ^ had)
            assert len(indexes) <= 20, line
            unready.append((lists[2], (READS[lists[1]] | ALWAYS_READ) - (had & indexes)))
            had = indexes
    return had, unready


def test_deploy_md_upgrade_changes_one_index_per_deploy_and_reads_only_active_ones() -> None:
    """docs/deploy.md's upgrade to the tickets' keys-only indexes, as written: each
    deploy creates or deletes one index, with at most 20; the code reads the old
    indexes (`legacy`) until every new one is built, then switches (`own`), and only
    then is `by_reported` deleted; the last deploy has the committed template. The
    reports wait for `unsettled` alone, the first index created. A stack that
    already had the lists' own indexes takes two deploys, its readers by reported
    instant waiting for `tickets_by_reported`."""
    page = (ROOT / "docs" / "deploy.md").read_text()
    section = page[page.index("### To the tickets' keys-only indexes") :]
    section = section[: section.index("\n## ")]
    blocks = [b for b in re.findall(r"```text\n(.*?)```", section, re.S) if "make deploy" in b]
    assert len(blocks) == 2
    every = {i["IndexName"] for i in schema.MAIN_TABLE["GlobalSecondaryIndexes"]}
    lists = ["tickets_by_tenant", "tickets_by_status", "tickets_by_priority", "tickets_breached"]
    before = every - {*lists, "unsettled", "tickets_by_reported"} | {"by_reported"}

    end, unready = _replay(blocks[0], before)
    assert end == every
    assert [comment for comment, _ in unready] == [
        "creates unsettled",
        *(f"creates {name}" for name in lists),
        "creates tickets_by_reported",
        "the code switches",
        "deletes by_reported",
    ]
    assert [missing for _, missing in unready] == [{"unsettled"}] + [set()] * 7

    end, unready = _replay(blocks[1], every - {"tickets_by_reported"} | {"by_reported"})
    assert end == every
    assert unready == [
        ("creates tickets_by_reported", {"tickets_by_reported"}),
        ("deletes by_reported", set()),
    ]


def test_every_function_counts_its_unreadable_item_lines_and_the_store_marks_each() -> None:
    """An item that does not map (a hand-edited ticket, a missing or broken shared
    SLA rules item) leaves its tickets out of lists and checker runs: each function's
    log group counts the lines that say so into one metric, which alarms; every such
    line of the store carries the field the filter matches."""
    from chalicelib.store.schema import UNREADABLE_LOG_FIELD
    from infra.common import FUNCTIONS

    resources = _resources()
    filters = [
        r["Properties"] for r in resources.values() if r.get("Type") == "AWS::Logs::MetricFilter"
    ]
    assert sorted(f["LogGroupName"]["Ref"] for f in filters) == sorted(
        spec["logs"] for spec in FUNCTIONS.values()
    )
    for props in filters:
        assert props["FilterPattern"] == f"{{ $.{UNREADABLE_LOG_FIELD} IS TRUE }}"
        (metric,) = props["MetricTransformations"]
        assert (metric["MetricNamespace"], metric["MetricName"]) == (
            "slaguard/logs",
            "UnreadableItems",
        )
    alarm = resources["UnreadableItemsAlarm"]["Properties"]
    assert (alarm["Threshold"], alarm["Statistic"], alarm["Period"]) == (1, "Sum", 300)

    store = (ROOT / "chalicelib" / "store" / "tickets.py").read_text()
    calls = re.findall(r"logger\.error\((.*?)\)\n", store, re.S)
    unreadable = [c for c in calls if "unreadable" in c.lower() or "missing" in c]
    assert len(unreadable) == 4, unreadable
    assert all(f"{UNREADABLE_LOG_FIELD}=True" in c for c in unreadable), unreadable
