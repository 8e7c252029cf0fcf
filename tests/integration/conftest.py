"""Integration fixtures: one moto mock for the session (tables created once), the
Chalice test client on the `test` stage, and helpers that act as API users."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[2]


def _stage_env() -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"]["test"]["environment_variables"])
    return env


def reset_connections() -> None:
    from chalicelib.aws import reset_connections as reset

    reset()


def cheap_transaction_snapshots() -> None:
    """moto deep-copies each whole table a TransactWriteItems touches, to roll back
    on failure: O(table) per call, so a session-wide table made the suite
    quadratic. Our transactions only put, delete and check items, so a snapshot
    of the table's item index (not of every item) restores it just as well."""
    import copy
    from collections import defaultdict

    import moto.dynamodb.models as ddb

    class Snapshots:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if type(value).__name__ != "Table":
                return copy.deepcopy(value, memo)
            clone = copy.copy(value)
            clone.items = defaultdict(
                dict, {h: dict(r) if isinstance(r, dict) else r for h, r in value.items.items()}
            )
            return clone

    ddb.copy = Snapshots  # type: ignore[attr-defined,assignment]


@pytest.fixture(scope="session", autouse=True)
def aws_mock(record_operations: Operations) -> Iterator[None]:
    # mock_aws intercepts nothing while AWS_ENDPOINT_URL is set (STACK-NOTES).
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(_stage_env())
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    cheap_transaction_snapshots()
    with mock_aws():
        reset_connections()
        from chalicelib.cli import ensure_resources

        ensure_resources()
        yield
    reset_connections()


class Api:
    """A thin HTTP user of the app through Chalice's test client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        key: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | str | None = None,
    ) -> tuple[int, Any]:
        h = {"Content-Type": "application/json"}
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        h.update(headers or {})
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        kwargs: dict[str, Any] = {"headers": h}
        if data is not None:
            kwargs["body"] = data
        response = getattr(self.client.http, method.lower())(path, **kwargs)
        payload = json.loads(response.body) if response.body else None
        return response.status_code, payload

    def get(self, path: str, key: str | None = None, **kw: Any) -> tuple[int, Any]:
        return self.call("GET", path, key, **kw)

    def post(self, path: str, key: str | None, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.call("POST", path, key, body, **kw)

    def patch(self, path: str, key: str | None, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.call("PATCH", path, key, body, **kw)

    def put(self, path: str, key: str | None, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.call("PUT", path, key, body, **kw)


@pytest.fixture(scope="session")
def api(aws_mock: None) -> Iterator[Api]:
    from chalice.test import Client

    import app as application

    with Client(application.app, stage_name="test", project_dir=str(ROOT)) as client:
        yield Api(client)


@pytest.fixture(scope="session")
def provider(aws_mock: None) -> dict[str, str]:
    """The provider's tenant and an admin key, as `cli bootstrap` makes them."""
    from chalicelib.cli import bootstrap

    return bootstrap("provider", "Provider")


@pytest.fixture(scope="session")
def admin_key(provider: dict[str, str]) -> str:
    return provider["api_key"]


@pytest.fixture(scope="session")
def agent_key(api: Api, admin_key: str, provider: dict[str, str]) -> str:
    status, body = api.post(
        f"/admin/tenants/{provider['tenant_id']}/keys",
        admin_key,
        {"role": "agent", "contact": "agent@provider.example"},
    )
    assert status == 201, body
    return str(body["api_key"])


class Customer:
    def __init__(self, tenant_id: str, key: str) -> None:
        self.tenant_id = tenant_id
        self.key = key


@pytest.fixture
def new_customer(api: Api, admin_key: str) -> Any:
    """Create a customer tenant (by the API) and a customer key for it."""

    def make(policy: str = "aivo", **fields: Any) -> Customer:
        tenant_id = f"t-{uuid.uuid4().hex[:10]}"
        status, body = api.post(
            "/admin/tenants",
            admin_key,
            {"id": tenant_id, "name": "Acme SA", "policy": policy, **fields},
        )
        assert status == 201, body
        status, body = api.post(
            f"/admin/tenants/{tenant_id}/keys",
            admin_key,
            {"role": "customer", "contact": "ana@acme.example"},
        )
        assert status == 201, body
        return Customer(tenant_id, body["api_key"])

    return make


@pytest.fixture
def customer(new_customer: Any) -> Customer:
    c: Customer = new_customer()
    return c


@pytest.fixture
def aws_calls() -> Iterator[Counter[str]]:
    """Counts every AWS API call (boto3 and PynamoDB both go through botocore)."""
    import botocore.client

    counter: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        counter[operation_name] += 1
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = counting
    try:
        yield counter
    finally:
        botocore.client.BaseClient._make_api_call = original


INCIDENT = {
    "title": "Bot down",
    "description": "The bot does not answer",
    "kind": "incident",
    "priority": "high",
}


# --- every AWS operation the suite performs, by function (tests/integration/test_iam.py)

FUNCTION_FRAMES = (
    # the code only one function runs -> that function's logical id in the template
    ("chalicelib/services/checker.py", "BreachChecker"),
    ("chalicelib/api/", "APIHandler"),
)


def _function_on_stack() -> str | None:
    """Which function is making this call: the innermost frame of code only it
    runs. None for a test's or an operator's own calls (fixtures, the CLI)."""
    import sys

    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename.replace("\\", "/")
        for marker, function in FUNCTION_FRAMES:
            if marker in name:
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


@pytest.fixture(scope="session", autouse=True)
def record_operations() -> Iterator[Operations]:
    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", OPERATIONS.before_parameter_build)
        return client

    botocore.session.Session.create_client = create_client
    yield OPERATIONS
    botocore.session.Session.create_client = original


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The IAM test reads what the whole suite did: it runs last."""
    last = [i for i in items if i.nodeid.endswith("test_iam.py::" + i.name)]
    items[:] = [i for i in items if i not in last] + last


def assert_error(status: int, body: Any, expected: int, code: str | None = None) -> None:
    """The contract's error shape (API.md, Errors) with that status (and code)."""
    assert status == expected, body
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str)
    if code is not None:
        assert body["error"]["code"] == code, body


def act(api: Api, key: str, ticket_id: str, action: str, **params: Any) -> tuple[int, Any]:
    """POST /tickets/{id}/actions `{action, **params}`: (status, body)."""
    return api.post(f"/tickets/{ticket_id}/actions", key, {"action": action, **params})


def done(api: Api, key: str, ticket_id: str, action: str, **params: Any) -> dict[str, Any]:
    """An action that must succeed: the ticket after it."""
    status, ticket = act(api, key, ticket_id, action, **params)
    assert status == 200, ticket
    return dict(ticket)
