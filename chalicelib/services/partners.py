"""Partner helpdesks: registration and secret rotation (docs/api.md, Webhooks).

A secret is shown once, in the answer that issued it; it is stored only as KMS
ciphertext on the partner item (`store.partners`) and never logged. Rotation
makes the new secret valid at once and the previous one for 24 more hours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from ulid import ULID

from chalicelib.domain.instants import format_instant, parse_instant
from chalicelib.errors import BadRequest, Conflict, NotFound, RuleRefused
from chalicelib.store import partners as store
from chalicelib.store import policies
from chalicelib.store import tenants as tenant_store
from chalicelib.webhooks import FORMATS

ROTATION_GRACE = timedelta(hours=24)
# The priorities the formats' default maps land on (docs/api.md, Webhooks).
DEFAULT_TARGETS = frozenset({"blocker", "high", "medium", "low"})
# The kind a native payload opens, first one the tenant's policy knows.
NATIVE_KINDS = ("incident", "query")


# The shape of a partner id (PartnerBody.id): anything else is not looked up.
PARTNER_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


class PartnerNotFound(NotFound):
    def __init__(self, partner_id: str) -> None:
        super().__init__(f"partner {partner_id[:64]} not found", code="partner_not_found")


def _stored(partner_id: str) -> store.Partner:
    partner = store.get_partner(partner_id) if PARTNER_ID.fullmatch(partner_id) else None
    if partner is None:
        raise PartnerNotFound(partner_id)
    return partner


def _policy_of(tenant_id: str) -> Any:
    tenant = tenant_store.get_customer(tenant_id)
    if tenant is None:
        raise BadRequest("no such customer tenant", {"tenant_id": f"unknown tenant {tenant_id!r}"})
    policy_id = tenant_store.doc_of(tenant)["policy"]
    policy = policies.find(policy_id)
    if policy is None:
        raise BadRequest("the tenant's policy does not exist", {"tenant_id": policy_id})
    return policy


def _priority_map(
    format_: str, given: Mapping[str, str] | None, priorities: set[str]
) -> dict[str, str]:
    """The partner -> policy priority map to store (keys in lower case: partner
    values match case-insensitively). 422 when a value is not the policy's, or
    when a native format's defaults do not fit the policy and no map was given."""
    mapping: dict[str, str] = {}
    fields: dict[str, str] = {}
    for key, value in (given or {}).items():
        low = key.strip().lower()
        if low in mapping and mapping[low] != value:
            raise BadRequest(
                "priority_map names one partner value twice", {f"priority_map.{key}": "duplicate"}
            )
        mapping[low] = value
        if value not in priorities:
            fields[f"priority_map.{key}"] = f"not a priority of the policy: {sorted(priorities)}"
    if fields:
        raise RuleRefused("priority_map names priorities the policy lacks", fields)
    defaults = FORMATS[format_].DEFAULT_PRIORITIES
    if defaults and not given and not set(defaults.values()) <= priorities:
        raise RuleRefused(
            f"the tenant's policy uses other priorities ({', '.join(sorted(priorities))}): "
            "a priority_map is required",
            {"priority_map": "required for this tenant's policy"},
            code="priority_map_required",
        )
    return mapping


def _new_secret(
    partner_id: str, format_: str, secret: str | None, now: datetime
) -> tuple[str, store.StoredSecret]:
    adapter = FORMATS[format_]
    clear = secret if secret is not None else adapter.new_secret()
    problem = adapter.secret_problem(clear)
    if problem is not None:
        raise BadRequest("the secret is not usable", {"secret": problem})
    stored = store.StoredSecret(
        secret_id=f"sec_{ULID()}",
        ciphertext=store.encrypt_secret(partner_id, clear),
        created_at=format_instant(now),
        valid_until=None,
    )
    return clear, stored


def register(
    partner_id: str,
    tenant_id: str,
    format_: str,
    priority_map: Mapping[str, str] | None,
    now: datetime,
    *,
    secret: str | None = None,
    default_kind: str | None = None,
) -> dict[str, Any]:
    """POST /admin/partners: the partner, with its secret shown this once."""
    policy = _policy_of(tenant_id)
    priorities = {p for kind in policy.kinds.values() for p in kind.priorities}
    mapping = _priority_map(format_, priority_map, priorities)
    if default_kind is None:
        default_kind = next(
            (k for k in NATIVE_KINDS if k in policy.kinds), next(iter(policy.kinds))
        )
    elif default_kind not in policy.kinds:
        raise RuleRefused(
            "default_kind is not a kind of the tenant's policy",
            {"default_kind": f"one of {sorted(policy.kinds)}"},
        )
    clear, stored = _new_secret(partner_id, format_, secret, now)
    at = format_instant(now)
    partner = store.Partner(
        id=partner_id,
        tenant_id=tenant_id,
        format=format_,
        priority_map=mapping,
        default_kind=default_kind,
        secrets=(stored,),
        created_at=at,
        updated_at=at,
    )
    if not store.create_partner(partner):
        raise Conflict(f"partner {partner_id} already exists", code="partner_exists")
    return {
        "id": partner_id,
        "format": format_,
        "secret": clear,
        "tenant_id": tenant_id,
        "priority_map": mapping,
        "default_kind": default_kind,
    }


def rotate(partner_id: str, now: datetime, *, secret: str | None = None) -> dict[str, Any]:
    """POST /admin/partners/{id}/secrets: a new secret, valid at once; the current
    one stays valid for ROTATION_GRACE (an older previous one ends now)."""
    partner = _stored(partner_id)
    clear, stored = _new_secret(partner_id, partner.format, secret, now)
    until = format_instant(now + ROTATION_GRACE)
    previous = [replace(s, valid_until=until) for s in partner.secrets if s.valid_until is None]
    changed = replace(partner, secrets=(stored, *previous), updated_at=format_instant(now))
    if not store.replace_partner(changed):
        raise Conflict("the partner changed meanwhile; retry", code="concurrent_update")
    return {"secret": clear, "previous_valid_until": until if previous else None}


def valid_secrets(partner: store.Partner, now: datetime) -> list[str]:
    """The clear secrets that verify a delivery at `now` (current first)."""
    live = [
        s for s in partner.secrets if s.valid_until is None or parse_instant(s.valid_until) > now
    ]
    return [store.decrypt_secret(partner.id, s.ciphertext) for s in live]


def get(partner_id: str) -> store.Partner:
    """The partner of that id (404 when there is none, or the id is not one)."""
    return _stored(partner_id)


def view(partner: store.Partner) -> dict[str, Any]:
    """A partner as admins list it: never a secret, nor its ciphertext. A rotation
    leaves the previous secret with an end (`valid_until`): `secret_rotated_at` is
    then when the current one was issued, else null."""
    current = next((s for s in partner.secrets if s.valid_until is None), None)
    rotated = any(s.valid_until is not None for s in partner.secrets)
    return {
        "id": partner.id,
        "tenant_id": partner.tenant_id,
        "format": partner.format,
        "priority_map": partner.priority_map,
        "default_kind": partner.default_kind,
        "created_at": partner.created_at,
        "secret_rotated_at": current.created_at if rotated and current is not None else None,
    }


def describe(partner_id: str) -> dict[str, Any]:
    """GET /admin/partners/{partner_id} (404 when unknown)."""
    return view(_stored(partner_id))


def list_partners(tenant_id: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """GET /admin/partners: a page of the partners, by tenant (one tenant's when
    named; an empty first page of a tenant that is not a customer is a 404)."""
    partners, next_cursor = store.list_partners(tenant_id, limit, cursor)
    tenant_store.listed_tenant_exists(tenant_id, not partners, cursor is None)
    return {"items": [view(p) for p in partners], "next_cursor": next_cursor}
