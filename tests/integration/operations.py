"""Every AWS operation the integration suite performs, by function: what
tests/integration/test_iam.py compares with the template's roles (recorded by
the `record_operations` fixture)."""

from __future__ import annotations

from typing import Any

FUNCTION_FRAMES = (
    # the code only one function runs -> that function's logical id in the template;
    # a function name narrows a file to that function's frames
    ("chalicelib/services/checker.py", "work", "CheckerWorker"),
    ("chalicelib/services/checker.py", None, "BreachChecker"),
    ("chalicelib/api/", None, "APIHandler"),
)


def _function_on_stack() -> str | None:
    """Which function is making this call: the innermost frame of code only it
    runs. None for a test's or an operator's own calls (fixtures, the CLI). A
    checker worker's share (`checker.work`, and its pool threads) is the
    CheckerWorker's: in the cloud the scheduled run only plans and queues it; in
    process (no queue) the run calls `work` itself, the same code."""
    import sys
    import threading

    if threading.current_thread().name.startswith("checker"):
        return "CheckerWorker"  # a worker's pool thread (services/checker.py:work)
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename.replace("\\", "/")
        for marker, code, function in FUNCTION_FRAMES:
            if marker in name and code in (None, frame.f_code.co_name):
                return function
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _resources(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(IAM action, resource) pairs one call needs, resources as the names the
    code used: `table/<name>[/index/<index>]`, a topic ARN."""
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            actions = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
            actions |= {"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
            return [
                (f"dynamodb:{actions[kind]}", f"table/{body['TableName']}")
                for item in params["TransactItems"]
                for kind, body in item.items()
            ]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", f"table/{t}") for t in params["RequestItems"]]
        table = f"table/{params['TableName']}"
        if params.get("IndexName"):
            table += f"/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", table)]
    if service == "sqs" and operation in ("SendMessage", "SendMessageBatch"):
        return [("sqs:SendMessage", params["QueueUrl"])]  # the checker's fan-out
    if service == "sns" and operation in ("Publish", "PublishBatch"):
        return [("sns:Publish", params.get("TopicArn") or params["TargetArn"])]
    if service == "kms" and operation in ("Encrypt", "Decrypt"):
        # the one key of partner webhook secrets (a ciphertext names its key itself)
        return [(f"kms:{operation}", "kms:webhook-key")]
    return [(f"{service}:{operation}", "*")]


class Operations:
    """A botocore event hook on every client: records (function, action, resource)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str, str]] = set()

    def before_parameter_build(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        function = _function_on_stack()
        if function is None:
            return
        service = model.service_model.endpoint_prefix
        for action, resource in _resources(service, model.name, params):
            self.seen.add((function, action, resource))


OPERATIONS = Operations()
