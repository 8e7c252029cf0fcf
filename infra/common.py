"""What every part of the template shares: how a resource names another
(Ref/GetAtt/Sub), the functions' names and log groups, the API's stage."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
API_STAGE = "api"  # .chalice/config.json: api_gateway_stage


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
    # One per task of a run (docs/performance.md: the checker at burst scale).
    "CheckerWorker": {
        "name": "${AWS::StackName}-checker-worker",
        "role": "CheckerWorkerRole",
        "logs": "WorkerLogs",
    },
}
