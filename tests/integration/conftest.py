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

from dev import moto_costs
from dev.embedded_aws import plain_projections
from tests.integration.helpers import (
    ROOT,
    Api,
    Customer,
    RequestClock,
    aws_spy,
    reset_connections,
)
from tests.integration.operations import OPERATIONS, Operations


def _stage_env() -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"]["test"]["environment_variables"])
    return env


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
    # moto's DynamoDB at the cost of what a call touches (a session-wide table would
    # make the suite quadratic): the local stack's own mechanism.
    moto_costs.install()
    plain_projections()
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
    """Counts every AWS API call (boto3 and PynamoDB both go through botocore) a
    warm container makes: the put of a shared SLA rules item, made once per
    container and rules (`store.sla_rules`: test_ticket_store checks it), is not
    counted, so a count does not depend on which test wrote those rules first."""
    counter: Counter[str] = Counter()

    def count(operation: str, params: Any) -> None:
        if operation == "PutItem" and params["Item"]["pk"]["S"].startswith("SLARULES#"):
            return
        counter.update([operation])

    with aws_spy(count):
        yield counter


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
