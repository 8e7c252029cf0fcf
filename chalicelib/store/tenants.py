"""Tenants and API keys."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.errors import Conflict, TenantNotFound
from chalicelib.store import raw
from chalicelib.store.models import ApiKeyItem, TenantItem, plain
from chalicelib.store.pages import decode_cursor, index_page


def _conditional_failed(e: PutError) -> bool:
    return e.cause_response_code == "ConditionalCheckFailedException"


CUSTOMERS = "CUSTOMERS"  # the sparse `customers` index's one partition
# A tenant's kind: the provider's own tenant (agent and admin keys), or a customer.
PROVIDER_TENANT, CUSTOMER_TENANT = "provider", "customer"


def is_customer(item: TenantItem | None) -> bool:
    """The one test of "is this a customer tenant" (the provider's is not one)."""
    return item is not None and item.kind == CUSTOMER_TENANT


def doc_of(item: TenantItem) -> dict[str, Any]:
    """The tenant's document (docs/api.md, Tenant) as plain JSON."""
    doc: dict[str, Any] = plain(item.doc)
    return doc


def customer_ids(starting_at: str | None = None) -> Iterator[str]:
    """Customer tenant ids in order, from `starting_at` on (a Query of the sparse
    `customers` index, paged as it is consumed)."""
    condition = TenantItem.tenant_id >= starting_at if starting_at is not None else None
    for item in TenantItem.customers.query(CUSTOMERS, condition):
        yield item.tenant_id


_CATALOG_PAGE_KEYS = {"pk", "sk", "catalog", "tenant_id"}


def list_customers(limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the customer tenants' documents, by id: one Query of the sparse
    `customers` index (`limit + 1` keys: the extra one says whether a next page
    exists), then one BatchGetItem of the page's documents."""
    start = decode_cursor(cursor, {"catalog": CUSTOMERS}, _CATALOG_PAGE_KEYS)
    page, next_cursor = index_page(
        TenantItem.customers, CUSTOMERS, limit, start, _CATALOG_PAGE_KEYS
    )
    docs = tenant_docs(item.tenant_id for item in page)
    return [docs[item.tenant_id] for item in page if item.tenant_id in docs], next_cursor


def get_tenant(tenant_id: str) -> TenantItem | None:
    try:
        return TenantItem.get(TenantItem.key(tenant_id), "TENANT")
    except DoesNotExist:
        return None


def tenant_docs(tenant_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The documents of these tenants that exist (one BatchGetItem per 100)."""
    keys = [(TenantItem.key(t), "TENANT") for t in sorted(set(tenant_ids))]
    if not keys:
        return {}
    return {item.tenant_id: plain(item.doc) for item in TenantItem.batch_get(keys)}


def get_customer(tenant_id: str) -> TenantItem | None:
    """The customer tenant of that id, or None (missing, or the provider's)."""
    item = get_tenant(tenant_id)
    return item if is_customer(item) else None


def customer_doc(tenant_id: str) -> dict[str, Any] | None:
    """The document of the customer tenant of that id (`doc_of`), or None (missing,
    or the provider's): `get_customer`'s one GetItem, its raw item mapped without
    the model (`store.raw`), for the requests that read the tenant only for it."""
    item = raw.get_item(TenantItem.key(tenant_id), "TENANT")
    if item is None or raw.text(item, "kind") != CUSTOMER_TENANT:
        return None
    doc: dict[str, Any] = raw.mapped(item, "doc")
    return doc


def listed_tenant_exists(tenant_id: str | None, page_empty: bool, first_page: bool) -> None:
    """A list filtered by tenant answers 404 for a tenant that is not a customer;
    only an empty first page reads the tenant (a page with items proves it exists)."""
    if tenant_id is not None and page_empty and first_page and get_customer(tenant_id) is None:
        raise TenantNotFound(tenant_id)


def create_tenant(tenant_id: str, kind: str, doc: dict[str, Any], now: str) -> bool:
    """Insert a tenant; False when the id is taken (conditional put)."""
    item = TenantItem(
        TenantItem.key(tenant_id),
        "TENANT",
        tenant_id=tenant_id,
        kind=kind,
        doc=doc,
        created_at=now,
        updated_at=now,
        catalog=CUSTOMERS if kind == CUSTOMER_TENANT else None,
    )
    try:
        item.save(condition=TenantItem.pk.does_not_exist())
    except PutError as e:
        if _conditional_failed(e):
            return False
        raise
    return True


def replace_tenant_doc(item: TenantItem, doc: dict[str, Any], now: str) -> None:
    """Store a changed document, only if nobody changed it since it was read
    (Conflict otherwise)."""
    previous = item.updated_at
    item.doc = doc
    item.updated_at = now
    try:
        item.save(condition=TenantItem.updated_at == previous)
    except PutError as e:
        if _conditional_failed(e):
            raise Conflict("the tenant changed meanwhile; retry", code="concurrent_update") from e
        raise


def get_key(key_hash: str) -> ApiKeyItem | None:
    """The key's item, read consistently: what a cache miss reads must already see
    a revocation, or a stale read could cache a revoked key again."""
    try:
        return ApiKeyItem.get(ApiKeyItem.key(key_hash), "KEY", consistent_read=True)
    except DoesNotExist:
        return None


def put_key(
    key_hash: str, key_id: str, tenant_id: str, role: str, contact: str | None, now: str
) -> None:
    ApiKeyItem(
        ApiKeyItem.key(key_hash),
        "KEY",
        key_id=key_id,
        tenant_id=tenant_id,
        role=role,
        contact=contact,
        created_at=now,
    ).save(condition=ApiKeyItem.pk.does_not_exist())


_KEY_PAGE_KEYS = {"pk", "sk", "tenant_id", "key_id"}


def list_keys(
    tenant_id: str, limit: int, cursor: str | None
) -> tuple[list[ApiKeyItem], str | None]:
    """A page of a tenant's keys in issue order: one Query of the sparse
    keys_by_tenant index (`limit + 1`: the extra one says whether a next page exists)."""
    start = decode_cursor(cursor, {"tenant_id": tenant_id}, _KEY_PAGE_KEYS)
    return index_page(ApiKeyItem.by_tenant, tenant_id, limit, start, _KEY_PAGE_KEYS)


def find_key(tenant_id: str, key_id: str) -> ApiKeyItem | None:
    """A tenant's key by its id (one Query of the keys_by_tenant index)."""
    for item in ApiKeyItem.by_tenant.query(tenant_id, ApiKeyItem.key_id == key_id, limit=1):
        return item
    return None


def revoke_key(item: ApiKeyItem, now: str) -> None:
    """Mark a key revoked (once: a second revocation keeps the first instant)."""
    try:
        item.update(
            actions=[ApiKeyItem.revoked_at.set(now)],
            condition=ApiKeyItem.pk.exists() & ApiKeyItem.revoked_at.does_not_exist(),
        )
    except UpdateError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise
