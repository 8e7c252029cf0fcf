"""Hostile but small inputs are client errors, never 500s."""

from __future__ import annotations

import copy
from typing import Any

from tests.integration.conftest import Api, Customer


def test_deeply_nested_json_is_400(api: Api, customer: Customer) -> None:
    raw = "[" * 100_000 + "]" * 100_000
    status, body = api.call("POST", "/tickets", customer.key, raw=raw)
    assert status in (400, 413), body
    assert "error" in body


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
