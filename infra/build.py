"""Writes `infra/resources.json`, the template `chalice package --merge-template`
merges into the SAM template Chalice generates. Each concern has its module:

- `tables`: the main and idempotency tables (from chalicelib.store.schema, the
  local stack's definitions) and their warm throughput;
- `iam`: one least-privilege role policy per function, the webhook secrets' key;
- `functions`: the functions' names, environment and log groups, the checker's
  queues and schedule retries, the topics;
- `gateway`: the API's throttling, gateway responses and access log;
- `monitoring`: the alarms and the dashboard;
- this module: the parameters, conditions and outputs, and the assembly.

Run `python -m infra.build`; a test checks the committed file is what this writes.
Chalice's merge is a deep merge of objects (lists are replaced), so the entries
for `APIHandler`, `BreachChecker`, `RestAPI` and the roles complete or override
what Chalice generated.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from infra import functions, gateway, iam, monitoring, tables
from infra.common import Json, _ref, _sub
from infra.monitoring import NAMESPACE, alarms, dashboard_widgets

__all__ = ["NAMESPACE", "alarms", "dashboard_widgets", "render", "template"]

OUT = Path(__file__).with_name("resources.json")

PARAMETERS: Json = {
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
    **tables.PARAMETERS,
}
OUTPUTS: Json = {
    "TableName": {"Value": _ref("Table")},
    "IdempotencyTableName": {"Value": _ref("IdempotencyTable")},
    "AlertsTopicArn": {"Value": _ref("AlertsTopic")},
    "OpsTopicArn": {"Value": _ref("OpsTopic")},
    "DeadLetterQueueUrl": {"Value": _ref("CheckerDeadLetters")},
    "BreachCheckerName": {"Value": _ref("BreachChecker")},
    "ApiAccessLogGroup": {"Value": _ref("ApiAccessLogs")},
    "DashboardUrl": {
        "Value": _sub(
            "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home"
            "?region=${AWS::Region}#dashboards:name=${AWS::StackName}"
        )
    },
}


def template() -> Json:
    return {
        "Parameters": PARAMETERS,
        "Conditions": {
            "HasAlertEmail": {"Fn::Not": [{"Fn::Equals": [_ref("AlertEmail"), ""]}]},
            **tables.CONDITIONS,
        },
        "Resources": {
            **tables.resources(),
            **iam.resources(),
            **functions.resources(),
            **gateway.resources(),
            **monitoring.resources(),
        },
        "Outputs": OUTPUTS,
    }


def render(without: Sequence[str] = (), keep: Sequence[str] = ()) -> str:
    built = tables.upgrade_step(template(), without, keep) if without or keep else template()
    return json.dumps(built, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    # `--without <index> ...` (new indexes not created yet) and `--keep <index> ...`
    # (retired ones not deleted yet): an existing stack's step while it creates and
    # deletes indexes, one per update (docs/deploy.md); never commit the file it writes.
    parser = argparse.ArgumentParser(prog="python -m infra.build")
    parser.add_argument("--without", nargs="+", default=[], metavar="INDEX")
    parser.add_argument("--keep", nargs="+", default=[], metavar="INDEX")
    args = parser.parse_args()
    OUT.write_text(render(args.without, args.keep))
    sys.stdout.write(f"wrote {OUT}\n")
