"""API keys (issue 9): no clear key at rest, list and revoke, and the warm-container
key cache (docs/api.md: a revoked key answers 401 within 60 seconds)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from chalicelib.services import auth
from tests.integration.helpers import INCIDENT, Api, Customer


def issue(api: Api, admin_key: str, tenant_id: str, **headers: str) -> tuple[int, Any, Any]:
    response = api.client.http.post(
        f"/admin/tenants/{tenant_id}/keys",
        headers={
            "Authorization": f"Bearer {admin_key}",
            "Content-Type": "application/json",
            **headers,
        },
        body=json.dumps({"role": "customer", "contact": "bo@acme.example"}).encode(),
    )
    return response.status_code, json.loads(response.body), response.headers


def scan(table_name: str) -> str:
    from chalicelib import aws

    pages = aws.client("dynamodb").get_paginator("scan").paginate(TableName=table_name)
    return json.dumps([item for page in pages for item in page["Items"]])


# --- 2. no clear secret at rest -----------------------------------------------------


def test_a_key_issued_with_an_idempotency_key_is_stored_nowhere_in_clear(
    api: Api, admin_key: str, customer: Customer
) -> None:
    """The idempotency record keeps the answer without the clear key; a replay
    answers 201 with the same key_id and `api_key: null` (docs/walkthrough.md, API keys)."""
    from chalicelib.settings import get_settings

    settings = get_settings()
    status, first, headers = issue(api, admin_key, customer.tenant_id, **{"Idempotency-Key": "k1"})
    assert status == 201, first
    clear = first["api_key"]
    assert clear.startswith("sgk_")
    assert headers["Cache-Control"] == "no-store"
    assert clear not in scan(settings.idempotency_table_name)
    assert clear not in scan(settings.table_name)
    assert auth.hash_key(clear) in scan(settings.table_name)  # stored hashed, as it should

    status, again, headers = issue(api, admin_key, customer.tenant_id, **{"Idempotency-Key": "k1"})
    assert status == 201, again
    assert again == {**first, "api_key": None}
    assert headers["Cache-Control"] == "no-store"
    assert api.get("/tickets", clear)[0] == 200  # the first answer's key works
    _, page = api.get(f"/admin/tenants/{customer.tenant_id}/keys", admin_key)
    assert [k["key_id"] for k in page["items"]].count(first["key_id"]) == 1  # issued once


# --- 6. list and revoke ----------------------------------------------------------------


def test_a_tenants_keys_are_listed_without_secrets_and_paged(
    api: Api, admin_key: str, customer: Customer, aws_calls: Counter[str]
) -> None:
    issued = [issue(api, admin_key, customer.tenant_id)[1] for _ in range(3)]
    aws_calls.clear()
    status, page = api.get(f"/admin/tenants/{customer.tenant_id}/keys?limit=2", admin_key)
    assert status == 200, page
    assert "Scan" not in aws_calls
    assert aws_calls["Query"] == 1
    listed = page["items"]
    while page["next_cursor"] is not None:
        _, page = api.get(
            f"/admin/tenants/{customer.tenant_id}/keys?limit=2&cursor={page['next_cursor']}",
            admin_key,
        )
        listed += page["items"]
    assert len(listed) == 4  # the fixture's key and these three, in issue order
    assert [k["key_id"] for k in listed[1:]] == [k["key_id"] for k in issued]
    for key in listed:
        assert set(key) == {"key_id", "role", "contact", "created_at", "revoked_at"}
        assert key["role"] == "customer"
        assert key["revoked_at"] is None
    text = json.dumps(listed)
    for k in issued:
        assert k["api_key"] not in text
        assert auth.hash_key(k["api_key"]) not in text
    status, body = api.get("/admin/tenants/no-such-tenant/keys", admin_key)
    assert status == 404, body
    status, body = api.get(f"/admin/tenants/{customer.tenant_id}/keys", customer.key)
    assert status == 403, body


def test_a_revoked_key_answers_401_and_is_listed_revoked(
    api: Api, admin_key: str, customer: Customer
) -> None:
    _, key, _ = issue(api, admin_key, customer.tenant_id)
    assert api.get("/tickets", key["api_key"])[0] == 200  # warm: now in the cache
    path = f"/admin/tenants/{customer.tenant_id}/keys/{key['key_id']}"
    response = api.client.http.delete(path, headers={"Authorization": f"Bearer {admin_key}"})
    assert response.status_code == 204
    assert response.body == b""
    status, body = api.get("/tickets", key["api_key"])
    assert status == 401, body
    assert body["error"]["code"] == "key_revoked"
    assert api.get("/tickets", customer.key)[0] == 200  # the tenant's other key still works
    _, page = api.get(f"/admin/tenants/{customer.tenant_id}/keys", admin_key)
    (revoked,) = [k for k in page["items"] if k["key_id"] == key["key_id"]]
    assert revoked["revoked_at"] is not None
    again = api.client.http.delete(path, headers={"Authorization": f"Bearer {admin_key}"})
    assert again.status_code == 204  # revoking twice is no error; the first instant stays
    _, page = api.get(f"/admin/tenants/{customer.tenant_id}/keys", admin_key)
    assert [k for k in page["items"] if k["key_id"] == key["key_id"]] == [revoked]


@pytest.mark.parametrize("key_id", ["key_01NOSUCHKEY0000000000000000", "x" * 300])
def test_revoking_an_unknown_key_is_404(
    api: Api, admin_key: str, customer: Customer, key_id: str
) -> None:
    response = api.client.http.delete(
        f"/admin/tenants/{customer.tenant_id}/keys/{key_id}",
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert response.status_code == 404
    assert json.loads(response.body)["error"]["code"] == "key_not_found"


def test_another_tenants_key_id_is_404(api: Api, admin_key: str, new_customer: Any) -> None:
    mine, theirs = new_customer(), new_customer()
    _, key, _ = issue(api, admin_key, theirs.tenant_id)
    response = api.client.http.delete(
        f"/admin/tenants/{mine.tenant_id}/keys/{key['key_id']}",
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert response.status_code == 404
    assert api.get("/tickets", key["api_key"])[0] == 200


def test_a_key_revoked_elsewhere_answers_401_once_the_cache_expires(
    api: Api, admin_key: str, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another container revoked it (the item changed, this cache did not hear of
    it): this container still takes it until KEY_CACHE_SECONDS (< 60) have passed."""
    from chalicelib.store import tenants as store

    now = [1_000_000.0]
    monkeypatch.setattr(auth, "clock", lambda: now[0])
    _, key, _ = issue(api, admin_key, customer.tenant_id)
    assert api.get("/tickets", key["api_key"])[0] == 200
    item = store.find_key(customer.tenant_id, key["key_id"])
    assert item is not None
    store.revoke_key(item, "2026-12-01T00:00:00Z")  # not through this container's route
    assert api.get("/tickets", key["api_key"])[0] == 200  # cached here, for now
    now[0] += auth.KEY_CACHE_SECONDS + 1
    assert auth.KEY_CACHE_SECONDS + 1 <= 60
    assert api.get("/tickets", key["api_key"])[0] == 401


def test_a_warm_container_reads_a_ticket_in_one_dynamodb_call(
    api: Api, customer: Customer, aws_calls: Counter[str]
) -> None:
    """GET /tickets/{id}: 2 calls cold (the key, the ticket), 1 warm (the ticket)."""
    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    auth.forget(auth.hash_key(customer.key))  # as on a cold container
    aws_calls.clear()
    api.get(f"/tickets/{ticket['id']}", customer.key)
    assert dict(aws_calls) == {"GetItem": 2}, aws_calls
    aws_calls.clear()
    api.get(f"/tickets/{ticket['id']}", customer.key)
    assert dict(aws_calls) == {"GetItem": 1}, aws_calls


def test_a_cache_miss_reads_the_key_consistently(
    api: Api, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revoking container drops the key from its cache; the next request's read
    of it must be consistent, or a stale read (from before the revocation) could
    cache the revoked key again for KEY_CACHE_SECONDS."""
    import botocore.client

    reads: list[dict[str, Any]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: Any) -> Any:
        if operation == "GetItem" and params["Key"]["pk"]["S"].startswith("KEY#"):
            reads.append(params)
        return original(self, operation, params)

    auth.forget(auth.hash_key(customer.key))
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    assert api.get("/tickets", customer.key)[0] == 200
    assert [r.get("ConsistentRead") for r in reads] == [True]
