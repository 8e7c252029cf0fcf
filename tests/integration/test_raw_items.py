"""The reads a partner's delivery makes map raw items (DynamoDB JSON, `store.raw`)
without a PynamoDB model: the partner, its link and delivery entries, the
customer tenant and a stored policy's version. Each reads back what the model of
the same item reads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib.store import partners, policies, raw, tenants
from chalicelib.store.models import PartnerItem, PolicyItem, TenantItem
from tests.integration.helpers import EVERY_KIND, Api

NOW = "2026-12-06T20:00:00Z"
# A document with a value of every kind a map holds.
DOC: dict[str, Any] = {"id": "t-raw", "name": "Acme SA", "policy": "aivo", **EVERY_KIND}


def _register(api: Api, admin_key: str, tenant_id: str, fmt: str) -> str:
    partner_id = f"p-raw-{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {"id": partner_id, "tenant_id": tenant_id, "format": fmt}
    if fmt == "generic":
        body["priority_map"] = {"P1": "blocker", "urgent": "high"}
    status, answer = api.post("/admin/partners", admin_key, body)
    assert status == 201, answer
    return partner_id


def test_a_partner_reads_from_its_raw_item_as_from_its_model(
    api: Api, admin_key: str, new_customer: Any
) -> None:
    customer = new_customer()
    for fmt in ("generic", "jira"):
        partner_id = _register(api, admin_key, customer.tenant_id, fmt)
        # a rotation leaves two secrets, the previous one with an end
        status, body = api.post(f"/admin/partners/{partner_id}/secrets", admin_key)
        assert status == 201, body
        model = PartnerItem.get(PartnerItem.key(partner_id), partners.PARTNER_SK)
        found = partners.get_partner(partner_id)
        assert found == partners._from_item(model)
        assert found is not None
        assert len(found.secrets) == 2
        assert found.version == 2
        assert {s.valid_until is None for s in found.secrets} == {True, False}
    assert partners.get_partner("p-raw-none") is None


def test_a_link_and_a_delivery_read_from_their_raw_items_as_from_their_models() -> None:
    partner_id = f"p-raw-{uuid.uuid4().hex[:8]}"
    seen = {"priority": "2026-12-06T20:00:00.123456+00:00", "status": NOW}
    link = partners.Link(partner_id, "HD-1", "tkt_1", "t-1", seen, NOW)
    later = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
    opened = partners.Delivery("msg_1", "tkt_1", "ticket.created", later)
    unused = partners.Delivery("msg_2", None, "ticket.merged", later)  # no ticket
    for model, _ in (
        partners.link_write(link, NOW, new=True),
        partners.delivery_write(partner_id, opened, NOW, 0),
        partners.delivery_write(partner_id, unused, NOW, 0),
    ):
        model.save()
    assert partners.lookup(partner_id, "HD-1", "msg_1") == (link, opened)
    assert partners.lookup(partner_id, "HD-2", "msg_2") == (None, unused)
    assert partners.lookup(partner_id, "HD-3", "msg_3") == (None, None)


def test_a_customer_tenants_document_reads_from_its_raw_item_as_from_its_model() -> None:
    """(Its tenants, whose documents are no tenant the API would store, are removed
    after: the session's table serves the admin's tenant list to other tests.)"""
    customer, provider = f"t-{uuid.uuid4().hex[:10]}", f"t-{uuid.uuid4().hex[:10]}"
    assert tenants.create_tenant(customer, tenants.CUSTOMER_TENANT, DOC, NOW)
    assert tenants.create_tenant(provider, tenants.PROVIDER_TENANT, DOC, NOW)
    try:
        _read_back(customer, provider)
    finally:
        for tenant_id in (customer, provider):
            for item in TenantItem.query(TenantItem.key(tenant_id)):
                item.delete()


def _read_back(customer: str, provider: str) -> None:
    item = tenants.get_customer(customer)
    assert item is not None
    assert tenants.customer_doc(customer) == tenants.doc_of(item) == DOC
    assert tenants.get_customer(provider) is None
    assert tenants.customer_doc(provider) is None
    assert tenants.customer_doc("t-none") is None
    # the raw item is what the model writes (the read's own form)
    stored = raw.get_item(TenantItem.key(customer), "TENANT")
    assert stored is not None
    assert TenantItem.from_raw_data(stored).serialize() == stored


def test_a_stored_policys_version_reads_from_its_raw_item_as_from_its_model(
    api: Api, admin_key: str
) -> None:
    status, doc = api.get("/admin/policies/aivo", admin_key)
    assert status == 200, doc
    policy_id = f"raw-{uuid.uuid4().hex[:8]}"
    status, body = api.put(f"/admin/policies/{policy_id}", admin_key, {**doc, "id": policy_id})
    assert status == 200, body
    model = PolicyItem.get(PolicyItem.key(policy_id), policies.POLICY_SK)
    head = raw.get_item(
        PolicyItem.key(policy_id), policies.POLICY_SK, attributes=("version", "updated_at")
    )
    assert head is not None
    assert set(head) == {"version", "updated_at"}
    assert (raw.number(head, "version"), raw.text(head, "updated_at")) == (
        model.version,
        model.updated_at,
    )
    # parsed when its PUT stored it: `find` reads its version alone, and it matches
    found = policies.find(policy_id)
    assert found is not None
    assert found.version == model.version == 1
