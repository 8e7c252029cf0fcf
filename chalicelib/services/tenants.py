"""Use cases of the provider's admins: customers (tenants) and their keys."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from ulid import ULID

from chalicelib.commands import TENANT_ID_PATTERN, TenantBody, validate_json
from chalicelib.domain.calendar import CalendarSpec
from chalicelib.domain.errors import IntakeError, validation_fields
from chalicelib.domain.instants import format_instant
from chalicelib.domain.terms import TenantTerms, calendar_for
from chalicelib.errors import BadRequest, Conflict, NotFound, RuleRefused, TenantNotFound
from chalicelib.services import auth, retarget
from chalicelib.store import policies
from chalicelib.store import tenants as store
from chalicelib.store.tenants import CUSTOMER_TENANT, PROVIDER_TENANT


def _check_references(tenant: TenantBody) -> None:
    """What pydantic cannot know: the policy exists and, merged with the tenant's
    overrides, gives a real calendar (E2). Names every bad field at once."""
    fields: dict[str, str] = {}
    policy = policies.find(tenant.policy)
    if policy is None:
        fields["policy"] = f"unknown policy {tenant.policy!r}"
    try:
        terms = TenantTerms.from_tenant_doc(_doc(tenant))
        if policy is not None:
            calendar_for(policy, terms)
        elif terms.calendar is not None:  # still name the calendar's own errors
            CalendarSpec.model_validate(
                {
                    "hours": {"mon": [("09:00", "18:00")]},
                    **terms.calendar.model_dump(exclude_none=True),
                }
            )
    except IntakeError as e:
        fields.update(e.fields)
    except ValidationError as e:
        fields.update(validation_fields(e, "calendar."))
    if fields:
        raise BadRequest("the tenant has invalid fields", fields, code="invalid_request")


def _doc(tenant: TenantBody) -> dict[str, Any]:
    return tenant.model_dump(mode="json")


def create_tenant(tenant: TenantBody, now: datetime) -> dict[str, Any]:
    _check_references(tenant)
    doc = _doc(tenant)
    if not store.create_tenant(tenant.id, CUSTOMER_TENANT, doc, format_instant(now)):
        raise Conflict(f"tenant {tenant.id} already exists", code="tenant_exists")
    return doc


def _tenant_id(tenant_id: str) -> str:
    """A path's tenant id, if it has the shape of one (TenantId); else 404 before
    any read (DynamoDB refuses keys over 2048 bytes) and without echoing it."""
    if not re.fullmatch(TENANT_ID_PATTERN, tenant_id):
        raise NotFound("tenant not found (not a tenant id)", code="tenant_not_found")
    return tenant_id


def get_tenant(tenant_id: str) -> dict[str, Any]:
    item = store.get_customer(_tenant_id(tenant_id))
    if item is None:
        raise TenantNotFound(tenant_id)
    return store.doc_of(item)


def list_tenants(limit: int, cursor: str | None) -> dict[str, Any]:
    """GET /admin/tenants: a page of the customer tenants, by id."""
    docs, next_cursor = store.list_customers(limit, cursor)
    return {"items": docs, "next_cursor": next_cursor}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def patch_tenant(tenant_id: str, patch: dict[str, Any], now: datetime) -> dict[str, Any]:
    item = store.get_customer(_tenant_id(tenant_id))
    if item is None:
        raise TenantNotFound(tenant_id)
    if "id" in patch and patch["id"] != tenant_id:
        raise BadRequest("a tenant's id cannot change", {"id": "cannot change"})
    before = store.doc_of(item)
    merged = merge_patch(before, patch)
    try:
        # strictly, as JSON (as every body is): `"active": "yes"` is no boolean
        tenant = validate_json(TenantBody, merged)
    except ValidationError as e:
        raise BadRequest("the patched tenant is invalid", validation_fields(e)) from e
    _check_references(tenant)
    doc = _doc(tenant)
    store.replace_tenant_doc(item, doc, format_instant(now))  # Conflict if it moved on
    retarget.after_tenant_change(tenant_id, before, doc, now)  # E7/E9: its open tickets
    return doc


def issue_key(tenant_id: str, role: str, contact: str | None, now: datetime) -> dict[str, Any]:
    """Issue an API key; the clear key is returned here and never again."""
    item = store.get_tenant(_tenant_id(tenant_id))
    if item is None:
        raise TenantNotFound(tenant_id)
    if role in auth.PROVIDER_ROLES and store.is_customer(item):
        raise RuleRefused(
            f"{role} keys belong to the provider's tenant, not to a customer",
            {"role": "agent and admin keys are issued on the provider tenant only"},
            code="role_not_allowed_for_tenant",
        )
    if role == "customer" and not store.is_customer(item):
        raise RuleRefused(
            "customer keys belong to a customer tenant",
            {"role": "customer keys are issued on customer tenants only"},
            code="role_not_allowed_for_tenant",
        )
    clear = auth.new_clear_key()
    key_id = f"key_{ULID()}"
    store.put_key(auth.hash_key(clear), key_id, tenant_id, role, contact, format_instant(now))
    return {"key_id": key_id, "api_key": clear, "tenant_id": tenant_id, "role": role}


def _key_view(item: Any) -> dict[str, Any]:
    """A key as the list shows it: never the clear key, never its hash."""
    return {
        "key_id": item.key_id,
        "role": item.role,
        "contact": item.contact,
        "created_at": item.created_at,
        "revoked_at": item.revoked_at,
    }


def list_keys(tenant_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    if store.get_tenant(_tenant_id(tenant_id)) is None:
        raise TenantNotFound(tenant_id)
    items, next_cursor = store.list_keys(tenant_id, limit, cursor)
    return {"items": [_key_view(item) for item in items], "next_cursor": next_cursor}


def revoke_key(tenant_id: str, key_id: str, now: datetime) -> None:
    """Revoke a key: it answers 401 at once here, within KEY_CACHE_SECONDS on every
    other warm container. Revoking it again is no error (the first instant stays)."""
    item = store.find_key(_tenant_id(tenant_id), key_id) if len(key_id) <= 64 else None
    if item is None:
        raise NotFound(f"key {key_id} not found on tenant {tenant_id}", code="key_not_found")
    store.revoke_key(item, format_instant(now))
    auth.forget(item.pk.removeprefix("KEY#"))


def ensure_provider(tenant_id: str, name: str, now: datetime) -> None:
    """Create the provider's own tenant if it is missing (bootstrap, idempotent)."""
    if not re.fullmatch(TENANT_ID_PATTERN, tenant_id):
        raise BadRequest(f"a tenant id must match {TENANT_ID_PATTERN}", {"tenant_id": "invalid"})
    doc = {"id": tenant_id, "name": name, "policy": None}
    store.create_tenant(tenant_id, PROVIDER_TENANT, doc, format_instant(now))
