"""Integration fixtures: one moto mock for the session (tables created once), the
Chalice test client on the `test` stage, a provider, its keys and customers.
The helpers tests import live in `tests.integration.helpers`."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.integration.helpers import ROOT, Api, Customer, RequestClock, reset_connections
from tests.integration.operations import OPERATIONS, Operations


def _stage_env() -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"]["test"]["environment_variables"])
    return env


def cheap_transaction_snapshots() -> None:
    """moto deep-copies each whole table a TransactWriteItems touches, to roll back
    on failure: O(table) per call, so a session-wide table made the suite
    quadratic. Our transactions put, delete, check and update items; a snapshot of
    the table's item index (not of every item) restores it just as well, provided
    an update changes a copy of its item (below) rather than the item the
    snapshot shares (moto changes it in place)."""
    import copy
    from collections import defaultdict

    import moto.dynamodb.models as ddb
    from moto.dynamodb.models.dynamo_type import DynamoType

    update_item = ddb.DynamoDBBackend.update_item

    def copy_on_update(self: Any, table_name: str, key: Any, *args: Any, **kwargs: Any) -> Any:
        table = self.get_table(table_name)
        if table.range_key_attr and isinstance(key, dict) and table.range_key_attr in key:
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr])
            item = table.get_item(hash_value, range_value)
            if item is not None:
                table.items[hash_value][range_value] = copy.deepcopy(item)
        return update_item(self, table_name, key, *args, **kwargs)

    ddb.DynamoDBBackend.update_item = copy_on_update  # type: ignore[method-assign]

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


def cheap_item_order() -> None:
    """moto answers every Query on an index by sorting ALL the table's items, comparing
    their keys as DynamoType objects, which convert both values at each comparison:
    O(n log n) conversions per Query, so a session-wide table made every list, report
    and checker run slower as the suite went on (a third of the integration run).
    The same sort on the keys' values, converted once per item, gives the same order."""
    from moto.dynamodb.models.table import Table

    def all_items(self: Any) -> list[Any]:
        items: list[Any] = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        return sorted(
            items,
            key=lambda x: (
                (x.hash_key.cast_value, x.range_key.cast_value)
                if x.range_key
                else x.hash_key.cast_value
            ),
        )

    Table.all_items = all_items  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def aws_mock(record_operations: Operations) -> Iterator[None]:
    # mock_aws intercepts nothing while AWS_ENDPOINT_URL is set (moto's own caveat).
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(_stage_env())
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    cheap_transaction_snapshots()
    cheap_item_order()
    with mock_aws():
        reset_connections()
        from chalicelib.cli import ensure_resources

        ensure_resources()
        yield
    reset_connections()


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
def clock(monkeypatch: pytest.MonkeyPatch) -> RequestClock:
    """The request time the routes see, frozen and moved by hand."""
    from chalicelib.api import http

    frozen = RequestClock()
    monkeypatch.setattr(http, "utcnow", frozen)
    return frozen


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
    last = [i for i in items if i.path.name == "test_iam.py"]
    items[:] = [i for i in items if i not in last] + last
