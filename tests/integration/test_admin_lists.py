"""What admins list (docs/queue.md, What admins list): the customer tenants and the
partner helpdesks, over the API and from the CLI; never a secret, never a Scan."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.integration.helpers import Api, Customer, assert_error


def every_page(api: Api, key: str, path: str, limit: int) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    separator = "&" if "?" in path else "?"
    while True:
        query = f"{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        status, page = api.get(path + query, key)
        assert status == 200, page
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def register(api: Api, admin_key: str, tenant_id: str, fmt: str = "generic") -> dict[str, Any]:
    partner_id = f"p-list-{uuid.uuid4().hex[:8]}"
    body = {"id": partner_id, "tenant_id": tenant_id, "format": fmt}
    status, issued = api.post("/admin/partners", admin_key, body)
    assert status == 201, issued
    return dict(issued)


def test_every_customer_tenant_once_by_id(api: Api, admin_key: str, new_customer: Any) -> None:
    made = {new_customer(tier="premium").tenant_id, new_customer().tenant_id}
    tenants = every_page(api, admin_key, "/admin/tenants", 3)
    ids = [t["id"] for t in tenants]
    assert ids == sorted(set(ids))  # by id, each once
    assert made <= set(ids)
    assert "provider" not in ids  # the provider's own tenant is not a customer
    (premium,) = [t for t in tenants if t["id"] in made and t.get("tier") == "premium"]
    status, one = api.get(f"/admin/tenants/{premium['id']}", admin_key)
    assert (status, one) == (200, premium)  # the same Tenant object GET answers


def test_only_admins_list_and_a_foreign_cursor_is_400(
    api: Api, agent_key: str, customer: Customer, admin_key: str
) -> None:
    for path in ("/admin/tenants", "/admin/partners", "/admin/partners/any"):
        for key in (agent_key, customer.key):
            status, body = api.get(path, key)
            assert_error(status, body, 403)
    status, page = api.get("/tickets?limit=1", customer.key)
    assert status == 200, page
    api.post("/tickets", customer.key, {"title": "a", "description": "b", "kind": "query"})
    api.post("/tickets", customer.key, {"title": "a", "description": "b", "kind": "query"})
    _, page = api.get("/tickets?limit=1", customer.key)
    status, body = api.get(f"/admin/tenants?cursor={page['next_cursor']}", admin_key)
    assert_error(status, body, 400)


def test_partners_by_tenant_never_a_secret_and_when_the_secret_was_rotated(
    api: Api, admin_key: str, new_customer: Any
) -> None:
    tenant = new_customer()
    first = register(api, admin_key, tenant.tenant_id)
    second = register(api, admin_key, tenant.tenant_id, "zendesk")
    status, rotated = api.post(f"/admin/partners/{second['id']}/secrets", admin_key)
    assert status == 201, rotated
    listed = every_page(api, admin_key, f"/admin/partners?tenant_id={tenant.tenant_id}", 1)
    assert sorted(p["id"] for p in listed) == sorted([first["id"], second["id"]])
    by_id = {p["id"]: p for p in listed}
    assert by_id[first["id"]] == {
        "id": first["id"],
        "tenant_id": tenant.tenant_id,
        "format": "generic",
        "priority_map": {},
        "default_kind": "incident",
        "created_at": by_id[first["id"]]["created_at"],
        "secret_rotated_at": None,
    }
    assert by_id[second["id"]]["secret_rotated_at"] is not None
    assert by_id[second["id"]]["secret_rotated_at"] >= by_id[second["id"]]["created_at"]
    status, one = api.get(f"/admin/partners/{second['id']}", admin_key)
    assert (status, one) == (200, by_id[second["id"]])
    everyone = every_page(api, admin_key, "/admin/partners", 50)
    assert {first["id"], second["id"]} <= {p["id"] for p in everyone}
    keys = [(p["tenant_id"], p["id"]) for p in everyone]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)  # by tenant
    text = json.dumps([listed, everyone, one])
    for secret in (first["secret"], second["secret"], rotated["secret"]):
        assert secret not in text
    assert "ciphertext" not in text
    assert "secret_id" not in text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/admin/partners/no-such-partner", 404),
        ("/admin/partners/" + "x" * 300, 404),
        ("/admin/partners?tenant_id=no-such-tenant", 404),
        ("/admin/partners?tenant_id=Bad%20Id", 400),
        ("/admin/tenants?limit=0", 400),
        ("/admin/tenants?cursor=garbage", 400),
    ],
)
def test_unknown_or_bad_is_404_or_400(api: Api, admin_key: str, path: str, status: int) -> None:
    got, body = api.get(path, admin_key)
    assert_error(got, body, status)


def test_a_customer_without_partners_lists_none(
    api: Api, admin_key: str, customer: Customer
) -> None:
    status, page = api.get(f"/admin/partners?tenant_id={customer.tenant_id}", admin_key)
    assert (status, page) == (200, {"items": [], "next_cursor": None})


def test_the_cli_lists_tenants_and_partners_for_a_person_and_for_a_script(
    api: Api, admin_key: str, new_customer: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib.cli import main

    tenant = new_customer(tier="premium")
    partner = register(api, admin_key, tenant.tenant_id)
    capsys.readouterr()
    assert main(["list-tenants"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"{tenant.tenant_id}\tAcme SA\tpolicy aivo\ttier premium" in lines
    assert main(["list-tenants", "--json"]) == 0
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["id"] for d in docs] == [line.split("\t")[0] for line in lines]
    assert main(["list-partners", "--tenant-id", tenant.tenant_id]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{partner['id']}\ttenant {tenant.tenant_id}\tformat generic\tsince ")
    assert main(["list-partners", "--tenant-id", tenant.tenant_id, "--json"]) == 0
    (doc,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert doc["id"] == partner["id"]
    assert doc["secret_rotated_at"] is None
    assert partner["secret"] not in json.dumps(doc)
    assert main(["list-partners", "--tenant-id", "no-such-tenant"]) == 1
    assert "not found" in capsys.readouterr().err
