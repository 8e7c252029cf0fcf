"""One 400 naming every bad field (docs/api.md, Conventions; issue 11): opening a ticket
names the shape's errors and the policy's (K4, C2, A2) together, and a policy
document its shape and its cross-references together."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.helpers import INCIDENT, KEYBE_FAILURE, Api, Customer


def bad_fields(status: int, body: Any) -> dict[str, str]:
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request", body
    return dict(body["error"]["fields"])


def test_no_title_and_an_unknown_kind_are_named_together(api: Api, customer: Customer) -> None:
    body = {k: v for k, v in INCIDENT.items() if k != "title"}
    fields = bad_fields(*api.post("/tickets", customer.key, {**body, "kind": "rant"}))
    assert set(fields) == {"title", "kind"}
    assert fields["kind"].startswith("unknown kind 'rant'")
    fields = bad_fields(*api.post("/tickets", customer.key, {**body, "priority": "cosmic"}))
    assert set(fields) == {"title", "priority"}  # A2: the policy's priorities


def test_intake_fields_come_with_the_shape_errors(
    api: Api, new_customer: Any, agent_key: str
) -> None:
    brand = new_customer(policy="keybe", tier="premium")
    failure = {**KEYBE_FAILURE, "tenant_id": brand.tenant_id, "channel": "fax"}
    failure["fields"] = {k: v for k, v in KEYBE_FAILURE["fields"].items() if k != "evidence"}
    fields = bad_fields(*api.post("/tickets", agent_key, failure))
    assert set(fields) == {"channel", "fields.evidence"}  # K4
    assert fields["channel"].startswith("Input should be")  # the shape's message wins
    clever = new_customer(policy="clever_ideas")
    request = {
        "description": "x",
        "kind": "service_request",
        "fields": {"product": "ucontact", "action": "juggling"},
    }
    assert set(bad_fields(*api.post("/tickets", clever.key, request))) == {
        "title",
        "fields.action",  # C2
    }
    # `fields` itself of the wrong type: only the shape speaks about it.
    broken = {**request, "title": "t", "fields": ["product"]}
    assert set(bad_fields(*api.post("/tickets", clever.key, broken))) == {"fields"}


def test_without_a_tenant_to_read_only_the_shape_speaks(api: Api, agent_key: str) -> None:
    body = {k: v for k, v in INCIDENT.items() if k != "title"}
    fields = bad_fields(*api.post("/tickets", agent_key, {**body, "tenant_id": "t-nobody"}))
    assert set(fields) == {"title"}
    fields = bad_fields(*api.post("/tickets", agent_key, {**body, "kind": 7}))
    assert set(fields) == {"title", "kind"}


def test_a_policy_documents_shape_and_references_in_one_answer(api: Api, admin_key: str) -> None:
    status, doc = api.get("/admin/policies/digital_express", admin_key)
    assert status == 200, doc
    doc = {**json.loads(json.dumps(doc)), "id": "dx-one-answer"}
    doc["calendar"]["timezone"] = "Mars/Olympus"  # shape
    doc["target_rules"][0]["targets"][0]["clock"] = "lunar"  # shape
    doc["target_rules"][1]["when"]["priorities"] = ["cosmic"]  # reference
    doc["kinds"]["query"]["default_priority"] = "someday"  # reference
    doc["billing"]["ticket_fee"] = None  # reference: a fixed fee needs its amount (DX3)
    status, body = api.put("/admin/policies/dx-one-answer", admin_key, doc)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_policy"
    assert set(body["error"]["fields"]) == {
        "calendar.timezone",
        "target_rules.0.targets.0.clock",
        "target_rules.1.when.priorities",
        "kinds.query.default_priority",
        "billing.ticket_fee",
    }


def test_references_into_a_broken_part_are_not_judged(api: Api, admin_key: str) -> None:
    """A kind whose priorities are malformed: a rule naming a priority is neither
    right nor wrong yet, so only the kind is named."""
    status, doc = api.get("/admin/policies/digital_express", admin_key)
    assert status == 200, doc
    doc = {**json.loads(json.dumps(doc)), "id": "dx-one-answer-2"}
    doc["kinds"]["query"]["priorities"] = "urgent"
    doc["target_rules"][1]["when"]["priorities"] = ["cosmic"]
    doc["status_rules"].append({"when": {"channels": ["pigeon"]}, "status": "limbo"})
    status, body = api.put("/admin/policies/dx-one-answer-2", admin_key, doc)
    assert status == 400, body
    fields = body["error"]["fields"]
    assert "kinds.query.priorities" in fields
    assert "target_rules.1.when.priorities" not in fields
    assert "status_rules.1.status" in fields  # its own shape
    assert not any(k.startswith("status_rules.1.when") for k in fields)  # broken rule: shape only
