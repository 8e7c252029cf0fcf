"""Hostile but small inputs are client errors, never 500s."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.integration.helpers import Api, Customer, assert_error


def test_deeply_nested_json_is_400(api: Api, customer: Customer) -> None:
    raw = "[" * 100_000 + "]" * 100_000  # 200,000 bytes: under the 256 KiB limit
    assert len(raw) < 256 * 1024
    status, body = api.call("POST", "/tickets", customer.key, raw=raw)
    assert status == 400, body
    assert body["error"]["code"] in ("malformed_json", "invalid_request"), body


def test_a_policy_with_an_endless_target_is_refused(api: Api, admin_key: str) -> None:
    status, aivo = api.get("/admin/policies/aivo", admin_key)
    assert status == 200
    doc: dict[str, Any] = copy.deepcopy(aivo)
    for key in ("retargeted", "remaining"):
        doc.pop(key, None)
    doc["id"] = "aivo-endless"
    rule = doc["target_rules"][0]["targets"][0]
    for unit in ("seconds", "minutes", "hours", "business_days"):
        rule.pop(unit, None)
    rule["hours"] = 1e12
    status, body = api.put("/admin/policies/aivo-endless", admin_key, doc)
    assert status == 400, body
    assert any(name.endswith("hours") for name in body["error"]["fields"]), body


def test_framework_errors_take_the_contract_shape(api: Api, customer: Customer) -> None:
    """405 and 415 are answered by Chalice before a route runs: same error JSON."""
    status, body = api.call("DELETE", "/tickets", customer.key)
    assert status == 405
    assert body["error"]["code"] == "method_not_allowed_error"
    status, body = api.call(
        "POST", "/tickets", customer.key, raw="<x/>", headers={"Content-Type": "application/xml"}
    )
    assert status == 415
    assert set(body) == {"error"}
    assert body["error"]["code"] == "unsupported_media_type"


def test_dynamodb_throttling_is_503_with_retry_after(
    api: Api, customer: Customer, monkeypatch: Any
) -> None:
    """docs/api.md: 429/503 with Retry-After, never a 500, when AWS says slow down."""
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import GetError

    from chalicelib.store import tickets as store

    _, ticket = api.post(
        "/tickets",
        customer.key,
        {"title": "t", "description": "d", "kind": "incident", "priority": "high"},
    )

    def throttled(ticket_id: str) -> Any:
        cause = ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
            "GetItem",
        )
        raise GetError("throttled", cause=cause)

    monkeypatch.setattr(store, "get", throttled)
    response = api.client.http.get(
        f"/tickets/{ticket['id']}", headers={"Authorization": f"Bearer {customer.key}"}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert json.loads(response.body)["error"]["code"] == "temporarily_unavailable"


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "x"}),
        ("GET", "/keys", None),
        ("POST", "/keys", {"role": "customer", "contact": "a@b.example"}),
        ("DELETE", "/keys/key_x", None),
    ],
)
def test_a_tenant_id_over_dynamodbs_key_limit_is_404_not_echoed(
    api: Api, admin_key: str, method: str, suffix: str, body: Any
) -> None:
    """A path tenant id not of a tenant id's shape (here 3000 bytes, over DynamoDB's
    2048-byte key limit, which real DynamoDB answers with an error) is a 404 before
    any read, and the answer does not echo it."""
    huge = "a" * 3000
    status, answer = api.call(method, f"/admin/tenants/{huge}{suffix}", admin_key, body)
    assert_error(status, answer, 404, "tenant_not_found")
    assert huge not in json.dumps(answer)
